"""scripts/drift_report.py: the drift check's failure names the stacks and their changed addresses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.drift_report import Change, changes, drifted, main, report_lines


def resource(address: str, *actions: str) -> dict[str, Any]:
    """One entry of `resource_changes` / `resource_drift`, as `terraform show -json` writes it."""
    return {"address": address, "mode": "managed", "change": {"actions": list(actions)}}


CLEAN = {"format_version": "1.2", "resource_changes": [resource("aws_vpc.vpc", "no-op"),
                                                       resource("data.aws_partition.partition", "read")],
         "output_changes": {"vpc_id": {"actions": ["no-op"]}}}
DRIFTED = {"format_version": "1.2",
           "resource_drift": [resource("aws_security_group.alb", "update")],
           "resource_changes": [resource("aws_security_group.alb", "update"), resource("aws_vpc.vpc", "no-op"),
                                resource("aws_lb.alb", "delete", "create")],
           "output_changes": {"alb_dns": {"actions": ["update"]}}}


def test_a_clean_plan_has_no_changes() -> None:
    assert changes(CLEAN) == []
    assert drifted({"10-network": CLEAN}) == {}
    assert report_lines({}, 7) == ["No drift: 7 stack(s) planned, none would change."]


def test_planned_changes_outputs_and_drift_are_named() -> None:
    assert changes(DRIFTED) == [
        Change("aws_security_group.alb", ("update",), "planned"),
        Change("aws_lb.alb", ("delete", "create"), "planned"),
        Change("output.alb_dns", ("update",), "planned"),
        Change("aws_security_group.alb", ("update",), "drift"),
    ]


def test_the_report_lists_drifted_stacks_and_addresses() -> None:
    result = drifted({"10-network": CLEAN, "50-alb": DRIFTED})
    assert list(result) == ["50-alb"]
    assert report_lines(result, 2) == [
        "Drift in 1 of 2 stack(s): 50-alb",
        "50-alb:",
        "  aws_security_group.alb: update",
        "  aws_lb.alb: delete/create",
        "  output.alb_dns: update",
        "  aws_security_group.alb: update (changed outside Terraform)",
    ]


def test_cli_fails_on_drift_and_writes_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "10-network.json").write_text(json.dumps(CLEAN))
    summary = tmp_path / "summary.md"
    assert main([str(plans), "--summary", str(summary)]) == 0
    (plans / "50-alb.json").write_text(json.dumps(DRIFTED))
    assert main([str(plans), "--summary", str(summary)]) == 1
    out = capsys.readouterr().out
    assert "Drift in 1 of 2 stack(s): 50-alb" in out and "aws_lb.alb: delete/create" in out
    assert summary.read_text().count("### Drift check") == 2


def test_cli_without_plans_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no <stack>.json plans" in capsys.readouterr().err
