"""components/shared/json_document.py and its test-side decoder (tests/helpers.py `json_value`).

The documents `jsonencode(...)` builds equal the JSON strings json.dumps built before: both are
synthesized (json.dumps patched back in for the old form) and the new expressions are evaluated
by terraform itself, references stood in for by placeholders on both sides.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.registry import STACK_IDS
from components.shared.json_document import hcl_safe
from scripts.terraform_cli import run_terraform, terraform_env
from tests.helpers import build_until, json_value, synth_json

ATTRIBUTES = ("policy", "assume_role_policy", "container_definitions")
REFERENCE = re.compile(r"\$\{([^{}]*)\}")


# --- the decoder ---------------------------------------------------------------------------------

def test_a_plain_json_string_is_json_loads() -> None:
    assert json_value('{"a": [1, "${x.y}"]}') == {"a": [1, "${x.y}"]}


def test_jsonencode_decodes_to_the_json_structure() -> None:
    synthesized = ('${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Resource" = [aws_s3_bucket.b.arn, '
                   '"${aws_s3_bucket.b.arn}/*", data.terraform_remote_state.r.outputs.dns-name], "N" = -1.5, '
                   '"B" = true, "F" = false, "Z" = null, "E" = {}, "L" = [], '
                   r'"S" = "say \"hi\" \\ $${HOME} %%{x} a\nb ${data.x["k"].id}"}]})}')
    assert json_value(synthesized) == {"Version": "2012-10-17", "Statement": [{
        "Resource": ["${aws_s3_bucket.b.arn}", "${aws_s3_bucket.b.arn}/*",
                     "${data.terraform_remote_state.r.outputs.dns-name}"],
        "N": -1.5, "B": True, "F": False, "Z": None, "E": {}, "L": [],
        "S": 'say "hi" \\ ${HOME} %{x} a\nb ${data.x["k"].id}'}]}


@pytest.mark.parametrize("malformed", [
    '${jsonencode({"a" = 1)}',            # unbalanced
    '${jsonencode({"a" 1})}',             # no '='
    '${jsonencode(["a" "b"])}',           # no ','
    '${jsonencode("unterminated)}',
    r'${jsonencode("bad \q escape")}',
    '${jsonencode({"a" = 1, "a" = 2})}',  # duplicate key
    '${jsonencode([1] [2])}',             # trailing text
    '${jsonencode(upper("x"))}',          # a function call is not a value
    "not json",
])
def test_malformed_input_raises(malformed: str) -> None:
    with pytest.raises(ValueError):
        json_value(malformed)


# --- what json_document refuses ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["a\\nb", {"k\"": 1}, {"${k}": 1}, [b"bytes"]])
def test_values_that_would_not_survive_the_hcl_conversion_are_refused(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        hcl_safe(value)


# --- equivalence, evaluated by terraform ---------------------------------------------------------

def documents(patched: bool, monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str, str, str], str]:
    with monkeypatch.context() as patch:
        if patched:  # the old form: a JSON string with the references inside
            patch.setattr("components.shared.policy.json_document", json.dumps)
            patch.setattr("components.shared.fargate_service.json_document", json.dumps)
        stacks = build_until(STACK_IDS[-1])
        found: dict[tuple[str, str, str, str], str] = {}
        for stack_id, stack in stacks.items():
            for resource_type, bodies in synth_json(stack).get("resource", {}).items():
                for name, body in bodies.items():
                    for attribute in ATTRIBUTES:
                        if isinstance(body.get(attribute), str):
                            found[(stack_id, resource_type, name, attribute)] = body[attribute]
        return found


def placeholders(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: names[m.group(1)], value)
    if isinstance(value, list):
        return [placeholders(item, names) for item in value]
    if isinstance(value, dict):
        return {key: placeholders(item, names) for key, item in value.items()}
    return value


def stand_in(expression: str, names: dict[str, str]) -> str:
    """`expression` with `${ref}` inside templates and bare `ref`s replaced by the placeholders."""
    for reference in sorted(names, key=len, reverse=True):
        expression = expression.replace("${" + reference + "}", names[reference])
        expression = re.sub(rf"(?<![\w.\-\"@]){re.escape(reference)}(?![\w.\-\[])",
                            '"' + names[reference] + '"', expression)
    return expression


@pytest.mark.slow
def test_jsonencode_gives_the_documents_json_dumps_gave(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old, new = documents(True, monkeypatch), documents(False, monkeypatch)
    assert old.keys() == new.keys() and len(new) >= 30, sorted(set(old) ^ set(new))
    outputs, expected = [], {}
    for number, key in enumerate(sorted(new)):
        assert new[key].startswith("${jsonencode(") and new[key].endswith(")}"), (key, new[key][:80])
        names = {ref: f"@@{{{index}}}" for index, ref in enumerate(sorted(set(REFERENCE.findall(old[key]))))}
        expression = stand_in(new[key][2:-1], names)
        assert "${" not in expression, (key, expression[expression.index("${"):][:80])
        outputs.append(f'output "d{number}" {{\n  value = {expression}\n}}\n')
        expected[f"d{number}"] = (key, placeholders(json.loads(old[key]), names))
    (tmp_path / "main.tf").write_text("".join(outputs))
    env = terraform_env(None)
    run_terraform(tmp_path, "init", "-input=false", "-no-color", env=env)
    run_terraform(tmp_path, "apply", "-auto-approve", "-input=false", "-no-color", env=env)
    evaluated = json.loads(run_terraform(tmp_path, "output", "-json", env=env).stdout)
    for output, (key, document) in expected.items():
        assert json.loads(evaluated[output]["value"]) == document, key
