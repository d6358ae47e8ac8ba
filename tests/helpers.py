"""What many tests share: one way to synth one stack, and reading synthesized JSON.

A full app synth per config variant costs seconds per variant; most variant tests only need
one stack's JSON. `synth_stack` builds the registry's stacks in order up to the one asked
for, in a `Testing.app()`, and returns `Testing.synth` of that stack (`synth_json` of a stack
object already built). The whole app, synthesized once per session, is conftest's `prod`.
"""

from __future__ import annotations

import json
from typing import Any

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
