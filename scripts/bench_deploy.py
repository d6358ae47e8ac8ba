"""The deploy figures of `make bench`: `make deploy-local`, its plans and its destroy, timed as the user runs them.

Each step is the real command in a subprocess (`python -m scripts.deploy_local deploy|plan|destroy`),
so the end-to-end figure includes synth, the emulator's start and the bootstrap bucket.
Per-stack figures come from the commands' own progress lines (`[+12.3s → +40.1s] 20-storage ok
(27.8 s)`), and the slowest resource of each stack from terraform's "Creation complete after"
lines in `.local/logs/<stack>.log`: where a stack's time goes, usually a provider's fixed wait
(docs/benchmarks.md).

It refuses to run while `.local/emulator.json` records a running emulator: the destroy at the
end would tear down the user's own deployment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scripts import deploy_local

PROGRESS = re.compile(r"^\[\+(?P<start>\d+\.\d)s → \+(?P<end>\d+\.\d)s\] (?P<stack>\S+) (?P<verb>\S+) "
                      r"\((?P<seconds>\d+\.\d) s\)")
RESOURCE_DONE = re.compile(r"^(?P<address>\S+): (?:Creation|Destruction|Modifications) complete after "
                           r"(?:(?P<minutes>\d+)m)?(?P<seconds>\d+)s")
GOAL_DEPLOY_S = 120.0
GOAL_APPLY_RATIO = 1.5
Say = Callable[[str], None]


@dataclass(frozen=True)
class StackTime:
    stack_id: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class StepFigures:
    """One command: its wall time and the per-stack lines it printed."""

    name: str
    wall: float
    stacks: list[StackTime] = field(default_factory=list)
    synth: str = ""
    """deploy's `synth:` line: whether it synthesized (and how long) or reused a fresh cdktf.out."""

    @property
    def longest(self) -> StackTime:
        return max(self.stacks, key=lambda stack: stack.seconds)

    @property
    def stacks_wall(self) -> float:
        """First stack's start to last stack's end: the runner's share of the command."""
        return max(stack.end for stack in self.stacks) - min(stack.start for stack in self.stacks)

    @property
    def ratio_to_longest(self) -> float:
        return self.stacks_wall / self.longest.seconds


def parse_progress(output: str) -> list[StackTime]:
    return [StackTime(match["stack"], float(match["start"]), float(match["end"]))
            for match in map(PROGRESS.match, output.splitlines()) if match and match["verb"] != "FAILED"]


def slowest_resource(log_text: str) -> tuple[str, int] | None:
    """The resource terraform took longest on in one stack's log: (address, seconds)."""
    found = [(m["address"], int(m["minutes"] or 0) * 60 + int(m["seconds"]))
             for m in map(RESOURCE_DONE.match, log_text.splitlines()) if m]
    return max(found, key=lambda item: item[1]) if found else None


def run_step(name: str, args: list[str], say: Say) -> StepFigures:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "scripts.deploy_local", *args], cwd=deploy_local.REPO_ROOT,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        # deploy_local plan exits 2 when a stack plans changes: the figures would not be of a clean deploy.
        raise SystemExit(f"bench: deploy_local {' '.join(args)} failed (exit {result.returncode}):\n"
                         f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    synth = [line for line in result.stdout.splitlines() if line.startswith("synth:")]
    figures = StepFigures(name, wall, parse_progress(result.stdout), synth[0] if synth else "")
    say(f"  {name}: {wall:.1f} s wall, {len(figures.stacks)} stacks")
    return figures


def deployment_recorded() -> bool:
    record = deploy_local.EmulatorRecord.load()
    return record is not None and record.running


def measure(say: Say) -> dict[str, StepFigures]:
    """deploy, plan, destroy once each, in that order (a fresh emulator each time)."""
    if deployment_recorded():
        raise SystemExit("bench: a local deployment is running (.local/emulator.json): the deploy figures end "
                         "with a destroy. Run make destroy-local first, or BENCH_ARGS=--no-deploy")
    say("deploy figures: make deploy-local, its no-drift plans, make destroy-local (one run each)")
    steps: dict[str, StepFigures] = {}
    try:
        steps["deploy"] = run_step("deploy", ["deploy", "--port", "0"], say)
        steps["plan"] = run_step("plan", ["plan"], say)
    finally:
        steps["destroy"] = run_step("destroy", ["destroy"], say)
    return steps


def slowest_resources(log_dir: Path, stack_ids: list[str]) -> dict[str, tuple[str, int] | None]:
    """Read from the apply section of each log (deploy empties them first; destroy appends later)."""
    slowest: dict[str, tuple[str, int] | None] = {}
    for stack_id in stack_ids:
        path = log_dir / f"{stack_id}.log"
        text = path.read_text(errors="replace") if path.is_file() else ""
        slowest[stack_id] = slowest_resource(text.split("$ terraform destroy")[0])
    return slowest


def report(steps: dict[str, StepFigures], slowest: dict[str, tuple[str, int] | None]) -> list[str]:
    """The markdown tables and goal lines `make bench` prints."""
    deploy, plan, destroy = steps["deploy"], steps["plan"], steps["destroy"]
    lines = ["", "| step | wall (s) | stacks, first start to last end (s) | longest stack (s) | wall / longest |",
             "|---|---|---|---|---|"]
    for step, label in ((deploy, "`make deploy-local` (synth, emulator, bucket, apply, outputs)"),
                        (plan, "no-drift plans"), (destroy, "`make destroy-local`")):
        lines.append(f"| {label} | {step.wall:.1f} | {step.stacks_wall:.1f} | {step.longest.stack_id} "
                     f"{step.longest.seconds:.1f} | {step.ratio_to_longest:.2f} |")
    lines += ["", "| stack | apply start → end (s) | apply (s) | slowest resource (s) | destroy (s) |",
              "|---|---|---|---|---|"]
    destroyed = {stack.stack_id: stack for stack in destroy.stacks}
    for stack in deploy.stacks:
        resource = slowest.get(stack.stack_id)
        gone = destroyed.get(stack.stack_id)
        lines.append(f"| {stack.stack_id} | +{stack.start:.1f} → +{stack.end:.1f} | {stack.seconds:.1f} | "
                     f"{f'{resource[0]} {resource[1]}' if resource else '-'} | "
                     f"{f'{gone.seconds:.1f}' if gone else '-'} |")
    lines += ["", f"deploy's {deploy.synth or 'synth: (no line)'}",
              f"make deploy-local end to end: {deploy.wall:.1f} s (goal < {GOAL_DEPLOY_S:.0f} s: "
              f"{'met' if deploy.wall < GOAL_DEPLOY_S else 'NOT met'})",
              f"apply of all stacks / longest single stack: {deploy.ratio_to_longest:.2f} (goal <= "
              f"{GOAL_APPLY_RATIO}: {'met' if deploy.ratio_to_longest <= GOAL_APPLY_RATIO else 'NOT met'})"]
    return lines


def main(say: Say) -> list[str]:
    steps = measure(say)
    stack_ids = [stack.stack_id for stack in steps["deploy"].stacks]
    return report(steps, slowest_resources(deploy_local.LOCAL_DIR / "logs", stack_ids))


if __name__ == "__main__":
    # The deploy figures alone (`make bench` prints them after the synth figures).
    for line in main(lambda line: print(line, file=sys.stderr, flush=True)):
        print(line)
