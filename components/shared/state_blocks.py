"""A stack's `moved`, `import` and `removed` blocks: how its state follows its objects.

Two sources feed them:

- the address changes declared in code (`components/shared/moves.py`), for every
  environment;
- the environment's adoption files (`components/shared/adoption.py`), written by
  `make adopt` to take over objects of the HCL project or objects made by hand.

They are rendered as raw top-level blocks on the stack, not with cdktf's
`TerraformResource.move_from_id`/`import_from`: cdktf allows one move per resource
(a second one raises), but a resource renamed twice needs a chain of two `moved`
blocks, and a resource may have both an old cdktf address and a legacy HCL address.
A stack with nothing to render keeps its JSON exactly as before.

Runs once per stack, after the stack's constructs exist (`components.registry`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cdktf import TerraformResource, TerraformStack

from components.shared.moves import Move, Removal

# `removed` blocks need Terraform 1.7, `import` blocks 1.5.
STATE_BLOCKS_REQUIRED_VERSION = ">= 1.7.0"
# A resource address: optional module path, type.name, optional [index] / ["key"].
_ADDRESS = re.compile(
    r'^(module\.[A-Za-z0-9_-]+(\[("[^"]*"|\d+)\])?\.)*[a-z0-9_]+\.[A-Za-z0-9_-]+(\[("[^"]*"|\d+)\])?$')


class StateBlockError(ValueError):
    """A declared move, removal or adoption entry that cannot be rendered; names it and why."""


@dataclass(frozen=True)
class ImportBlock:
    to_address: str
    import_id: str


@dataclass(frozen=True)
class StackStateBlocks:
    """Blocks for one stack from a source other than code (an adoption file), already checked
    against that source's own rules; `source` names it in errors."""

    source: str
    moved: tuple[tuple[str, str], ...] = ()
    imports: tuple[ImportBlock, ...] = ()
    removed: tuple[str, ...] = ()
    """Addresses Terraform forgets without destroying (`lifecycle { destroy = false }`)."""


@dataclass
class _Rendered:
    moved: list[tuple[str, str]] = field(default_factory=list)
    imports: list[ImportBlock] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def is_resource_address(address: str) -> bool:
    return bool(_ADDRESS.match(address))


def resource_addresses(stack: TerraformStack) -> set[str]:
    """`type.name` of every managed resource in the stack (data sources excluded)."""
    return {f"{node.terraform_resource_type}.{node.friendly_unique_id}"
            for node in stack.node.find_all() if isinstance(node, TerraformResource)}


def reachable_moves(moves: Iterable[Move], addresses: set[str]) -> list[Move]:
    """Moves whose target exists in this stack, directly or through a chain of moves.

    A move to a resource that this configuration does not synthesize (an opt-in
    resource that is off) has nothing to point at and is left out.
    """
    moves = list(moves)
    targets = set(addresses)
    kept: list[Move] = []
    changed = True
    while changed:
        changed = False
        for move in moves:
            if move not in kept and move.to_address in targets:
                kept.append(move)
                targets.add(move.from_address)
                changed = True
    return [move for move in moves if move in kept]


def _check_address(address: str, what: str) -> None:
    if not is_resource_address(address):
        raise StateBlockError(f"{what}: {address!r} is not a resource address "
                              "(expected e.g. aws_s3_bucket.name or module.alb.aws_lb.this[\"key\"])")


def _code_blocks(stack_id: str, addresses: set[str], moves: Iterable[Move],
                 removals: Iterable[Removal]) -> _Rendered:
    rendered = _Rendered()
    ours = [move for move in moves if move.stack_id == stack_id]
    for move in ours:
        where = f"components/shared/moves.py: Move({stack_id!r}, {move.from_address!r}, {move.to_address!r})"
        _check_address(move.from_address, where)
        _check_address(move.to_address, where)
        if move.from_address in addresses:
            raise StateBlockError(f"{where}: {move.from_address} is still declared in {stack_id}; a moved "
                                  "block's source must no longer exist (rename the construct, then move)")
    rendered.moved = [(move.from_address, move.to_address) for move in reachable_moves(ours, addresses)]
    for removal in (r for r in removals if r.stack_id == stack_id):
        where = f"components/shared/moves.py: Removal({stack_id!r}, {removal.address!r})"
        _check_address(removal.address, where)
        if removal.address in addresses:
            raise StateBlockError(f"{where}: {removal.address} is still declared in {stack_id}; "
                                  "remove the construct first")
        if removal.keep_object:
            rendered.removed.append(removal.address)
    return rendered


def _add_source(rendered: _Rendered, stack_id: str, addresses: set[str], blocks: StackStateBlocks) -> None:
    for source_address, target in blocks.moved:
        if target not in addresses and target not in {old for old, _ in rendered.moved}:
            raise StateBlockError(f"{blocks.source}: moves {source_address} to {target}, but {stack_id} "
                                  f"synthesizes no {target}")
        if source_address in addresses:
            raise StateBlockError(f"{blocks.source}: moves {source_address} to {target}, but {source_address} "
                                  f"is itself declared in {stack_id}")
        if (source_address, target) not in rendered.moved:
            rendered.moved.append((source_address, target))
    for block in blocks.imports:
        if block.to_address not in addresses:
            raise StateBlockError(f"{blocks.source}: imports {block.import_id!r} to {block.to_address}, but "
                                  f"{stack_id} synthesizes no {block.to_address}")
        clash = [b for b in rendered.imports if b.to_address == block.to_address and b != block]
        if clash:
            raise StateBlockError(f"{blocks.source}: imports {block.import_id!r} to {block.to_address}, which "
                                  f"already imports {clash[0].import_id!r}: one object per address")
        if block not in rendered.imports:
            rendered.imports.append(block)
    for address in blocks.removed:
        if address in addresses:
            raise StateBlockError(f"{blocks.source}: removes {address} from {stack_id}'s state, but {stack_id} "
                                  "still declares it")
        if address not in rendered.removed:
            rendered.removed.append(address)


def render_state_blocks(stack: TerraformStack, stack_id: str, *, moves: Iterable[Move],
                        removals: Iterable[Removal], sources: Iterable[StackStateBlocks] = ()) -> None:
    """Add the stack's `moved`, `import` and `removed` blocks; nothing at all if it has none."""
    addresses = resource_addresses(stack)
    rendered = _code_blocks(stack_id, addresses, moves, removals)
    for blocks in sources:
        _add_source(rendered, stack_id, addresses, blocks)
    if rendered.moved:
        stack.add_override("moved", [{"from": old, "to": new} for old, new in rendered.moved])
    if rendered.imports:
        stack.add_override("import", [{"to": block.to_address, "id": block.import_id}
                                      for block in rendered.imports])
    if rendered.removed:
        stack.add_override("removed", [{"from": address, "lifecycle": {"destroy": False}}
                                       for address in rendered.removed])
    if rendered.imports or rendered.removed:
        stack.add_override("terraform.required_version", STATE_BLOCKS_REQUIRED_VERSION)
