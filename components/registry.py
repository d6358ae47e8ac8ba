"""The app's stacks, in deployment order. Adding a stack is one line here.

Each entry builds one stack from the config and the stacks built before it
(`built`, by stack id); `LgtmStack` gives it its backend, provider and tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from constructs import Construct

from components.alb import AlbStack
from components.bootstrap import BootstrapStack
from components.ecs import EcsStack
from components.iam import IamStack
from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.storage import StorageStack
from components.shared.stack import BOOTSTRAP_STACK_ID, LgtmStack
from config.common import Config

Built = Mapping[str, LgtmStack]


@dataclass(frozen=True)
class StackEntry:
    stack_id: str
    build: Callable[[Construct, str, Config, Built], LgtmStack]


STACKS: tuple[StackEntry, ...] = (
    StackEntry(BOOTSTRAP_STACK_ID, lambda app, sid, cfg, built: BootstrapStack(app, sid, config=cfg)),
    StackEntry("10-network", lambda app, sid, cfg, built: NetworkStack(app, sid, config=cfg)),
    StackEntry("20-storage", lambda app, sid, cfg, built: StorageStack(
        app, sid, config=cfg, network=built["10-network"])),
    StackEntry("30-security-groups", lambda app, sid, cfg, built: SecurityGroupsStack(
        app, sid, config=cfg, network=built["10-network"], storage=built["20-storage"])),
    StackEntry("40-iam", lambda app, sid, cfg, built: IamStack(app, sid, config=cfg, storage=built["20-storage"])),
    StackEntry("50-alb", lambda app, sid, cfg, built: AlbStack(
        app, sid, config=cfg, network=built["10-network"], security_groups=built["30-security-groups"])),
    StackEntry("60-ecs", lambda app, sid, cfg, built: EcsStack(
        app, sid, config=cfg, network=built["10-network"], security_groups=built["30-security-groups"],
        storage=built["20-storage"], iam=built["40-iam"], alb=built["50-alb"])),
)

STACK_IDS: tuple[str, ...] = tuple(entry.stack_id for entry in STACKS)


def build_stacks(app: Construct, config: Config) -> dict[str, LgtmStack]:
    built: dict[str, LgtmStack] = {}
    for entry in STACKS:
        built[entry.stack_id] = entry.build(app, entry.stack_id, config, built)
    return built
