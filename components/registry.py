"""The app's stacks, in deployment order. Adding a stack is one line here.

Each entry builds one stack from the config and the stacks built before it
(`built`, by stack id); `LgtmStack` gives it its backend, provider and tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from constructs import Construct

from components.bootstrap import BootstrapStack
from components.shared.stack import BOOTSTRAP_STACK_ID, LgtmStack
from config.common import Config

Built = Mapping[str, LgtmStack]


@dataclass(frozen=True)
class StackEntry:
    stack_id: str
    build: Callable[[Construct, str, Config, Built], LgtmStack]


STACKS: tuple[StackEntry, ...] = (
    StackEntry(BOOTSTRAP_STACK_ID, lambda app, sid, cfg, built: BootstrapStack(app, sid, config=cfg)),
)

STACK_IDS: tuple[str, ...] = tuple(entry.stack_id for entry in STACKS)


def build_stacks(app: Construct, config: Config) -> dict[str, LgtmStack]:
    built: dict[str, LgtmStack] = {}
    for entry in STACKS:
        built[entry.stack_id] = entry.build(app, entry.stack_id, config, built)
    return built
