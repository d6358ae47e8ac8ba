"""The local deploy's logic without an emulator: order, drift reports, environment, freshness."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from scripts.deploy_local import (
    BOOTSTRAP_STACK_ID,
    StackResult,
    dependency_order,
    emulator_environment,
    planned_changes,
    reverse_dependencies,
    run_in_order,
    stack_dependencies,
    timeline,
)
from tests.conftest import SynthesizedApp


def test_dependency_order_is_topological_and_stable_by_stack_id() -> None:
    dependencies = {"60-ecs": {"50-alb", "40-iam"}, "50-alb": {"10-network"}, "40-iam": {"00-bootstrap"},
                    "10-network": {"00-bootstrap"}, "00-bootstrap": set()}
    assert dependency_order(dependencies) == ["00-bootstrap", "10-network", "40-iam", "50-alb", "60-ecs"]


def test_dependency_order_rejects_cycles_and_unknown_stacks() -> None:
    with pytest.raises(ValueError, match="cycle"):
        dependency_order({"a": {"b"}, "b": {"a"}})
    with pytest.raises(ValueError, match="not synthesized"):
        dependency_order({"a": {"missing"}})


def test_reverse_dependencies_destroys_dependents_first() -> None:
    dependents = reverse_dependencies({"00-bootstrap": set(), "10-network": {"00-bootstrap"},
                                       "50-alb": {"10-network", "00-bootstrap"}})
    assert dependents == {"00-bootstrap": {"10-network", "50-alb"}, "10-network": {"50-alb"}, "50-alb": set()}
    assert dependency_order(dependents) == ["50-alb", "10-network", "00-bootstrap"]


def test_run_in_order_starts_a_stack_only_after_what_it_needs() -> None:
    finished: list[str] = []
    lines: list[str] = []
    dependencies = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}

    def action(stack_id: str) -> str:
        assert dependencies[stack_id] <= set(finished), f"{stack_id} started too early"
        finished.append(stack_id)
        return stack_id.upper()

    results = run_in_order(dependencies, action, workers=2, say=lines.append, verb="ok")
    assert [r.value for r in results] == ["A", "B", "C", "D"]
    assert len(lines) == 4 and re.fullmatch(r"\[\+\d+\.\ds → \+\d+\.\ds\] d ok \(\d+\.\d s\) \[4/4\]", lines[-1])


def test_run_in_order_overlaps_stacks_that_do_not_need_each_other() -> None:
    """b and c both need only a: with two workers they run at the same time (each waits for the other)."""
    both_running = threading.Barrier(2, timeout=5)

    def action(stack_id: str) -> None:
        if stack_id in {"b", "c"}:
            both_running.wait()  # BrokenBarrierError if the runner ran them one after the other
        time.sleep(0.05)

    results = {r.stack_id: r for r in run_in_order({"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b"}}, action,
                                                   workers=2, say=lambda line: None, verb="ok")}
    assert results["b"].started < results["c"].finished and results["c"].started < results["b"].finished
    # d needs only b: it starts when b is done, whether or not c is.
    for stack_id, needed in {"b": "a", "c": "a", "d": "b"}.items():
        assert results[stack_id].started >= results[needed].finished, stack_id
    assert timeline(list(results.values())).wall < sum(r.seconds for r in results.values())


def test_progress_lines_show_each_stacks_start_and_end() -> None:
    lines: list[str] = []
    run_in_order({"a": set(), "b": {"a"}}, lambda stack_id: time.sleep(0.2), workers=2, say=lines.append, verb="ok")
    offsets = [tuple(float(v) for v in re.findall(r"\+(\d+\.\d)s", line)) for line in lines]
    assert [line.split("] ")[1].split()[0] for line in lines] == ["a", "b"]
    (a_start, a_end), (b_start, b_end) = offsets
    assert a_start == 0.0 and a_end >= 0.2 and b_start >= a_end and b_end >= b_start + 0.2


def test_timeline_compares_the_wall_time_with_the_longest_stack() -> None:
    results = [StackResult("a", 10.0, started=0.0, finished=10.0), StackResult("b", 40.0, started=10.0, finished=50.0),
               StackResult("c", 30.0, started=10.0, finished=40.0)]
    summary = timeline(results)
    assert (summary.wall, summary.longest.stack_id, summary.total) == (50.0, "b", 80.0)
    assert summary.ratio_to_longest == 1.25
    assert "wall / longest = 1.25" in summary.describe()


def test_run_in_order_stops_starting_stacks_after_a_failure() -> None:
    started: list[str] = []

    def action(stack_id: str) -> None:
        started.append(stack_id)
        if stack_id == "a":
            raise RuntimeError("terraform apply failed for stack a")

    with pytest.raises(RuntimeError, match="stack a"):
        run_in_order({"a": set(), "b": {"a"}}, action, workers=2, say=lambda line: None, verb="ok")
    assert started == ["a"]


def test_planned_changes_name_resource_and_attribute() -> None:
    plan = {
        "resource_changes": [
            {"address": "aws_vpc.vpc", "change": {"actions": ["no-op"], "before": {}, "after": {}}},
            {"address": "aws_ecs_service.grafana", "change": {
                "actions": ["delete", "create"],
                "before": {"launch_type": "EC2", "enable_execute_command": False, "tags": {"a": "1"}},
                "after": {"launch_type": "", "enable_execute_command": True, "tags": {"a": "1"}},
                "after_unknown": {"id": True},
                "replace_paths": [["launch_type"]]}},
        ],
        "output_changes": {"url": {"actions": ["update"], "before": "a", "after": "b"}},
    }
    changes = {change.address: change for change in planned_changes(plan)}
    assert set(changes) == {"aws_ecs_service.grafana", "output.url"}
    described = changes["aws_ecs_service.grafana"].describe()
    assert "delete/create" in described
    assert 'launch_type: "EC2" -> ""' in described
    assert "enable_execute_command: false -> true" in described
    assert "id (known after apply)" in described
    assert "forces replacement: launch_type" in described
    assert "tags" not in described


def test_environment_points_only_at_the_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production-admin")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-session")
    env = emulator_environment(endpoint="http://127.0.0.1:5123", region="ap-northeast-2",
                               cli_config=tmp_path / "mirror.tfrc")
    aws = {name: value for name, value in env.items() if name.startswith("AWS_")}
    assert aws == {"AWS_ENDPOINT_URL": "http://127.0.0.1:5123", "AWS_ACCESS_KEY_ID": aws["AWS_ACCESS_KEY_ID"],
                   "AWS_SECRET_ACCESS_KEY": aws["AWS_SECRET_ACCESS_KEY"], "AWS_REGION": "ap-northeast-2",
                   "AWS_EC2_METADATA_DISABLED": "true"}
    assert "EXAMPLE" in aws["AWS_ACCESS_KEY_ID"]
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "mirror.tfrc")


def test_every_stack_after_bootstrap_depends_on_it_and_on_the_stacks_it_reads(prod: SynthesizedApp) -> None:
    dependencies = stack_dependencies(prod.outdir)
    assert dependencies[BOOTSTRAP_STACK_ID] == set()
    for stack_id, needed in dependencies.items():
        if stack_id != BOOTSTRAP_STACK_ID:
            assert BOOTSTRAP_STACK_ID in needed, stack_id
        declared = set(prod.manifest["stacks"][stack_id]["dependencies"])
        assert declared <= needed, stack_id


def test_remote_state_reads_become_dependencies(tmp_path: Path) -> None:
    def write(stack_id: str, body: dict) -> None:
        (tmp_path / "stacks" / stack_id).mkdir(parents=True)
        (tmp_path / "stacks" / stack_id / "cdk.tf.json").write_text(json.dumps(body))

    backend = {"bucket": "state", "key": "k/10-network"}
    write("10-network", {"terraform": {"backend": {"s3": backend}}})
    write("20-reader", {"terraform": {"backend": {"s3": {"bucket": "state", "key": "k/20"}}},
                        "data": {"terraform_remote_state": {"net": {"backend": "s3", "config": backend}}}})
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": {
        "10-network": {"dependencies": []}, "20-reader": {"dependencies": []}}}))
    assert stack_dependencies(tmp_path) == {"10-network": set(), "20-reader": {"10-network"}}


def test_a_local_deploy_leaves_the_repos_adoption_files_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Adoption files import a real account's objects by ID: an emulator has none of them. With such
    files in the repo the local deploy synthesizes without them, and not into cdktf.out."""
    import subprocess

    from scripts import deploy_local

    monkeypatch.setattr(deploy_local, "REPO_ROOT", tmp_path)
    assert deploy_local.default_outdir() == deploy_local.DEFAULT_OUTDIR
    (tmp_path / "adoption" / "prod").mkdir(parents=True)
    (tmp_path / "adoption" / "prod" / "00-bootstrap.json").write_text("{}")
    assert deploy_local.default_outdir() == deploy_local.OUTDIR_WITHOUT_ADOPTION

    seen: dict[str, str] = {}

    def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        seen.update(kwargs["env"])  # type: ignore[arg-type]
        raise RuntimeError("stop here")

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(RuntimeError, match="stop here"):
        # Never the cached cdktf.out: it was synthesized with the adoption files.
        deploy_local.synthesize(deploy_local.DEFAULT_OUTDIR, environment="prod", say=lambda line: None)
    assert seen["LGTM_ADOPTION_DIR"] == str(deploy_local.NO_ADOPTION_DIR)
    assert not any(Path(seen["LGTM_ADOPTION_DIR"]).glob("*/*.json"))
