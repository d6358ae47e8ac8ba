"""`make scan`: checkov on every synthesized stack (and on plan JSON when given).

Runs offline and quietly: no Bridgecrew mapping download, no version check. Every
skip lives in `.checkov.yaml` with its reason; any other finding fails the scan.

  python -m scripts.scan [--stacks cdktf.out/stacks] [--plans DIR_WITH_*.json]
                         [--tfplans DIR_WITH_<stack>.tfplan] [--no-skips]

`--tfplans` takes saved plans (`scripts.deploy_local plan` writes `.local/logs/<stack>.tfplan`),
turns each into JSON with `terraform show -json` in its initialized stack directory under
`--stacks`, and scans those. `--no-skips` ignores `.checkov.yaml`'s skip list (to see
what each skip hides).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scripts.synth_inputs import newest_source_mtime

REPO = Path(__file__).resolve().parent.parent
CONFIG_FILE = REPO / ".checkov.yaml"
# Top-level blocks that change state, not resources (components/shared/state_blocks.py).
# checkov 3.3.30's terraform_json parser cannot read them ("this method receives only
# dicts") and then skips the whole file; they configure nothing it could check.
STATE_BLOCK_TYPES = ("moved", "import", "removed")


@dataclass
class ScanResult:
    framework: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    parsing_errors: int = 0
    findings: list[str] = field(default_factory=list)
    failed_ids: set[str] = field(default_factory=set)
    """Ids of the checks that failed (for the stale-skip test)."""

    def add(self, report: dict) -> None:
        summary = report.get("summary", {})
        self.passed += summary.get("passed", 0)
        self.failed += summary.get("failed", 0)
        self.skipped += summary.get("skipped", 0)
        self.parsing_errors += summary.get("parsing_errors", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            where = check.get("file_path", "").strip("/")
            self.findings.append(f"{check['check_id']} {where} {check['resource']}: {check['check_name']}")
            self.failed_ids.add(check["check_id"])

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.parsing_errors == 0

    def line(self) -> str:
        return (f"{self.framework}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"
                + (f", {self.parsing_errors} parsing errors" if self.parsing_errors else ""))


def checkov_binary() -> str:
    candidate = Path(sys.executable).parent / "checkov"
    if not candidate.exists():
        raise SystemExit("checkov is not installed in this environment: run `make install` "
                         "(it is a pinned dev dependency in Pipfile)")
    return str(candidate)


def checkov_env() -> dict[str, str]:
    return dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false",
                LOG_LEVEL="ERROR", ANSI_COLORS_DISABLED="1")


def skip_list(config_file: Path = CONFIG_FILE) -> list[str]:
    """The check ids `.checkov.yaml` skips."""
    return list(yaml.safe_load(config_file.read_text()).get("skip-check") or [])


def run_checkov(args: list[str], framework: str, *, skips: bool = True) -> ScanResult:
    with tempfile.TemporaryDirectory(prefix="checkov-config-") as scratch:
        config_file = CONFIG_FILE
        if not skips:
            # The same settings with an empty skip list: what the skips hide fails here.
            settings = yaml.safe_load(CONFIG_FILE.read_text())
            settings["skip-check"] = []
            config_file = Path(scratch) / "no-skips.yaml"
            config_file.write_text(yaml.safe_dump(settings))
        cmd = [checkov_binary(), "--framework", framework, "--config-file", str(config_file),
               "--output", "json", "--quiet", "--compact", "--skip-download", *args]
        # checkov also reads a .checkov.yaml in its working directory: run it where there is none,
        # so --config-file alone decides (paths in `args` are absolute).
        result = subprocess.run(cmd, capture_output=True, text=True, env=checkov_env(), cwd=scratch)
    if not result.stdout.strip():
        raise SystemExit(f"checkov produced no report (exit {result.returncode}):\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout)
    scan = ScanResult(framework)
    # checkov prints one report object, or a list of them, or {} (no resources found).
    for part in report if isinstance(report, list) else [report]:
        scan.add(part)
    return scan


def without_state_blocks(stacks_dir: Path, scratch: Path) -> Path:
    """A copy of every `<stack>/cdk.tf.json` without `STATE_BLOCK_TYPES`, in the same layout."""
    for stack_file in sorted(stacks_dir.glob("*/cdk.tf.json")):
        stack = json.loads(stack_file.read_text())
        copy = scratch / stack_file.parent.name / stack_file.name
        copy.parent.mkdir(parents=True)
        copy.write_text(json.dumps({key: value for key, value in stack.items() if key not in STATE_BLOCK_TYPES}))
    return scratch


def scan_stacks(stacks_dir: Path, *, skips: bool = True) -> ScanResult:
    if not any(stacks_dir.glob("*/cdk.tf.json")):
        raise SystemExit(f"no synthesized stacks under {stacks_dir}: run `make synth` first")
    with tempfile.TemporaryDirectory(prefix="checkov-stacks-") as scratch:
        # One run over the parent keeps each finding's path (<stack>/cdk.tf.json).
        scanned = without_state_blocks(stacks_dir, Path(scratch))
        return run_checkov(["--directory", str(scanned.resolve())], "terraform_json", skips=skips)


def scan_plans(plan_files: list[Path], *, skips: bool = True) -> ScanResult:
    if not plan_files:
        raise SystemExit("no plan JSON files to scan")
    args: list[str] = []
    for plan in plan_files:
        args += ["--file", str(plan.resolve())]
    return run_checkov(args, "terraform_plan", skips=skips)


def show_plan_json(*, stack_dir: Path, plan_file: Path, output: Path) -> Path:
    """`terraform show -json <plan>` in the stack's initialized directory, written to `output`.

    Plan JSON resolves what the synthesized JSON leaves as references or strings:
    container definitions, policy documents, values read from remote state.
    """
    terraform = shutil.which("terraform")
    if terraform is None:
        raise SystemExit("terraform is not on PATH: the plan scan needs it to read saved plans")
    env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    result = subprocess.run([terraform, f"-chdir={stack_dir}", "show", "-json", "-no-color", str(plan_file.resolve())],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"terraform show -json {plan_file} failed in {stack_dir} (exit {result.returncode}):\n"
                         f"{result.stderr[-2000:]}")
    json.loads(result.stdout)  # a truncated or non-JSON answer fails here, not inside checkov
    output.write_text(result.stdout)
    return output


def current_plans(tfplans_dir: Path) -> tuple[list[Path], list[Path]]:
    """(current, stale) saved plans: a plan older than the code describes other stacks."""
    newest = newest_source_mtime()
    plans = sorted(tfplans_dir.glob("*.tfplan"))
    return ([plan for plan in plans if plan.stat().st_mtime >= newest],
            [plan for plan in plans if plan.stat().st_mtime < newest])


def plans_to_json(*, tfplans_dir: Path, stacks_dir: Path, output_dir: Path,
                  plan_files: list[Path] | None = None) -> list[Path]:
    """Every `<stack>.tfplan` in `tfplans_dir` (or just `plan_files`) as `<stack>.json` in `output_dir`."""
    converted = []
    for plan_file in plan_files if plan_files is not None else sorted(tfplans_dir.glob("*.tfplan")):
        stack_dir = stacks_dir / plan_file.stem
        if not (stack_dir / ".terraform").is_dir():
            raise SystemExit(f"{plan_file}: {stack_dir} is not an initialized stack directory "
                             "(plans are read where `make deploy-local` ran terraform)")
        converted.append(show_plan_json(stack_dir=stack_dir, plan_file=plan_file,
                                        output=output_dir / f"{plan_file.stem}.json"))
    return converted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="checkov on synthesized stacks and plans")
    parser.add_argument("--stacks", type=Path, default=REPO / "cdktf.out" / "stacks")
    parser.add_argument("--plans", type=Path, default=None,
                        help="directory of `terraform show -json` plan files (<stack>.json)")
    parser.add_argument("--tfplans", type=Path, default=None,
                        help="directory of saved plans (<stack>.tfplan, e.g. .local/logs), read with "
                             "terraform show -json in the matching --stacks directory")
    parser.add_argument("--no-skips", action="store_true",
                        help="ignore .checkov.yaml's skip list (shows what each skip hides)")
    args = parser.parse_args(argv)
    skips = not args.no_skips
    results = [scan_stacks(args.stacks, skips=skips)]
    if args.plans is not None:
        plans = sorted(args.plans.glob("*.json"))
        if not plans:
            raise SystemExit(f"no plan JSON files in {args.plans}")
        results.append(scan_plans(plans, skips=skips))
    if args.tfplans is not None:
        current, stale = current_plans(args.tfplans)
        if stale:
            # Scanning them would report on code that no longer exists: say so, and which.
            print(f"terraform_plan: {len(stale)} saved plan(s) in {args.tfplans} predate the code, not scanned "
                  f"({', '.join(p.stem for p in stale)}): run `python -m scripts.deploy_local plan` "
                  "after `make deploy-local` to refresh them")
        if current:
            with tempfile.TemporaryDirectory(prefix="plan-json-") as scratch:
                plans = plans_to_json(tfplans_dir=args.tfplans, stacks_dir=args.stacks,
                                      output_dir=Path(scratch), plan_files=current)
                results.append(scan_plans(plans, skips=skips))
        elif not stale:
            raise SystemExit(f"no saved plans (*.tfplan) in {args.tfplans}")
    for scan in results:
        print(scan.line())
        for finding in scan.findings:
            print(f"  FAILED {finding}")
    return 0 if all(scan.ok for scan in results) else 1


if __name__ == "__main__":
    sys.exit(main())
