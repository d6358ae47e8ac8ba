"""scripts/changed_stacks.py: a pull request plans the stacks whose synthesized JSON changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.registry import STACK_IDS
from scripts.changed_stacks import compare, main, without_metadata
from tests.conftest import SynthesizedApp


def copy_of(app: SynthesizedApp, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(app.outdir, target)
    return target


def edit(outdir: Path, stack_id: str, change: Any) -> None:
    path = outdir / "stacks" / stack_id / "cdk.tf.json"
    stack = json.loads(path.read_text())
    change(stack)
    path.write_text(json.dumps(stack))


def test_the_same_synth_changes_nothing(prod: SynthesizedApp, tmp_path: Path) -> None:
    assert compare(prod.outdir, copy_of(prod, tmp_path, "head")).changed == []


def test_metadata_alone_is_not_a_change(prod: SynthesizedApp, tmp_path: Path) -> None:
    head = copy_of(prod, tmp_path, "head")

    def touch_metadata(stack: dict[str, Any]) -> None:
        stack["//"]["metadata"]["version"] = "9.9.9"
        role = next(iter(stack["resource"]["aws_iam_role"].values()))
        role["//"]["metadata"]["path"] = "somewhere/else"
    edit(head, "40-iam", touch_metadata)
    assert compare(prod.outdir, head).changed == []
    assert without_metadata({"//": 1, "a": [{"//": 2, "b": 3}]}) == {"a": [{"b": 3}]}


def test_a_changed_attribute_changes_only_its_stack(prod: SynthesizedApp, tmp_path: Path) -> None:
    head = copy_of(prod, tmp_path, "head")

    def retag(stack: dict[str, Any]) -> None:
        stack["provider"]["aws"][0]["default_tags"][0]["tags"]["Team"] = "observability"
    edit(head, "40-iam", retag)
    edit(head, "10-network", retag)
    assert compare(prod.outdir, head).changed == ["10-network", "40-iam"]  # manifest order


def test_a_real_config_change_is_found_in_the_stacks_it_reaches(prod: SynthesizedApp, staging: SynthesizedApp,
                                                               synthesized: Any) -> None:
    assert compare(prod.outdir, staging.outdir).changed == list(STACK_IDS)
    from tests.variants import HCP_VARIANT

    assert compare(prod.outdir, synthesized("prod", **HCP_VARIANT).outdir).changed == list(STACK_IDS)


def test_added_and_removed_stacks(prod: SynthesizedApp, tmp_path: Path) -> None:
    head = copy_of(prod, tmp_path, "head")
    manifest = json.loads((head / "manifest.json").read_text())
    del manifest["stacks"]["60-ecs"]
    manifest["stacks"]["70-new"] = {"synthesizedStackPath": "stacks/70-new/cdk.tf.json"}
    (head / "manifest.json").write_text(json.dumps(manifest))
    (head / "stacks" / "70-new").mkdir()
    (head / "stacks" / "70-new" / "cdk.tf.json").write_text("{}")
    result = compare(prod.outdir, head)
    assert (result.changed, result.removed) == (["70-new"], ["60-ecs"])


def test_cli_prints_and_writes_the_matrix(prod: SynthesizedApp, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    head = copy_of(prod, tmp_path, "head")
    edit(head, "50-alb", lambda stack: stack["provider"]["aws"][0].update(region="us-east-1"))
    output = tmp_path / "github_output"
    assert main([str(prod.outdir), str(head), "--github-output", str(output)]) == 0
    assert json.loads(capsys.readouterr().out) == ["50-alb"]
    assert output.read_text() == 'stacks=["50-alb"]\nremoved=[]\n'


def test_cli_names_a_directory_that_was_not_synthesized(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nothing"), str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_a_base_that_did_not_synthesize_plans_every_stack_when_allowed(prod: SynthesizedApp, tmp_path: Path) -> None:
    assert compare(tmp_path / "no-base", prod.outdir, base_missing_ok=True).changed == list(STACK_IDS)
    with pytest.raises(FileNotFoundError):
        compare(tmp_path / "no-base", prod.outdir)
