"""Follow cdktf cross-stack references back to the producer's expression.

A consumer stack reads a producer's value as
`${data.terraform_remote_state.cross-stack-reference-input-<producer>.outputs.<output>}`;
the producer's `<output>` holds e.g. `${aws_s3_bucket.mimir-bucket_1234.arn}`.
`resolve` swaps the former for the latter, so tests can check *which* resource a
policy or rule points at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

REMOTE_REFERENCE = re.compile(
    r"\$\{data\.terraform_remote_state\.cross-stack-reference-input-(?P<producer>[\w-]+)"
    r"\.outputs\.(?P<output>[\w-]+)\}")
RESOURCE_REFERENCE = re.compile(r"^\$\{(?P<type>aws_\w+)\.(?P<name>[\w-]+)\.(?P<attribute>\w+)\}$")


def resolve(value: str, stack_json: Callable[[str], dict[str, Any]]) -> str:
    """`value` with every remote-state reference replaced by the producer output's expression."""

    def producer_value(match: re.Match[str]) -> str:
        outputs = stack_json(match["producer"])["output"]
        assert match["output"] in outputs, f"{match['producer']} has no output {match['output']}"
        return outputs[match["output"]]["value"]

    return REMOTE_REFERENCE.sub(producer_value, value)


def referenced_resource(value: str, stack_json: Callable[[str], dict[str, Any]],
                        producer: str) -> tuple[str, dict[str, Any], str]:
    """(type, resource body, attribute) of the producer resource that `value` reads through remote state."""
    resolved = resolve(value, stack_json)
    match = RESOURCE_REFERENCE.match(resolved)
    assert match, f"{value!r} resolves to {resolved!r}, not one resource attribute"
    body = stack_json(producer)["resource"][match["type"]][match["name"]]
    return match["type"], body, match["attribute"]
