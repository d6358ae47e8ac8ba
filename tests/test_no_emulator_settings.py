"""The synthesized stacks are prod's, with no emulator setting in them.

The local deploy reaches the emulator through terraform's environment only
(AWS_ENDPOINT_URL and fake keys), so nothing here may point anywhere but AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.registry import STACK_IDS
from tests.conftest import SynthesizedApp

FORBIDDEN_KEYS = {"endpoints", "endpoint", "force_path_style", "use_path_style", "s3_use_path_style",
                  "access_key", "secret_key", "token", "insecure", "sts_endpoint", "dynamodb_endpoint",
                  "iam_endpoint"}
FORBIDDEN_TEXT = ("127.0.0.1", "localhost", "0.0.0.0:", ":4566", ":5000")


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str | None, Any]]:
    """(path, key, value) for every dict entry and every string in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, None, node


def emulator_settings(stack: dict[str, Any]) -> list[str]:
    # Only the provider and backend configure endpoints; resources may legitimately hold
    # e.g. a container's "localhost" health check, so the text search covers those two.
    found: list[str] = []
    scoped = {"provider": stack.get("provider", {}), "terraform": stack.get("terraform", {}),
              "remote_state": stack.get("data", {}).get("terraform_remote_state", {})}
    for path, key, value in walk(scoped):
        if key is not None and (key in FORBIDDEN_KEYS or key.startswith("skip_")):
            found.append(f"{path} = {value!r}")
        if isinstance(value, str) and any(text in value for text in FORBIDDEN_TEXT):
            found.append(f"{path} = {value!r}")
    return found


def test_the_check_catches_each_kind_of_emulator_setting() -> None:
    planted = {
        "provider": {"aws": [{"region": "ap-northeast-2", "endpoints": [{"s3": "http://127.0.0.1:5000"}],
                              "skip_credentials_validation": True, "s3_use_path_style": True}]},
        "terraform": {"backend": {"s3": {"bucket": "b", "use_path_style": True,
                                         "endpoints": {"dynamodb": "http://localhost:4566"}}}},
    }
    found = "\n".join(emulator_settings(planted))
    for expected in ("endpoints", "skip_credentials_validation", "s3_use_path_style", "use_path_style",
                     "127.0.0.1", "localhost"):
        assert expected in found


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_synthesized_stack_carries_no_emulator_setting(prod: SynthesizedApp, stack_id: str) -> None:
    stack = prod.stack_json(stack_id)
    assert stack["provider"]["aws"], "every stack configures the AWS provider"
    assert emulator_settings(stack) == []
