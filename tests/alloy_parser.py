"""A strict little parser for the subset of Alloy syntax the renderer emits.

Independent of the writer (`components.service_configs.alloy_syntax`): tests parse the
rendered text back into blocks and values, so they assert on structure, not substrings.
Anything outside the subset (a stray token, an unclosed brace) raises `AlloySyntaxError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[{}\[\]=,])
""", re.VERBOSE)


class AlloySyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    """An expression such as `loki.write.default.receiver`."""

    expression: str


@dataclass
class ParsedBlock:
    name: str
    label: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[ParsedBlock] = field(default_factory=list)

    def block(self, name: str) -> ParsedBlock:
        (found,) = [b for b in self.blocks if b.name == name]
        return found


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise AlloySyntaxError(f"unexpected character {text[position]!r} at offset {position}")
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else ("eof", "")

    def take(self, kind: str, value: str | None = None) -> str:
        token_kind, token_value = self.peek()
        if token_kind != kind or (value is not None and token_value != value):
            raise AlloySyntaxError(f"expected {value or kind}, got {token_value!r} (token {self.index})")
        self.index += 1
        return token_value

    def body(self, closing: str | None) -> ParsedBlock:
        scope = ParsedBlock(name="", label=None)
        while True:
            kind, value = self.peek()
            if closing is None and kind == "eof":
                return scope
            if kind == "punct" and value == closing:
                return scope
            name = self.take("ident")
            if self.peek() == ("punct", "="):
                self.take("punct", "=")
                if name in scope.attributes:
                    raise AlloySyntaxError(f"attribute {name} set twice")
                scope.attributes[name] = self.expression()
                continue
            label = json.loads(self.take("string")) if self.peek()[0] == "string" else None
            self.take("punct", "{")
            inner = self.body("}")
            self.take("punct", "}")
            scope.blocks.append(ParsedBlock(name=name, label=label, attributes=inner.attributes,
                                            blocks=inner.blocks))

    def expression(self) -> Any:
        kind, value = self.peek()
        if kind == "string":
            self.index += 1
            return json.loads(value)
        if kind == "number":
            self.index += 1
            return float(value) if "." in value else int(value)
        if kind == "ident":
            self.index += 1
            if value in ("true", "false"):
                return value == "true"
            return Reference(value)
        if (kind, value) == ("punct", "["):
            return self.sequence("[", "]", self.expression)
        if (kind, value) == ("punct", "{"):
            return dict(self.sequence("{", "}", self.pair))
        raise AlloySyntaxError(f"unexpected {value!r} in an expression")

    def pair(self) -> tuple[str, Any]:
        kind, value = self.peek()
        key = json.loads(self.take("string")) if kind == "string" else self.take("ident")
        self.take("punct", "=")
        return key, self.expression()

    def sequence(self, opening: str, closing: str, item: Any) -> list[Any]:
        self.take("punct", opening)
        items = []
        while self.peek() != ("punct", closing):
            items.append(item())
            if self.peek() == ("punct", ","):
                self.take("punct", ",")
            elif self.peek() != ("punct", closing):
                raise AlloySyntaxError(f"expected ',' or {closing!r}, got {self.peek()[1]!r}")
        self.take("punct", closing)
        return items


def parse(text: str) -> list[ParsedBlock]:
    """Top-level blocks of an Alloy configuration (top-level attributes are not allowed)."""
    parser = _Parser(text)
    root = parser.body(None)
    if root.attributes:
        raise AlloySyntaxError(f"top-level attributes are not Alloy: {sorted(root.attributes)}")
    return root.blocks


def components(blocks: list[ParsedBlock]) -> dict[str, ParsedBlock]:
    """Components by `<name>.<label>`, the prefix of their exports' references."""
    found: dict[str, ParsedBlock] = {}
    for block in blocks:
        key = f"{block.name}.{block.label}"
        if key in found:
            raise AlloySyntaxError(f"component {key} declared twice")
        found[key] = block
    return found


def references(value: Any) -> list[Reference]:
    """Every reference inside an attribute value (lists and objects included)."""
    if isinstance(value, Reference):
        return [value]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in references(item)]
    return []


def walk(block: ParsedBlock) -> list[ParsedBlock]:
    return [block] + [inner for child in block.blocks for inner in walk(child)]
