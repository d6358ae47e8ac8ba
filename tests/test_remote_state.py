"""Cross-stack wiring: every generated terraform_remote_state reads its producer's exact backend.

cdktf turns an attribute of one stack used in another into an output in the
producer and a `terraform_remote_state` data source in the consumer. If that data
source pointed at another bucket, key, table or region, the consumer would read
nothing (or another environment's values). The manifest's dependencies are what
`cdktf deploy '*'` orders stacks by.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.registry import STACK_IDS
from tests.conftest import SynthesizedApp
from tests.references import REMOTE_REFERENCE

INPUT_PREFIX = "cross-stack-reference-input-"
# The dependencies this issue's stacks must have (later stacks may add more).
REQUIRED_DEPENDENCIES = {
    "20-storage": {"10-network"},
    "30-security-groups": {"10-network", "20-storage"},
    "40-iam": {"20-storage"},
}


def remote_states(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return stack.get("data", {}).get("terraform_remote_state", {})


def producers(stack: dict[str, Any]) -> set[str]:
    found = set()
    for name in remote_states(stack):
        assert name.startswith(INPUT_PREFIX), name
        found.add(name[len(INPUT_PREFIX):])
    return found


@pytest.fixture(params=["prod", "staging"])
def app(request: pytest.FixtureRequest) -> SynthesizedApp:
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_every_remote_state_reads_the_producers_exact_backend(app: SynthesizedApp, stack_id: str) -> None:
    for name, data in remote_states(app.stack_json(stack_id)).items():
        producer = name[len(INPUT_PREFIX):]
        assert producer in STACK_IDS and producer != stack_id, name
        producer_backend = app.stack_json(producer)["terraform"]["backend"]
        assert data["backend"] == "s3" and list(producer_backend) == ["s3"]
        assert data["config"] == producer_backend["s3"], (stack_id, producer)
        assert set(data["config"]) == {"bucket", "key", "dynamodb_table", "region", "encrypt"}
        assert data["config"]["key"] == f"lgtm-ecs/{app.config.environment}/{producer}/terraform.tfstate"


def test_the_issues_stacks_read_what_they_need(prod: SynthesizedApp) -> None:
    for consumer, needed in REQUIRED_DEPENDENCIES.items():
        assert needed <= producers(prod.stack_json(consumer)), consumer
    assert producers(prod.stack_json("10-network")) == set()


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_every_referenced_output_exists_in_its_producer(app: SynthesizedApp, stack_id: str) -> None:
    text = json.dumps(app.stack_json(stack_id))
    references = list(REMOTE_REFERENCE.finditer(text))
    if stack_id in REQUIRED_DEPENDENCIES:
        assert references, f"{stack_id} reads nothing from earlier stacks"
    for match in references:
        assert match["producer"] in producers(app.stack_json(stack_id))
        assert match["output"] in app.stack_json(match["producer"])["output"], match.group(0)


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_manifest_lists_each_producer_as_a_dependency_deployed_earlier(app: SynthesizedApp, stack_id: str) -> None:
    entry = app.manifest["stacks"][stack_id]
    dependencies = set(entry["dependencies"])
    # Explicit add_dependency() may add more; every remote-state producer must be there.
    assert producers(app.stack_json(stack_id)) <= dependencies
    assert all(STACK_IDS.index(dependency) < STACK_IDS.index(stack_id) for dependency in dependencies)


def test_reference_pattern_matches_what_cdktf_writes(prod: SynthesizedApp) -> None:
    """Guards the regex the tests above rely on: it must see the references cdktf generates."""
    subnet = prod.stack_json("20-storage")["resource"]["aws_efs_mount_target"]["mount-target-0"]["subnet_id"]
    match = REMOTE_REFERENCE.fullmatch(subnet)
    assert match and match["producer"] == "10-network"
    assert re.fullmatch(r"cross-stack-output-[\w-]+", match["output"])
