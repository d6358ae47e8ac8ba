"""What a saved plan would do, from `terraform show -json <plan>`: counts and what it destroys.

Used by `make adopt` (which refuses destroys) and the adoption e2e test. A replacement
(`delete` + `create`, in either order) destroys the object as surely as a `delete`;
`forget` (a `removed` block with `destroy = false`) leaves it in AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PLAN_LINE = re.compile(r"^(Plan: .*|No changes\..*)$", re.MULTILINE)


@dataclass(frozen=True)
class Destroyed:
    address: str
    previous_address: str | None
    how: str  # "delete" or "replace"
    because: tuple[str, ...] = ()
    """For a replacement: the attributes that force it (`replace_paths`)."""

    def names(self) -> set[str]:
        """The addresses an operator may use to allow it: the address, or where it moved from."""
        return {self.address} | ({self.previous_address} if self.previous_address else set())

    def describe(self) -> str:
        moved = f" (was {self.previous_address})" if self.previous_address else ""
        because = f", forced by {', '.join(self.because)}" if self.because else ""
        return f"{self.address}{moved}: {self.how}{because}"


@dataclass(frozen=True)
class PlanSummary:
    stack_id: str
    line: str
    """Terraform's own summary line, e.g. `Plan: 1 to import, 12 to add, 2 to change, 0 to destroy.`"""
    add: int
    change: int
    destroy: int
    replace: int
    imports: int
    moves: int
    forget: int
    destroyed: tuple[Destroyed, ...]

    def counts(self) -> str:
        return (f"{self.imports} to import, {self.add} to add, {self.change} to change, {self.destroy} to destroy "
                f"({self.replace} of them replaced), {self.forget} to forget, {self.moves} moved")


def terraform_plan_line(output: str) -> str:
    """The `Plan: ...` / `No changes.` line of `terraform plan`'s human output."""
    found = _PLAN_LINE.findall(output)
    return found[-1].strip() if found else "(terraform printed no plan line)"


def summarize(stack_id: str, plan: Mapping[str, Any], output: str = "") -> PlanSummary:
    counts = dict(add=0, change=0, destroy=0, replace=0, imports=0, moves=0, forget=0)
    destroyed: list[Destroyed] = []
    for resource in plan.get("resource_changes", []):
        if resource.get("mode", "managed") != "managed":
            continue
        change: Mapping[str, Any] = resource["change"]
        actions = set(change.get("actions", []))
        previous = resource.get("previous_address")
        counts["imports"] += 1 if change.get("importing") else 0
        counts["moves"] += 1 if previous else 0
        counts["forget"] += 1 if "forget" in actions else 0
        counts["add"] += 1 if "create" in actions else 0
        counts["change"] += 1 if "update" in actions else 0
        if "delete" in actions:
            counts["destroy"] += 1
            replaced = "create" in actions
            counts["replace"] += 1 if replaced else 0
            because = tuple(".".join(map(str, path)) for path in change.get("replace_paths") or [])
            destroyed.append(Destroyed(resource["address"], previous, "replace" if replaced else "delete", because))
    return PlanSummary(stack_id=stack_id, line=terraform_plan_line(output), destroyed=tuple(destroyed), **counts)
