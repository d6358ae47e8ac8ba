"""Every validation rule has a negative test: tests/rule_reach.py traces each reported Violation
of the config tests back to its rule, in a separate pytest run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRACED_TESTS = ("tests/test_config.py",)


@pytest.mark.slow
def test_every_validation_rule_is_reached_by_a_negative_test(tmp_path: Path) -> None:
    report = tmp_path / "reach.json"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *TRACED_TESTS, "-q", "-p", "tests.rule_reach", "-p", "no:cacheprovider",
         "--noconftest"],
        cwd=ROOT, env={**os.environ, "LGTM_RULE_REACH_JSON": str(report)}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(report.read_text())
    assert summary["rules"] >= 100, summary["rules"]  # the source scan found the rules
    assert summary["unreached"] == [], "add a negative test for: " + "; ".join(summary["unreached"])
    assert summary["untraced_violations"] == []


def test_the_rule_scan_finds_rules_inside_shared_checks() -> None:
    from tests.rule_reach import RULES

    labels = set(RULES.values())
    vpc_cidr_rules = [label for label in labels if "_network_rules" in label and "check_vpc_block" in label]
    assert len(vpc_cidr_rules) == 4  # vpc_cidr and each subnet: "not a CIDR" and "not /16-/28"
