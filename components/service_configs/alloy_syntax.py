"""A small writer for Alloy's configuration syntax (blocks, attributes, literals, references).

Alloy's syntax is not YAML or HCL: building it from these types instead of string
templates keeps quoting right and lets tests parse the output back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

INDENT = "  "


@dataclass(frozen=True)
class Ref:
    """An expression written as-is, e.g. a component export `loki.write.default.receiver`."""

    expression: str


# Read-only views (covariant), so a list[dict[str, str]] is a Value as it stands.
Value = Union[str, int, bool, Ref, Sequence["Value"], Mapping[str, "Value"]]  # noqa: UP007 - a runtime alias: `|` cannot join a string forward reference


@dataclass
class Block:
    """`name "label" { ... }`; body items are attributes (key, value) or nested blocks."""

    name: str
    label: str | None = None
    body: list[tuple[str, Value] | Block] = field(default_factory=list)


def literal(value: Value, depth: int = 0) -> str:
    if isinstance(value, Ref):
        return value.expression
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of Alloy's (Go-style) string escapes.
        return json.dumps(value)
    inner = INDENT * (depth + 1)
    if isinstance(value, list):
        if not value:
            return "[]"
        items = "".join(f"{inner}{literal(item, depth + 1)},\n" for item in value)
        return f"[\n{items}{INDENT * depth}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = "".join(f"{inner}{json.dumps(key)} = {literal(item, depth + 1)},\n"
                        for key, item in value.items())
        return f"{{\n{items}{INDENT * depth}}}"
    raise TypeError(f"no Alloy literal for {type(value).__name__}: {value!r}")


def render_block(block: Block, depth: int = 0) -> str:
    pad = INDENT * depth
    header = block.name + (f" {json.dumps(block.label)}" if block.label is not None else "")
    lines = [f"{pad}{header} {{"]
    for item in block.body:
        if isinstance(item, Block):
            lines.append(render_block(item, depth + 1))
        else:
            key, value = item
            lines.append(f"{pad}{INDENT}{key} = {literal(value, depth + 1)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def render_document(blocks: list[Block], header_comment: str = "") -> str:
    comment = "".join(f"// {line}\n" for line in header_comment.splitlines())
    return comment + "\n\n".join(render_block(block) for block in blocks) + "\n"
