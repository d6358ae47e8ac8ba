"""Which stacks drifted, and where: from the `terraform show -json` of each stack's plan.

    python -m scripts.drift_report <dir of <stack>.json plans> [--summary FILE]

The scheduled drift check plans every stack with `-detailed-exitcode` and the plan role, then
hands the saved plans here. A stack drifted when its plan would change anything (a resource
change other than no-op or read, or a changed output) or its refresh found an object changed
outside Terraform (`resource_drift`). Prints one line per stack and each changed address with
its actions, writes the same as Markdown to `--summary` ($GITHUB_STEP_SUMMARY), and exits 1
when any stack drifted, 0 when none did.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUIET_ACTIONS = ({"no-op"}, {"read"})
"""Actions that change nothing: a resource left alone, a data source read during plan."""


@dataclass(frozen=True)
class Change:
    address: str
    actions: tuple[str, ...]
    kind: str  # "planned" (the plan would act) or "drift" (found changed outside Terraform)

    def describe(self) -> str:
        return f"{self.address}: {'/'.join(self.actions)}" + (" (changed outside Terraform)"
                                                              if self.kind == "drift" else "")


def _actions(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(entry.get("change", {}).get("actions", []))


def changes(plan: Mapping[str, Any]) -> list[Change]:
    """Every address the plan would change, and every object its refresh found drifted."""
    found = [Change(r["address"], _actions(r), "planned") for r in plan.get("resource_changes", [])
             if set(_actions(r)) not in QUIET_ACTIONS]
    # An output's entry is the change itself (no "change" wrapper), as `terraform show -json` writes it.
    found += [Change(f"output.{name}", tuple(o.get("actions", [])), "planned")
              for name, o in sorted(plan.get("output_changes", {}).items())
              if set(o.get("actions", [])) not in QUIET_ACTIONS]
    found += [Change(r["address"], _actions(r), "drift") for r in plan.get("resource_drift", [])
              if set(_actions(r)) not in QUIET_ACTIONS]
    return found


def drifted(plans: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Change]]:
    """Stack id -> its changes, for the stacks with any (in the order given)."""
    return {stack_id: found for stack_id, plan in plans.items() if (found := changes(plan))}


def report_lines(result: Mapping[str, list[Change]], planned: int) -> list[str]:
    if not result:
        return [f"No drift: {planned} stack(s) planned, none would change."]
    lines = [f"Drift in {len(result)} of {planned} stack(s): {', '.join(result)}"]
    for stack_id, found in result.items():
        lines.append(f"{stack_id}:")
        lines += [f"  {change.describe()}" for change in found]
    return lines


def load_plans(directory: Path) -> dict[str, dict[str, Any]]:
    """`<stack>.json` files of a directory, by stack id, sorted."""
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no <stack>.json plans in {directory}")
    return {path.stem: json.loads(path.read_text()) for path in paths}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plans", type=Path, help="directory of `terraform show -json` outputs, one <stack>.json each")
    parser.add_argument("--summary", type=Path, help="append the report as Markdown ($GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)
    try:
        plans = load_plans(args.plans)
    except (OSError, ValueError) as error:
        print(f"drift_report: {error}", file=sys.stderr)
        return 2
    result = drifted(plans)
    lines = report_lines(result, len(plans))
    print("\n".join(lines))
    if args.summary:
        with args.summary.open("a") as out:
            out.write("### Drift check\n\n```\n" + "\n".join(lines) + "\n```\n")
    return 1 if result else 0


if __name__ == "__main__":
    sys.exit(main())
