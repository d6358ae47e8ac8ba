"""The app's stacks, in deployment order. Adding a stack is one line here.

Each entry builds one stack from the config and the stacks built before it
(`built`, by stack id); `LgtmStack` gives it its backend, provider and tags.
Once a stack's constructs exist, `build_stack` adds its `moved`/`import`/`removed`
blocks: the moves declared in code (`components/shared/moves.py`) and the environment's
adoption files (`components/shared/adoption.py`), rendered by `components/shared/state_blocks.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from constructs import Construct

from components.alb import AlbStack
from components.bootstrap import BootstrapStack
from components.ecs import EcsStack
from components.iam import IamStack
from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.shared import moves
from components.shared.adoption import adoption_dir, load_adoption
from components.shared.stack import LgtmStack
from components.shared.state_blocks import StackStateBlocks, render_state_blocks
from components.storage import StorageStack
from config.common import Config
from config.names import BOOTSTRAP_STACK_ID

Built = Mapping[str, LgtmStack]


@dataclass(frozen=True)
class StackEntry:
    stack_id: str
    build: Callable[[Construct, str, Config, Built], LgtmStack]


StackT = TypeVar("StackT", bound=LgtmStack)


def earlier(built: Built, stack_id: str, kind: type[StackT]) -> StackT:
    """A stack built before this one, as the class whose attributes its consumer reads."""
    stack = built[stack_id]
    if not isinstance(stack, kind):
        raise TypeError(f"{stack_id} is a {type(stack).__name__}, not a {kind.__name__}")
    return stack


def _storage(app: Construct, sid: str, cfg: Config, built: Built) -> StorageStack:
    return StorageStack(app, sid, config=cfg, network=earlier(built, "10-network", NetworkStack))


def _security_groups(app: Construct, sid: str, cfg: Config, built: Built) -> SecurityGroupsStack:
    return SecurityGroupsStack(app, sid, config=cfg, network=earlier(built, "10-network", NetworkStack),
                               storage=earlier(built, "20-storage", StorageStack))


def _iam(app: Construct, sid: str, cfg: Config, built: Built) -> IamStack:
    return IamStack(app, sid, config=cfg, storage=earlier(built, "20-storage", StorageStack))


def _alb(app: Construct, sid: str, cfg: Config, built: Built) -> AlbStack:
    return AlbStack(app, sid, config=cfg, network=earlier(built, "10-network", NetworkStack),
                    security_groups=earlier(built, "30-security-groups", SecurityGroupsStack))


def _ecs(app: Construct, sid: str, cfg: Config, built: Built) -> EcsStack:
    return EcsStack(app, sid, config=cfg, network=earlier(built, "10-network", NetworkStack),
                    security_groups=earlier(built, "30-security-groups", SecurityGroupsStack),
                    storage=earlier(built, "20-storage", StorageStack), iam=earlier(built, "40-iam", IamStack),
                    alb=earlier(built, "50-alb", AlbStack))


STACKS: tuple[StackEntry, ...] = (
    StackEntry(BOOTSTRAP_STACK_ID, lambda app, sid, cfg, built: BootstrapStack(app, sid, config=cfg)),
    StackEntry("10-network", lambda app, sid, cfg, built: NetworkStack(app, sid, config=cfg)),
    StackEntry("20-storage", _storage),
    StackEntry("30-security-groups", _security_groups),
    StackEntry("40-iam", _iam),
    StackEntry("50-alb", _alb),
    StackEntry("60-ecs", _ecs),
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
            # `cdktf deploy '*'` applies it before any other stack. (cdktf 0.21 still runs every
            # stack's `terraform init` first, so a fresh account deploys 00-bootstrap on its own.)
            built[entry.stack_id].add_dependency(built[BOOTSTRAP_STACK_ID])
    return built
