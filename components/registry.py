"""The app's stacks, in deployment order. Adding a stack is one line here.

Each entry builds one stack from the config and the stacks built before it
(`built`, by stack id); `LgtmStack` gives it its backend, provider and tags.
Once a stack's constructs exist, `build_stack` adds its `moved`/`import`/`removed`
blocks: the moves declared in code (`components/shared/moves.py`) and the environment's
adoption files (`components/shared/adoption.py`), rendered by `components/shared/state_blocks.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from constructs import Construct

from components.alb import AlbStack
from components.bootstrap import BootstrapStack
from components.ecs import EcsStack
from components.iam import IamStack
from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.storage import StorageStack
from components.shared import moves
from components.shared.adoption import adoption_dir, load_adoption
from components.shared.stack import BOOTSTRAP_STACK_ID, LgtmStack
from components.shared.state_blocks import StackStateBlocks, render_state_blocks
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


def build_stack(entry: StackEntry, app: Construct, config: Config, built: Built,
                adoption: Sequence[StackStateBlocks] = ()) -> LgtmStack:
    """One stack, with the state blocks that keep its addresses' objects (after its constructs exist)."""
    stack = entry.build(app, entry.stack_id, config, built)
    removals = [removal for removal in moves.REMOVALS if removal.applies_to(config.environment)]
    render_state_blocks(stack, entry.stack_id, moves=moves.MOVES, removals=removals, sources=adoption)
    return stack


def build_stacks(app: Construct, config: Config, *, adoption_from: Path | None = None) -> dict[str, LgtmStack]:
    """Every stack; adoption files come from `adoption_from` (default: `adoption_dir()`)."""
    adoption = load_adoption(config.environment, adoption_from or adoption_dir(), [e.stack_id for e in STACKS])
    built: dict[str, LgtmStack] = {}
    for entry in STACKS:
        built[entry.stack_id] = build_stack(entry, app, config, built, adoption.get(entry.stack_id, ()))
        if entry.stack_id != BOOTSTRAP_STACK_ID:
            # Every other stack's state lives in the bucket (and lock table) 00-bootstrap creates:
            # `cdktf deploy '*'` must finish it before any other stack runs `terraform init`.
            built[entry.stack_id].add_dependency(built[BOOTSTRAP_STACK_ID])
    return built
