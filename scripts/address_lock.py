"""The address lock: every resource address, per stack and environment, as a committed oracle.

    python -m scripts.address_lock          # `make addresses`: refresh tests/addresses/<env>.json
    python -m scripts.address_lock --check  # only check, write nothing

Every state file maps resource addresses to real objects. An address that disappears
from the configuration is an object Terraform destroys at the next apply (and, if the
same object is declared under a new address, tries to create again). The snapshot in
`tests/addresses/<environment>.json` records every address and every rendered
`moved`/`removed` block; `tests/test_address_lock.py` compares each synthesis with it.

Rules, for each stack:
- a recorded address must still exist, or be the source of a rendered `moved` block
  (chains allowed) or of a declared `Removal` (`components/shared/moves.py`);
- a synthesized address must be recorded, or be the target of a move from a recorded
  one (a new resource needs only a refresh of the snapshot);
- a recorded `moved` block must still be rendered (a state file may still hold its source).

Refreshing never breaks the lock: it refuses to write a snapshot while an address
vanished without a declared move or removal, or a recorded move was dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = REPO_ROOT / "tests" / "addresses"
LOCKED_ENVIRONMENTS: tuple[str, ...] = ("prod", "staging")
REFRESH_COMMAND = "make addresses"
MOVES_FILE = "components/shared/moves.py"


@dataclass(frozen=True)
class StackAddresses:
    """What one synthesized stack declares: resource addresses and its state blocks."""

    resources: frozenset[str]
    moved: frozenset[tuple[str, str]] = frozenset()
    removed: frozenset[str] = frozenset()

    def as_json(self) -> dict[str, Any]:
        return {"resources": sorted(self.resources),
                "moved": [{"from": old, "to": new} for old, new in sorted(self.moved)],
                "removed": sorted(self.removed)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> StackAddresses:
        return StackAddresses(resources=frozenset(data.get("resources", [])),
                              moved=frozenset((m["from"], m["to"]) for m in data.get("moved", [])),
                              removed=frozenset(data.get("removed", [])))


Addresses = Mapping[str, StackAddresses]
"""Stack id -> its addresses."""


def stack_addresses(stack_json: Mapping[str, Any]) -> StackAddresses:
    resources = frozenset(f"{kind}.{name}" for kind, named in stack_json.get("resource", {}).items()
                          for name in named)
    return StackAddresses(
        resources=resources,
        moved=frozenset((block["from"], block["to"]) for block in stack_json.get("moved", [])),
        removed=frozenset(block["from"] for block in stack_json.get("removed", [])),
    )


def synthesized_addresses(outdir: Path) -> dict[str, StackAddresses]:
    """Addresses of every stack in a synthesized cdktf output directory."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {stack_id: stack_addresses(json.loads((outdir / entry["synthesizedStackPath"]).read_text()))
            for stack_id, entry in sorted(manifest["stacks"].items())}


# --- the rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    environment: str
    stack_id: str
    address: str
    problem: str
    fix: str

    def describe(self) -> str:
        return f"  {self.stack_id}: {self.address}: {self.problem}\n    fix: {self.fix}"


def _moved_targets(address: str, moved: Iterable[tuple[str, str]]) -> set[str]:
    """Every address `address` ends up at through a chain of moved blocks."""
    by_source: dict[str, set[str]] = {}
    for old, new in moved:
        by_source.setdefault(old, set()).add(new)
    reached: set[str] = set()
    pending = [address]
    while pending:
        for target in by_source.get(pending.pop(), set()) - reached:
            reached.add(target)
            pending.append(target)
    return reached


def vanished(environment: str, snapshot: Addresses, current: Addresses,
             destroyed_on_purpose: Mapping[str, set[str]]) -> list[Violation]:
    """Recorded addresses that are gone without a move, a `removed` block or a declared removal."""
    found: list[Violation] = []
    for stack_id, recorded in sorted(snapshot.items()):
        now = current.get(stack_id, StackAddresses(frozenset()))
        for address in sorted(recorded.resources - now.resources):
            if _moved_targets(address, now.moved) & now.resources or address in now.removed \
                    or address in destroyed_on_purpose.get(stack_id, set()):
                continue
            found.append(Violation(environment, stack_id, address, _vanished_problem(stack_id, now),
                                   _vanished_fix(stack_id, address, recorded, now)))
    return found


def _vanished_problem(stack_id: str, now: StackAddresses) -> str:
    if not now.resources:
        return (f"stack {stack_id} is gone; every state of it holds this address, and its objects "
                "would be left unmanaged or destroyed")
    return ("vanished without a declared move: a state holding it destroys the object at the next apply "
            "(and creates it again if it is declared under a new address)")


def _vanished_fix(stack_id: str, address: str, recorded: StackAddresses, now: StackAddresses) -> str:
    kind = address.split(".")[0]
    appeared = sorted(a for a in now.resources - recorded.resources if a.split(".")[0] == kind)
    target = appeared[0] if len(appeared) == 1 else "<new address>"
    hint = f" (new {kind} here: {', '.join(appeared)})" if appeared else ""
    return (f"renamed or moved a construct? add to {MOVES_FILE} MOVES: "
            f"Move({stack_id!r}, {address!r}, {target!r}, why=\"...\"){hint}; "
            f"removed on purpose? add to REMOVALS: Removal({stack_id!r}, {address!r}, keep_object=..., "
            "why=\"...\")")


def unrecorded(environment: str, snapshot: Addresses, current: Addresses) -> list[Violation]:
    """Synthesized addresses the snapshot does not know, and that no recorded address moved to."""
    found: list[Violation] = []
    for stack_id, now in sorted(current.items()):
        recorded = snapshot.get(stack_id, StackAddresses(frozenset()))
        moved_in = {target for address in recorded.resources for target in _moved_targets(address, now.moved)}
        for address in sorted(now.resources - recorded.resources - moved_in):
            found.append(Violation(
                environment, stack_id, address,
                f"not in tests/addresses/{environment}.json",
                f"a deliberate new resource? record it with `{REFRESH_COMMAND}` (then commit the snapshot)"))
    return found


def dropped_moves(environment: str, snapshot: Addresses, current: Addresses) -> list[Violation]:
    """Recorded moved blocks that are no longer rendered."""
    found: list[Violation] = []
    for stack_id, recorded in sorted(snapshot.items()):
        now = current.get(stack_id, StackAddresses(frozenset()))
        for old, new in sorted(recorded.moved - now.moved):
            found.append(Violation(
                environment, stack_id, old,
                f"its moved block (to {new}) is no longer rendered; a state not applied since still holds {old}",
                f"keep the Move in {MOVES_FILE}"))
    return found


def breaking_violations(environment: str, snapshot: Addresses, current: Addresses,
                        destroyed_on_purpose: Mapping[str, set[str]]) -> list[Violation]:
    """What would destroy an object somewhere: a refresh must not paper over these."""
    return vanished(environment, snapshot, current, destroyed_on_purpose) \
        + dropped_moves(environment, snapshot, current)


def report(title: str, violations: Iterable[Violation]) -> str:
    return title + "\n" + "\n".join(violation.describe() for violation in violations)


def destroyed_on_purpose() -> dict[str, set[str]]:
    """Declared removals that let Terraform destroy the object (nothing is rendered for them)."""
    from components.shared.moves import REMOVALS

    wanted: dict[str, set[str]] = {}
    for removal in REMOVALS:
        if not removal.keep_object:
            wanted.setdefault(removal.stack_id, set()).add(removal.address)
    return wanted


# --- the snapshot ---------------------------------------------------------------------


def snapshot_path(environment: str) -> Path:
    return SNAPSHOT_DIR / f"{environment}.json"


def read_snapshot(environment: str) -> dict[str, StackAddresses]:
    path = snapshot_path(environment)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {stack_id: StackAddresses.from_json(stack) for stack_id, stack in data["stacks"].items()}


def write_snapshot(environment: str, current: Addresses) -> Path:
    path = snapshot_path(environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "Every resource address per stack: a contract with every state file. Checked by "
                 f"tests/test_address_lock.py; refresh with `{REFRESH_COMMAND}` (it refuses to drop an "
                 f"address without a move or removal declared in {MOVES_FILE}).",
        "environment": environment,
        "stacks": {stack_id: addresses.as_json() for stack_id, addresses in sorted(current.items())},
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def synthesize_environment(environment: str, outdir: Path) -> dict[str, StackAddresses]:
    """The environment's addresses and code-declared moves: adoption files are left out (their
    `moved` blocks are one deployment's takeover, not a change of this project's addresses)."""
    from cdktf import App

    from components.registry import build_stacks
    from config.common import load_config

    no_adoption = outdir.parent / f"{outdir.name}-no-adoption"
    no_adoption.mkdir(parents=True, exist_ok=True)
    app = App(outdir=str(outdir))
    build_stacks(app, load_config(environment), adoption_from=no_adoption)
    app.synth()
    return synthesized_addresses(outdir)


def _changes(snapshot: Addresses, current: Addresses) -> list[str]:
    lines: list[str] = []
    for stack_id in sorted(set(snapshot) | set(current)):
        before = snapshot.get(stack_id, StackAddresses(frozenset())).resources
        after = current.get(stack_id, StackAddresses(frozenset())).resources
        lines += [f"  + {stack_id}: {address}" for address in sorted(after - before)]
        lines += [f"  - {stack_id}: {address}" for address in sorted(before - after)]
    return lines


def refresh(environments: Iterable[str], *, write: bool) -> int:
    failed = False
    with tempfile.TemporaryDirectory(prefix="lgtm-addresses-") as scratch:
        for environment in environments:
            current = synthesize_environment(environment, Path(scratch) / environment)
            snapshot = read_snapshot(environment)
            breaking = breaking_violations(environment, snapshot, current, destroyed_on_purpose())
            if breaking:
                failed = True
                print(report(f"{environment}: not refreshed, {len(breaking)} address(es) would lose their "
                             "objects:", breaking), file=sys.stderr)
                continue
            changes = _changes(snapshot, current)
            if write and (changes or snapshot != current):
                print(f"{environment}: wrote {write_snapshot(environment, current).relative_to(REPO_ROOT)}")
            else:
                print(f"{environment}: snapshot is current" if not changes else f"{environment}: would change")
            for line in changes:
                print(line)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="refresh the resource-address snapshots in tests/addresses/")
    parser.add_argument("--check", action="store_true", help="report only, write nothing")
    parser.add_argument("--environment", action="append", choices=LOCKED_ENVIRONMENTS,
                        help="only this environment (repeatable; default: all locked ones)")
    args = parser.parse_args(argv)
    return refresh(args.environment or LOCKED_ENVIRONMENTS, write=not args.check)


if __name__ == "__main__":
    sys.exit(main())
