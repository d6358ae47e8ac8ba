"""In-process synth timings for `make bench` (scripts/bench.py drives it).

The import floor is paid once before anything is timed. Configs are generated:
the six core services plus further Alloy collectors up to the service count, and
1..n environments (each environment is its own App, as `main.py` builds one).

  --runs R      time every point R rounds, the order of points alternating per round;
                prints one JSON line per point with the median synth time
  --memory S,E  synthesize one point once and print its peak memory (run it in a fresh
                process per point: peak RSS only grows within a process)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import App  # noqa: E402

from components.registry import build_stacks  # noqa: E402
from config.common import Config, load_config
from config.names import COLLECTOR_KIND, ENVIRONMENTS

SERVICE_COUNTS = (6, 30, 60)
ENVIRONMENT_COUNTS = (1, 3)


def generated_config(environment: str, services: int) -> Config:
    base = load_config(environment)
    collector = base.service(COLLECTOR_KIND)
    extra = tuple(replace(collector, name=f"{COLLECTOR_KIND}-{index}", kind=COLLECTOR_KIND)
                  for index in range(2, services - len(base.services) + 2))
    return load_config(environment, services=base.services + extra)


def synth_point(services: int, environments: int, workdir: Path) -> float:
    # An environment costs one App. Past the known ones the names repeat: an App of a repeated
    # environment costs the same (the configs differ only in names).
    names = [ENVIRONMENTS[index % len(ENVIRONMENTS)] for index in range(environments)]
    configs = [generated_config(env, services) for env in names]
    started = time.perf_counter()
    for index, cfg in enumerate(configs):
        app = App(outdir=str(workdir / f"{index}-{cfg.environment}"))
        build_stacks(app, cfg)
        app.synth()
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """High-water RSS of this process plus its jsii Node child (VmHWM, from /proc)."""
    pids = [os.getpid()]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            pids.append(int(stat.parent.name))
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory", default=None, help="S,E: one point's peak memory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.memory:
            services, environments = (int(v) for v in args.memory.split(","))
            synth_point(services, environments, workdir)
            print(json.dumps({"services": services, "environments": environments,
                              "peak_mib": peak_rss_mib()}))
            return 0
        points = [(s, 1) for s in SERVICE_COUNTS] + [(SERVICE_COUNTS[0], e) for e in ENVIRONMENT_COUNTS[1:]]
        synth_point(*points[0], workdir)  # warm-up: jsii's first synth loads lazily
        samples: dict[tuple[int, int], list[float]] = {p: [] for p in points}
        for round_no in range(args.runs):
            for point in points if round_no % 2 == 0 else reversed(points):
                samples[point].append(synth_point(*point, workdir))
        for (services, environments), values in samples.items():
            print(json.dumps({"services": services, "environments": environments,
                              "synth_s": statistics.median(values)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
