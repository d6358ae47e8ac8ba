"""scripts/plan_comment.py: one comment per stack, found by its hidden marker and updated."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scripts.plan_comment import body, find, main, marker


def test_the_body_starts_with_the_stacks_marker_and_holds_the_plan() -> None:
    text = body("50-alb", "Plan: 1 to add, 0 to change, 0 to destroy.\n", 2)
    assert text.splitlines()[0] == "<!-- lgtm-ecs-plan:50-alb -->" == marker("50-alb")
    assert "### terraform plan: `50-alb` (changes)" in text
    assert "```\nPlan: 1 to add, 0 to change, 0 to destroy.\n```" in text
    assert "(no changes)" in body("50-alb", "No changes.", 0)
    assert "(failed (exit 1))" in body("50-alb", "Error: boom", 1)


def test_a_long_plan_is_cut_keeping_its_end() -> None:
    plan = "x" * 200_000 + "\nPlan: 9 to add, 0 to change, 0 to destroy."
    text = body("60-ecs", plan, 2)
    assert len(text) <= 65536
    assert text.rstrip().endswith("Plan: 9 to add, 0 to change, 0 to destroy.\n```")
    assert "(cut: see the job summary)" in text


def test_find_picks_the_stacks_own_comment_across_pages() -> None:
    pages = (json.dumps([{"id": 1, "body": "LGTM"}, {"id": 2, "body": marker("10-network") + "\nold"}])
             + "\n" + json.dumps([{"id": 3, "body": marker("50-alb") + "\nold"}]))
    assert find("50-alb", pages) == 3
    assert find("10-network", pages) == 2
    assert find("60-ecs", pages) is None
    # A marker quoted later in someone's comment is not the stack's comment.
    assert find("60-ecs", json.dumps([{"id": 4, "body": "see " + marker("60-ecs")}])) is None


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("No changes.")
    assert main(["body", "20-storage", str(plan), "0"]) == 0
    assert capsys.readouterr().out.startswith(marker("20-storage"))
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([{"id": 7, "body": marker("20-storage")}])))
    assert main(["find", "20-storage"]) == 0
    assert capsys.readouterr().out == "7\n"
    assert main(["nonsense"]) == 2
