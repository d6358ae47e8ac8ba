"""`make bench`: what synth costs against the jsii import floor, and how it grows.

Every figure is the median of several runs; compared commands alternate within a
round so machine noise hits both alike. Prints ratios, asserts nothing: the goals
are in the table for a reader to judge.

  floor       a process that imports cdktf and the provider modules the app uses, then exits
  app         `python main.py`: every stack, one process
  cli         `npx cdktf synth` (cdktf.json -> pipenv run python main.py)
  scaling     synth time and peak memory (Python + its jsii Node child) for generated
              configs of 6/30/60 services and 1/3 environments, measured inside one
              process after the import, so the import floor is not counted
  tests       `make unit`'s selection (pytest-xdist, 2 workers): wall time, and how many full-app
              synths each worker performs against how many distinct configs it needed
  deploy      `make deploy-local` end to end, its no-drift plans and `make destroy-local`, per stack
              (scripts/bench_deploy.py); `--no-deploy` leaves them out
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts import bench_deploy

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GOAL_RATIO = 1.2
PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"
GOAL_MARGINAL_S = 0.1
GOAL_UNIT_S = 60.0


def bench_env() -> dict[str, str]:
    return dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
                PIPENV_VENV_IN_PROJECT="1", PIPENV_IGNORE_VIRTUALENVS="1", PIPENV_VERBOSITY="-1",
                CHECKPOINT_DISABLE="1", LGTM_ENVIRONMENT="prod")


def timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, env=env or bench_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed, result.stdout


def provider_modules_used() -> list[str]:
    """The provider modules the app's own code imports (read from its source).

    Importing any one of them makes jsii load the whole provider assembly (and Python
    registers every submodule), so this list is what the app asks for, not sys.modules.
    """
    found: set[str] = set()
    for source in [REPO / "main.py", *(REPO / "components").rglob("*.py"), *(REPO / "config").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PROVIDER_PACKAGE):
                found.add(node.module or "")
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith(PROVIDER_PACKAGE))
    return sorted(found)


def floor_command(modules: list[str]) -> list[str]:
    return [PYTHON, "-c", "import cdktf, constructs\n" + "\n".join(f"import {m}" for m in modules)]


def median(values: list[float]) -> float:
    return statistics.median(values)


def compare_alternating(commands: dict[str, list[str]], runs: int, say) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for round_no in range(runs):
        order = list(commands) if round_no % 2 == 0 else list(reversed(commands))
        for name in order:
            elapsed, _ = timed(commands[name])
            samples[name].append(elapsed)
            say(f"  round {round_no + 1}/{runs}: {name:<6} {elapsed:6.2f} s")
    return {name: median(values) for name, values in samples.items()}


def scaling(runs: int, say) -> list[dict[str, float]]:
    _, out = timed([PYTHON, "-m", "scripts.bench_synth", "--runs", str(runs)])
    points = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for point in points:
        # Peak memory only grows within a process: one fresh process per point.
        _, mem = timed([PYTHON, "-m", "scripts.bench_synth", "--memory",
                        f"{point['services']},{point['environments']}"])
        point["peak_mib"] = json.loads(mem.strip().splitlines()[-1])["peak_mib"]
    for point in points:
        say(f"  {int(point['services']):>3} services x {int(point['environments'])} env: "
            f"{point['synth_s']:.3f} s, peak {point['peak_mib']:.0f} MiB")
    return points


def unit_markers() -> str:
    """The marker expression of `make unit` (read from the Makefile: one definition)."""
    found = re.search(r"^UNIT_MARKERS := (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    if not found:
        raise SystemExit("bench: no UNIT_MARKERS line in the Makefile")
    return found.group(1).strip()


def test_suite(say) -> tuple[float, str, str]:
    env = bench_env()
    env["LGTM_REPORT_SYNTH_COUNT"] = "1"
    elapsed, out = timed([PYTHON, "-m", "pytest", "-q", "-m", unit_markers(), "-n", "2", "-p", "no:cacheprovider"],
                         env=env)
    synths = re.search(r"full-app synths: (.+)$", out, re.MULTILINE)
    summary = [line for line in out.splitlines() if " passed" in line]
    say(f"  make unit's tests: {elapsed:.1f} s, {summary[-1] if summary else '?'}")
    return elapsed, synths.group(1) if synths else "?", summary[-1] if summary else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="synth cost against the jsii import floor")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the unit test suite")
    parser.add_argument("--skip-cli", action="store_true", help="do not time `npx cdktf synth`")
    parser.add_argument("--no-deploy", action="store_true",
                        help="leave out the deploy figures (make deploy-local, plans, destroy-local: minutes)")
    args = parser.parse_args(argv)
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731

    modules = provider_modules_used()
    say(f"app imports {len(modules)} provider modules; measuring floor vs app ({args.runs} runs each)")
    with tempfile.TemporaryDirectory() as outdir:
        commands = {"floor": floor_command(modules),
                    "app": [PYTHON, "-c", f"import os; os.environ['CDKTF_OUTDIR']={outdir!r}; "
                            "import runpy; runpy.run_path('main.py', run_name='__main__')"]}
        if not args.skip_cli:
            commands["cli"] = [str(REPO / "node_modules" / ".bin" / "cdktf"), "synth", "--output", outdir]
        medians = compare_alternating(commands, args.runs, say)
    say("scaling (in-process, after the import)")
    points = scaling(args.runs, say)
    suite = test_suite(say) if not args.skip_tests else None
    deploy_lines = bench_deploy.main(say) if not args.no_deploy else []

    floor = medians["floor"]
    rows = [
        ("floor: import cdktf + provider modules", f"{floor:.2f} s", "1.00"),
        ("app: python main.py (all stacks)", f"{medians['app']:.2f} s", f"{medians['app'] / floor:.2f}"),
    ]
    if "cli" in medians:
        rows.append(("cli: npx cdktf synth", f"{medians['cli']:.2f} s", f"{medians['cli'] / floor:.2f}"))
    print(f"\n| figure (median of {args.runs}) | value | ratio to floor |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    print(f"\napp/floor goal <= {GOAL_RATIO}: {'met' if medians['app'] / floor <= GOAL_RATIO else 'NOT met'}")

    print("\n| services | environments | synth (s) | peak memory (MiB) |")
    print("|---|---|---|---|")
    for p in points:
        print(f"| {int(p['services'])} | {int(p['environments'])} | {p['synth_s']:.3f} | {p['peak_mib']:.0f} |")
    by_key = {(int(p["services"]), int(p["environments"])): p for p in points}
    lo, hi = min(k[0] for k in by_key), max(k[0] for k in by_key)
    per_service = (by_key[(hi, 1)]["synth_s"] - by_key[(lo, 1)]["synth_s"]) / (hi - lo)
    envs = sorted({k[1] for k in by_key})
    per_env = (by_key[(lo, envs[-1])]["synth_s"] - by_key[(lo, envs[0])]["synth_s"]) / (envs[-1] - envs[0])
    print(f"\nmarginal cost per service: {per_service:.3f} s (goal <= {GOAL_MARGINAL_S}: "
          f"{'met' if per_service <= GOAL_MARGINAL_S else 'NOT met'})")
    print(f"marginal cost per environment: {per_env:.3f} s (goal <= {GOAL_MARGINAL_S}: "
          f"{'met' if per_env <= GOAL_MARGINAL_S else 'NOT met'})")
    if suite:
        print(f"\nmake unit's tests (pytest -n 2): {suite[0]:.1f} s wall (goal <= {GOAL_UNIT_S:.0f} s: "
              f"{'met' if suite[0] <= GOAL_UNIT_S else 'NOT met'}), {suite[2].strip('= ')}; "
              f"full-app synths: {suite[1]}")
    for line in deploy_lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
