"""What many tests share: one way to synth one stack, and reading synthesized JSON.

A full app synth per config variant costs seconds per variant; most variant tests only need
one stack's JSON. `synth_stack` builds the registry's stacks in order up to the one asked
for, in a `Testing.app()`, and returns `Testing.synth` of that stack (`synth_json` of a stack
object already built). The whole app, synthesized once per session, is conftest's `prod`.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from cdktf import Testing

from components.registry import STACKS, build_stack
from components.shared.stack import LgtmStack
from config.common import Config, load_config


def build_until(stack_id: str, environment: str = "prod", **overrides: object) -> dict[str, LgtmStack]:
    return build_config_until(stack_id, load_config(environment, **overrides))


def build_config_until(stack_id: str, cfg: Config) -> dict[str, LgtmStack]:
    """The registry's stacks, in order, up to and including `stack_id`, built from `cfg`."""
    app = Testing.app()
    built: dict[str, LgtmStack] = {}
    for entry in STACKS:
        built[entry.stack_id] = build_stack(entry, app, cfg, built)
        if entry.stack_id == stack_id:
            return built
    raise KeyError(f"{stack_id} is not in components.registry.STACKS")


def synth_json(stack: LgtmStack) -> dict[str, Any]:
    """`Testing.synth` of one stack object, parsed."""
    parsed: dict[str, Any] = json.loads(Testing.synth(stack))
    return parsed


def synth_stack(stack_id: str, environment: str = "prod", **overrides: object) -> dict[str, Any]:
    """`Testing.synth` JSON of `stack_id` built from `load_config(environment, **overrides)`."""
    return synth_json(build_until(stack_id, environment, **overrides)[stack_id])


def as_list(value: object) -> list[Any]:
    """An attribute that holds one value, a list, or an explicit null (IAM, Terraform JSON), as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


JSONENCODE_PREFIX, JSONENCODE_SUFFIX = "${jsonencode(", ")}"


def json_value(value: object) -> Any:
    """A synthesized JSON attribute (a policy, container definitions) as the Python structure.

    A plain JSON string is `json.loads`-ed. `${jsonencode(<expr>)}` (components/shared/json_document.py)
    is parsed as the HCL cdktf writes there: a bare reference (`aws_s3_bucket.b.arn`) becomes the
    string `"${aws_s3_bucket.b.arn}"`, a quoted template keeps its `${...}`; so the result equals what
    `json.loads` of the old JSON string gave. Anything else raises ValueError.
    """
    if not isinstance(value, str):
        raise ValueError(f"not a synthesized JSON attribute: {value!r}")
    if value.startswith(JSONENCODE_PREFIX) and value.endswith(JSONENCODE_SUFFIX):
        return HclExpressionParser(value[len(JSONENCODE_PREFIX):-len(JSONENCODE_SUFFIX)]).parse()
    return json.loads(value)


def json_text(value: object) -> str:
    """`json_value` as a JSON string (for checks that work on the text, e.g. reference substitution)."""
    return json.dumps(json_value(value))


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"true": True, "false": False, "null": None}


class HclExpressionParser:
    """The HCL subset cdktf writes inside `jsonencode(...)`: objects, tuples, strings, numbers,
    bools, null and bare references."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def parse(self) -> Any:
        result = self.expression()
        self.skip_space()
        if self.pos != len(self.text):
            self.fail("trailing text")
        return result

    def fail(self, why: str) -> NoReturn:
        raise ValueError(f"{why} at {self.pos}: {self.text[max(0, self.pos - 40):self.pos + 40]!r}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        if self.pos >= len(self.text):
            self.fail("unexpected end")
        return self.text[self.pos]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {char!r}")
        self.pos += 1

    def expression(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.obj()
        if char == "[":
            return self.items("[", "]")
        if char == '"':
            return self.string()
        number = re.match(r"-?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w.])", self.text[self.pos:])
        if number:
            self.pos += number.end()
            return json.loads(number.group())
        word = re.match(r"(true|false|null)(?![\w.\-\[])", self.text[self.pos:])
        if word:
            self.pos += word.end()
            return _LITERALS[word.group(1)]
        reference = re.match(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"\\]*\"\])+", self.text[self.pos:])
        if reference:
            self.pos += reference.end()
            return "${" + reference.group() + "}"
        self.fail("expected an HCL value")

    def items(self, opening: str, closing: str) -> list[Any]:
        self.expect(opening)
        found: list[Any] = []
        while self.peek() != closing:
            found.append(self.expression())
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != closing:
                self.fail(f"expected ',' or {closing!r}")
        self.pos += 1
        return found

    def obj(self) -> dict[str, Any]:
        self.expect("{")
        found: dict[str, Any] = {}
        while self.peek() != "}":
            if self.peek() == '"':
                key = self.string()
            else:
                name = re.match(r"[A-Za-z_][\w-]*", self.text[self.pos:])
                if not name:
                    self.fail("expected an object key")
                key, self.pos = name.group(), self.pos + name.end()
            if self.peek() not in "=:":
                self.fail("expected '=' after an object key")
            self.pos += 1
            if key in found:
                self.fail(f"duplicate key {key!r}")
            found[key] = self.expression()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                self.fail("expected ',' or '}'")
        self.pos += 1
        return found

    def string(self) -> str:
        """A quoted template: escapes undone, `$${`/`%%{` back to `${`/`%{`, `${...}` kept as written."""
        self.expect('"')
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                self.fail("unterminated string")
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\n":
                self.fail("newline in a quoted string")
            if char == "\\":
                escaped = text[self.pos + 1:self.pos + 2]
                if escaped in _ESCAPES:
                    out.append(_ESCAPES[escaped])
                    self.pos += 2
                elif escaped == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[self.pos + 2:self.pos + 6]):
                    out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                    self.pos += 6
                else:
                    self.fail("unknown escape")
            elif text.startswith(("$${", "%%{"), self.pos):
                out.append(text[self.pos] + "{")
                self.pos += 3
            elif text.startswith(("${", "%{"), self.pos):
                end = self.interpolation_end(self.pos + 2)
                out.append(text[self.pos:end])
                self.pos = end
            else:
                out.append(char)
                self.pos += 1

    def interpolation_end(self, pos: int) -> int:
        """The index after the `}` closing an interpolation whose body starts at `pos`."""
        depth, text = 1, self.text
        while pos < len(text):
            char = text[pos]
            if char == '"':
                pos = text.index('"', pos + 1) + 1 if '"' in text[pos + 1:] else len(text)
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        self.fail("unterminated interpolation")
