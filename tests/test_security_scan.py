"""checkov on the synthesized stacks: no finding that `.checkov.yaml` does not skip, and
every skip explained, still needed, and (where it says so) removed by a config choice.

Three checkov runs (~5-10 s each): prod with the skips, prod without them, the variant
(tests/variants.py, every opt-in hardening set) without them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scripts.scan import CONFIG_FILE, ScanResult, current_plans, scan_stacks, skip_list
from scripts.synth_inputs import newest_source_mtime
from tests.conftest import SynthesizedApp
from tests.variants import VARIANT

SKIP_ENTRY = re.compile(r"^\s*-\s*(?P<check>CKV\w*_\d+)\s*(?:#.*)?$")
REMOVE_WITH = "Remove with:"
REASON_MARKERS = (REMOVE_WITH, "Narrow with:", "No config:")


def skip_comments(text: str) -> dict[str, list[str]]:
    """Skipped check id -> the comment block above its entry (entries listed together share one).

    A comment on the entry's own line counts too.
    """
    lines = text.splitlines()
    comments: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        entry = SKIP_ENTRY.match(line)
        if not entry:
            continue
        block = [line.split("#", 1)[1].strip()] if "#" in line else []
        above = index - 1
        while above >= 0 and SKIP_ENTRY.match(lines[above]):
            above -= 1  # a group of entries under one comment
        while above >= 0 and lines[above].strip().startswith("#"):
            block.insert(0, lines[above].strip().lstrip("#").strip())
            above -= 1
        comments[entry["check"]] = block
    return comments


@pytest.fixture(scope="module")
def variant(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", **VARIANT)


@pytest.fixture(scope="module")
def prod_scan(prod: SynthesizedApp) -> ScanResult:
    return scan_stacks(prod.outdir / "stacks")


@pytest.fixture(scope="module")
def prod_scan_without_skips(prod: SynthesizedApp) -> ScanResult:
    return scan_stacks(prod.outdir / "stacks", skips=False)


@pytest.mark.slow
def test_checkov_finds_nothing_the_skip_file_does_not_explain(prod_scan: ScanResult) -> None:
    assert prod_scan.parsing_errors == 0
    assert prod_scan.passed > 100, f"checkov evaluated too little to mean anything: {prod_scan.line()}"
    assert prod_scan.failed == 0 and not prod_scan.findings, \
        f"{prod_scan.line()}\n" + "\n".join(prod_scan.findings)


def test_the_skip_file_is_what_the_scan_reads() -> None:
    settings = yaml.safe_load(CONFIG_FILE.read_text())
    assert settings["skip-download"] is True
    skipped = skip_list()
    assert skipped == settings["skip-check"]
    assert len(skipped) == len(set(skipped)), "a check is skipped twice"
    assert set(skip_comments(CONFIG_FILE.read_text())) == set(skipped), \
        "every skip-check entry is a plain `- CKV..._N` line (so its comment can be found)"


def test_every_skip_has_a_reason_and_says_what_config_removes_it() -> None:
    for check, block in skip_comments(CONFIG_FILE.read_text()).items():
        text = " ".join(block)
        assert block, f"{check} has no comment giving its reason"
        assert len(text) > 40, f"{check}: the reason is too thin to review: {text!r}"
        assert sum(text.count(marker) for marker in REASON_MARKERS) == 1, \
            f"{check}: say exactly one of {REASON_MARKERS}: {text!r}"


@pytest.mark.slow
def test_no_stale_skips(prod_scan_without_skips: ScanResult) -> None:
    """Every skipped check still fails somewhere on prod when nothing is skipped."""
    stale = sorted(set(skip_list()) - prod_scan_without_skips.failed_ids)
    assert not stale, f"skipped in .checkov.yaml but passing without the skip (remove them): {stale}"
    # The skips hide only what the skip file explains: nothing else fails without them either.
    assert prod_scan_without_skips.failed_ids <= set(skip_list())


@pytest.mark.slow
def test_config_choices_named_in_the_skip_file_pass_their_checks(variant: SynthesizedApp) -> None:
    removable = sorted(check for check, block in skip_comments(CONFIG_FILE.read_text()).items()
                       if REMOVE_WITH in " ".join(block))
    assert len(removable) >= 10, removable
    result = scan_stacks(variant.outdir / "stacks", skips=False)
    assert result.passed > 100, result.line()
    still_failing = sorted(set(removable) & result.failed_ids)
    assert not still_failing, ("the variant sets the config choice these skips name, yet they fail:\n"
                               + "\n".join(f for f in result.findings if f.split()[0] in still_failing))


def test_comment_parser_finds_grouped_inline_and_missing_reasons(tmp_path: Path) -> None:
    text = ("skip-check:\n"
            "  # shared reason. No config: because\n"
            "  - CKV_AWS_1\n"
            "  - CKV2_AWS_2\n"
            "  - CKV_AWS_3  # inline reason\n"
            "\n"
            "  - CKV_AWS_4\n")
    comments = skip_comments(text)
    assert comments["CKV_AWS_1"] == comments["CKV2_AWS_2"] == ["shared reason. No config: because"]
    assert comments["CKV_AWS_3"] == ["shared reason. No config: because", "inline reason"]
    assert comments["CKV_AWS_4"] == []


@pytest.mark.slow
def test_the_gate_fails_on_a_finding_it_does_not_skip(tmp_path: Path) -> None:
    """A stack with an admin policy is not waved through: the scan reports the finding
    (so a passing scan above means something)."""
    stack_dir = tmp_path / "stacks" / "99-bad"
    stack_dir.mkdir(parents=True)
    # An IAM policy granting every action on every resource (checkov's IAM checks, none of them skipped).
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    stack = {"resource": {"aws_iam_policy": {"admin": {"name": "admin", "policy": policy}}}}
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
    result = scan_stacks(tmp_path / "stacks")
    assert not result.ok and result.failed > 0
    assert {"CKV_AWS_62", "CKV_AWS_63"} <= result.failed_ids, result.findings
    assert all("99-bad/cdk.tf.json" in finding for finding in result.findings), result.findings
    assert not result.failed_ids & set(skip_list()), "the bad policy fails only checks the skip file keeps"


def test_saved_plans_older_than_the_code_are_reported_not_scanned(tmp_path: Path) -> None:
    old, new = tmp_path / "10-network.tfplan", tmp_path / "20-storage.tfplan"
    old.write_text("plan")
    new.write_text("plan")
    newest_code = newest_source_mtime()
    os.utime(old, (newest_code - 60, newest_code - 60))
    os.utime(new, (newest_code + 60, newest_code + 60))
    assert current_plans(tmp_path) == ([new], [old])
