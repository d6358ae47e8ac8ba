"""`make adopt STACK=<id>`: take over an existing deployment without destroying anything.

    python -m scripts.adopt --stack 50-alb [--environment prod] [--allow-destroy ADDRESS ...]
                            [--adoption-dir adoption]

1. Synthesizes the app (with the adoption files already there).
2. Reads the stack's existing state read-only, through the stack's own backend:
   `terraform init` in a scratch copy, then `terraform show -json` (no lock, no write).
3. Matches each resource of that state to a synthesized one by type and identity
   (`scripts/adoption_match.py`): kept (same address), moved (same stack, new address),
   owned by another stack now, or unmatched.
4. Looks up, with read-only describe calls, the stack's other resources that already
   exist in AWS by name (`scripts/adoption_lookup.py`): they are imported, not created.
5. Writes the candidate adoption file into a scratch copy of the adoption directory,
   synthesizes with it and runs `terraform plan -lock=false` on every stack it changes.
6. Prints the table and each plan. If a plan destroys or replaces anything not named
   with `--allow-destroy`, it exits 1 listing those addresses and writes nothing;
   otherwise it writes `adoption/<environment>/<stack>.json` for review and commit.

Terraform and boto3 use the caller's AWS environment (profile, keys, region from config).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.adoption_lookup import FINDERS, ClientFactory, Found, LookupFailed, boto_clients
from scripts.adoption_match import (
    MOVED,
    OTHER_STACK,
    SAME_ADDRESS,
    UNMATCHED,
    Match,
    SynthesizedIdentities,
    SynthesizedResource,
    import_id,
    legacy_resources,
    match_state,
)
from scripts.plan_summary import Destroyed, PlanSummary, summarize
from scripts.terraform_cli import ToolMissing, mirror_cli_config_if_set, run_terraform, terraform_env

Say = Callable[[str], None]
STEPS = 6


class AdoptError(RuntimeError):
    """A step that cannot go on: says which and why (no traceback)."""


def say_now(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class Imported:
    """An object this stack (or another) will import, and how it was found."""

    stack_id: str
    address: str
    import_id: str
    found: str


@dataclass
class Adoption:
    environment: str
    stack_id: str
    legacy_state: str
    matches: list[Match] = field(default_factory=list)
    found_in_aws: list[Imported] = field(default_factory=list)
    new: list[SynthesizedResource] = field(default_factory=list)
    allowed_destroy: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Match]:
        return [m for m in self.matches if m.kind == kind]

    def imports(self) -> list[Imported]:
        across = [Imported(m.target.stack_id, m.target.address, import_id(m.legacy.type, m.legacy.values),
                           f"state of {self.stack_id}: {m.legacy.address}")
                  for m in self.of_kind(OTHER_STACK) if m.target]
        return across + self.found_in_aws

    def stacks_changed(self) -> list[str]:
        return sorted({self.stack_id} | {imported.stack_id for imported in self.imports()})

    def document(self) -> dict[str, Any]:
        """The adoption file: what synth renders (moved/import/removed) and what the reviewer reads."""
        return {
            "format": 1,
            "about": f"Written by `make adopt STACK={self.stack_id}`. Review it and the plans it printed, commit "
                     f"it, then apply {', '.join(self.stacks_changed())}. Rendered by components/shared/adoption.py.",
            "environment": self.environment,
            "stack": self.stack_id,
            "legacy_state": self.legacy_state,
            "moved": [{"from": m.legacy.address, "to": m.target.address, "identity": m.identity}
                      for m in self.of_kind(MOVED) if m.target],
            "import": [{"stack": i.stack_id, "to": i.address, "id": i.import_id, "found": i.found}
                       for i in self.imports()],
            "removed": [{"from": m.legacy.address, "now": f"{m.target.stack_id} {m.target.address}",
                         "identity": m.identity} for m in self.of_kind(OTHER_STACK) if m.target],
            "unmatched": [{"address": m.legacy.address, "identity": m.identity, "why": m.note}
                          for m in self.of_kind(UNMATCHED)],
            "allowed_destroy": sorted(self.allowed_destroy),
        }


# --- steps --------------------------------------------------------------------------------


def synthesize(config: Any, adoption_from: Path, outdir: Path) -> dict[str, dict[str, Any]]:
    from cdktf import App

    from components.registry import STACK_IDS, build_stacks

    app = App(outdir=str(outdir))
    build_stacks(app, config, adoption_from=adoption_from)
    app.synth()
    return {stack_id: json.loads((outdir / "stacks" / stack_id / "cdk.tf.json").read_text())
            for stack_id in STACK_IDS}


def state_location(stack: Mapping[str, Any]) -> str:
    s3 = stack.get("terraform", {}).get("backend", {}).get("s3")
    return f"s3://{s3['bucket']}/{s3['key']}" if s3 else "(the stack's backend)"


def terraform(stack_dir: Path, *args: str, env: dict[str, str], what: str) -> str:
    try:
        return run_terraform(stack_dir, *args, env=env).stdout
    except ToolMissing as error:
        raise AdoptError(str(error)) from None
    except RuntimeError as error:
        raise AdoptError(f"{what}: {error}") from None


def read_legacy_state(stack_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """`terraform show -json` of the stack's current state: init reads the backend, nothing is locked or written."""
    terraform(stack_dir, "init", "-input=false", "-no-color", env=env, what="terraform init (reading the state)")
    shown = terraform(stack_dir, "show", "-json", "-no-color", env=env, what="terraform show (reading the state)")
    return json.loads(shown)


def claimed_targets(matches: Iterable[Match]) -> set[tuple[str, str]]:
    return {(m.target.stack_id, m.target.address) for m in matches if m.target}


def look_up_in_aws(stack_id: str, synthesized: SynthesizedIdentities, matches: Sequence[Match],
                   clients: ClientFactory, say: Say) -> tuple[list[Imported], list[SynthesizedResource]]:
    """The stack's resources no legacy resource matched: found in AWS (import) or new (create)."""
    claimed = claimed_targets(matches)
    found: list[Imported] = []
    new: list[SynthesizedResource] = []
    for resource in synthesized.in_stack(stack_id):
        if (stack_id, resource.address) in claimed:
            continue
        finder = FINDERS.get(resource.type)
        name = synthesized.literal(resource, finder[0]) if finder else None
        hit: Found | None = None
        if finder and name:
            say(f"      {resource.type} {name} ...")
            try:
                hit = finder[1](clients, name)
            except LookupFailed as error:
                raise AdoptError(str(error)) from None
        if hit:
            found.append(Imported(stack_id, resource.address, hit.import_id, f"AWS, in no state of {stack_id}: "
                                  f"{hit.how}"))
        else:
            new.append(resource)
    return found, new


def plan(stack_id: str, stack_dir: Path, env: dict[str, str], reads: Iterable[str]) -> PlanSummary:
    terraform(stack_dir, "init", "-input=false", "-no-color", env=env, what=f"terraform init of {stack_id}")
    result = run_terraform(stack_dir, "plan", "-lock=false", "-input=false", "-no-color", "-out=adopt.tfplan",
                           env=env, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        hint = ""
        if "cross-stack-output-" in output or "Unsupported attribute" in output:
            hint = (f"\nhint: {stack_id} reads the outputs of {', '.join(sorted(reads)) or 'other stacks'}; "
                    "adopt and apply those first, in stack order")
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise AdoptError(f"terraform plan of {stack_id} failed (exit {result.returncode}):\n{tail}{hint}")
    shown = terraform(stack_dir, "show", "-json", "-no-color", "adopt.tfplan", env=env,
                      what=f"terraform show of {stack_id}'s plan")
    return summarize(stack_id, json.loads(shown), result.stdout)


def producers(stack: Mapping[str, Any], stacks: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The stacks whose state this one reads (terraform_remote_state)."""
    keys = {(s.get("terraform", {}).get("backend", {}).get("s3", {}).get("key")): stack_id
            for stack_id, s in stacks.items()}
    return {keys[r["config"]["key"]] for r in stack.get("data", {}).get("terraform_remote_state", {}).values()
            if r.get("config", {}).get("key") in keys}


# --- output ---------------------------------------------------------------------------------


def table(adoption: Adoption) -> list[str]:
    rows: list[tuple[str, str, str, str]] = []
    for m in adoption.matches:
        target = f"{m.target.stack_id} {m.target.address}" if m.target else "-"
        detail = m.note if m.kind == UNMATCHED else m.identity
        if m.kind == OTHER_STACK and m.target:
            detail = f"{m.identity}; import {import_id(m.legacy.type, m.legacy.values)} there, removed here"
        label = {SAME_ADDRESS: "matched (kept)", MOVED: "matched (moved)", OTHER_STACK: "move across stacks",
                 UNMATCHED: "unmatched"}[m.kind]
        rows.append((label, m.legacy.address, target, detail))
    for imported in adoption.found_in_aws:
        rows.append(("to import", "AWS (no state)", f"{imported.stack_id} {imported.address}",
                     f"{imported.import_id} ({imported.found.split(': ', 1)[-1]})"))
    for resource in adoption.new:
        rows.append(("new", "-", f"{resource.stack_id} {resource.address}", "created by the apply"))
    widths = [max([len(row[i]) for row in rows] + [len(h)]) for i, h in enumerate(("kind", "from", "to"))]
    lines = [f"  {'kind':<{widths[0]}}  {'from':<{widths[1]}}  {'to':<{widths[2]}}  identity / id"]
    lines += [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows]
    matched = len(adoption.of_kind(SAME_ADDRESS)) + len(adoption.of_kind(MOVED))
    lines.append(f"  matched: {matched} ({len(adoption.of_kind(MOVED))} moved), to import: "
                 f"{len(adoption.imports())}, to move across stacks: {len(adoption.of_kind(OTHER_STACK))}, "
                 f"unmatched: {len(adoption.of_kind(UNMATCHED))}, new: {len(adoption.new)}")
    return lines


def refused(destroyed: Mapping[str, Sequence[Destroyed]], allowed: set[str]) -> list[tuple[str, Destroyed]]:
    """(stack, destroy) for every destroy or replacement not named with --allow-destroy."""
    return [(stack_id, item) for stack_id, items in destroyed.items()
            for item in items if not item.names() & allowed]


# --- the command ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    adoption: Adoption
    plans: dict[str, PlanSummary]
    written: Path | None
    refused: list[tuple[str, Destroyed]]


def adopt(stack_id: str, *, environment: str, adoption_root: Path, allow_destroy: Iterable[str] = (),
          base_env: Mapping[str, str] | None = None, clients: ClientFactory | None = None,
          say: Say = say_now) -> Outcome:
    from components.registry import STACK_IDS
    from components.shared.adoption import adoption_path
    from config.common import load_config

    if stack_id not in STACK_IDS:
        raise AdoptError(f"--stack must be one of {', '.join(STACK_IDS)} (got {stack_id!r})")
    env_base = dict(os.environ if base_env is None else base_env)
    config = load_config(environment)
    allowed = set(allow_destroy)
    with tempfile.TemporaryDirectory(prefix=f"lgtm-adopt-{stack_id}-") as scratch_name:
        scratch = Path(scratch_name)
        env = terraform_env(mirror_cli_config_if_set(scratch), base=env_base)
        started = time.monotonic()

        say(f"[1/{STEPS}] synth {environment} (adoption files from {adoption_root}) ...")
        stacks = synthesize(config, adoption_root, scratch / "base")
        synthesized = SynthesizedIdentities(stacks)
        location = state_location(stacks[stack_id])

        say(f"[2/{STEPS}] read {stack_id}'s state, read-only: {location} ...")
        shutil.copytree(scratch / "base" / "stacks" / stack_id, scratch / "state" / stack_id)
        legacy = legacy_resources(read_legacy_state(scratch / "state" / stack_id, env))
        say(f"      {len(legacy)} managed resource(s) in that state")

        say(f"[3/{STEPS}] match by type and identity ...")
        adoption = Adoption(environment, stack_id, location, allowed_destroy=sorted(allowed))
        adoption.matches = match_state(stack_id, legacy, synthesized)

        say(f"[4/{STEPS}] look up {stack_id}'s other resources in AWS (read-only) ...")
        adoption.found_in_aws, adoption.new = look_up_in_aws(
            stack_id, synthesized, adoption.matches, clients or boto_clients(env_base, config.aws_region), say)

        say(f"[5/{STEPS}] plan {', '.join(adoption.stacks_changed())} with the candidate adoption file ...")
        candidate, plans = plan_candidate(adoption, config, adoption_root, scratch, env, say)

        say(f"[6/{STEPS}] result ({time.monotonic() - started:.0f} s):")
        blocked = report_result(adoption, plans, allowed, say)
        if blocked:
            return Outcome(adoption, plans, None, blocked)
        target = adoption_path(adoption_root, environment, stack_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(candidate, target)
        return Outcome(adoption, plans, target, [])


def plan_candidate(adoption: Adoption, config: Any, adoption_root: Path, scratch: Path, env: dict[str, str],
                   say: Say) -> tuple[Path, dict[str, PlanSummary]]:
    """Write the candidate file into a scratch copy of the adoption files, synthesize with it and plan
    every stack it changes. The real adoption directory is not touched."""
    from components.shared.adoption import adoption_path

    trial_root = scratch / "adoption"
    if adoption_root.is_dir():
        shutil.copytree(adoption_root, trial_root)
    candidate = adoption_path(trial_root, adoption.environment, adoption.stack_id)
    candidate.parent.mkdir(parents=True, exist_ok=True)
    candidate.write_text(json.dumps(adoption.document(), indent=2) + "\n")
    trial = synthesize(config, trial_root, scratch / "trial")
    plans: dict[str, PlanSummary] = {}
    for planned in adoption.stacks_changed():
        shutil.copytree(scratch / "trial" / "stacks" / planned, scratch / "plan" / planned)
        plans[planned] = plan(planned, scratch / "plan" / planned, env, producers(trial[planned], trial))
        say(f"      {planned}: {plans[planned].line}")
    return candidate, plans


def report_result(adoption: Adoption, plans: Mapping[str, PlanSummary], allowed: set[str],
                  say: Say) -> list[tuple[str, Destroyed]]:
    """Print the table and the plans; return the destroys nobody allowed."""
    for line in table(adoption):
        say(line)
    for summary in plans.values():
        say(f"  plan {summary.stack_id}: {summary.line}  [{summary.counts()}]")
    named = {name for p in plans.values() for item in p.destroyed for name in item.names()}
    for unused in sorted(allowed - named):
        say(f"  note: --allow-destroy {unused} names nothing the plans destroy")
    return refused({s: p.destroyed for s, p in plans.items()}, allowed)


def main(argv: list[str] | None = None) -> int:
    from components.registry import STACK_IDS
    from components.shared.adoption import adoption_dir
    from components.shared.state_blocks import StateBlockError
    from config.common import selected_environment
    from config.validation import ConfigError

    parser = argparse.ArgumentParser(description="adopt an existing deployment into one stack's state")
    parser.add_argument("--stack", default="", help=f"the stack to adopt: one of {', '.join(STACK_IDS)}")
    parser.add_argument("--environment", default=selected_environment(None),
                        help="environment (default: $LGTM_ENVIRONMENT or prod)")
    parser.add_argument("--allow-destroy", action="append", default=[], metavar="ADDRESS",
                        help="accept that the plan destroys or replaces this address (repeatable)")
    parser.add_argument("--adoption-dir", type=Path, default=None,
                        help="where adoption files live (default: $LGTM_ADOPTION_DIR or adoption/)")
    args = parser.parse_args(argv)
    if not args.stack:
        print(f"make adopt needs STACK=<stack id>, one of: {', '.join(STACK_IDS)}", file=sys.stderr)
        return 2
    try:
        outcome = adopt(args.stack, environment=args.environment, adoption_root=args.adoption_dir or adoption_dir(),
                        allow_destroy=args.allow_destroy)
    except (AdoptError, ConfigError, StateBlockError) as error:
        print(f"\nadopt {args.stack}: FAILED: {error}", file=sys.stderr)
        return 1
    if outcome.refused:
        print(f"\nadopt {args.stack}: REFUSED: the plan would destroy or replace {len(outcome.refused)} object(s):",
              file=sys.stderr)
        for stack_id, destroyed in outcome.refused:
            print(f"  {stack_id}: {destroyed.describe()}", file=sys.stderr)
        accept = " ".join(f"--allow-destroy '{destroyed.address}'" for _, destroyed in outcome.refused)
        print("Nothing was written. Make the configuration match (for a replacement, the attributes named above), "
              f"or accept each one on purpose: make adopt STACK={args.stack} ADOPT_ARGS=\"{accept}\"",
              file=sys.stderr)
        return 1
    print(f"\nwrote {outcome.written}: review it, commit it, then apply "
          f"{', '.join(outcome.adoption.stacks_changed())} (in stack order)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
