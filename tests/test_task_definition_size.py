"""Each task definition against ECS's size limit, with the margin printed.

The rendered configs travel base64-encoded in the init container's environment, so a task
definition grows with every dashboard, rule or datasource added. ECS refuses a task definition
over 64 KiB ("Task definition size", Amazon ECS service quotas); this measures each one as the
RegisterTaskDefinition request body carries it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value

STACK = "60-ecs"
ECS_TASK_DEFINITION_LIMIT_BYTES = 64 * 1024
# A role ARN of the longest name IAM allows (64 characters) stands in for each unresolved reference.
LONGEST_REFERENCE = "arn:aws:iam::123456789012:role/" + "r" * 64
_REFERENCE = re.compile(r"\$\{[^}]*\}")


def request_body(definition: dict[str, Any]) -> str:
    """The task definition as a RegisterTaskDefinition request: container definitions inline."""
    body = {**definition, "container_definitions": json_value(definition["container_definitions"])}
    return _REFERENCE.sub(LONGEST_REFERENCE, json.dumps(body, separators=(",", ":")))


def sizes(app: SynthesizedApp) -> dict[str, int]:
    definitions = resources(app.stack_json(STACK), "aws_ecs_task_definition")
    return {family: len(request_body(body).encode()) for family, body in definitions.items()}


def test_every_task_definition_fits_with_its_margin_printed(prod: SynthesizedApp,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    measured = sizes(prod)
    assert set(measured) == {f"task-{svc.name}" for svc in prod.config.services}
    with capsys.disabled():
        for name, size in sorted(measured.items(), key=lambda item: -item[1]):
            margin = ECS_TASK_DEFINITION_LIMIT_BYTES - size
            print(f"\n[size] {name}: {size} bytes, {margin} bytes ({margin / ECS_TASK_DEFINITION_LIMIT_BYTES:.0%}) "
                  f"below ECS's {ECS_TASK_DEFINITION_LIMIT_BYTES // 1024} KiB limit", end="")
        print(flush=True)
    over = {name: size for name, size in measured.items() if size > ECS_TASK_DEFINITION_LIMIT_BYTES}
    assert not over, f"task definitions over ECS's 64 KiB limit: {over}"


def test_the_measure_counts_the_rendered_files(prod: SynthesizedApp) -> None:
    # A bigger rendered file must show in the measure: the files are inside the request body.
    body = resources(prod.stack_json(STACK), "aws_ecs_task_definition")["task-alloy"]
    grown = json_value(body["container_definitions"])
    grown[0]["environment"].append({"name": "LGTM_FILE_99", "value": "A" * ECS_TASK_DEFINITION_LIMIT_BYTES})
    bigger = {**body, "container_definitions": json.dumps(grown)}
    assert len(request_body(bigger)) > ECS_TASK_DEFINITION_LIMIT_BYTES > len(request_body(body))
