"""Adoption files (`adoption/<env>/<stack>.json`) become moved/import/removed blocks, and nothing else.

The files here are written by hand, the way a reviewer may edit one; `make adopt`
writes the same format (tests/test_adopt.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from components.registry import STACK_IDS, build_stacks
from components.shared.adoption import ADOPTION_DIR_VARIABLE, AdoptionFileError
from components.shared.state_blocks import STATE_BLOCKS_REQUIRED_VERSION, StateBlockError
from config.common import load_config
from scripts.terraform_cli import run_terraform, terraform_env, write_cli_config
from tests.conftest import SynthesizedApp

ALB_ADOPTION: dict[str, Any] = {
    "format": 1,
    "environment": "prod",
    "stack": "50-alb",
    "moved": [
        {"from": "module.alb.aws_lb.this", "to": "aws_lb.alb", "identity": "aws_lb name=lgtm-prod-alb"},
        {"from": 'module.alb.aws_lb_target_group.this["grafana"]', "to": "aws_lb_target_group.target-group-grafana"},
    ],
    "import": [{"stack": "30-security-groups", "to": "aws_security_group.alb-security-group",
                "id": "sg-0123456789abcdef0"}],
    "removed": [{"from": "module.alb.aws_security_group.alb"}],
    "unmatched": [{"address": "module.alb.aws_s3_bucket.logs", "why": "for the reviewer only"}],
}


def write_adoption(directory: Path, document: dict[str, Any], environment: str = "prod") -> Path:
    path = directory / environment / f"{document['stack']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return path


def synth_with(directory: Path, outdir: Path, environment: str = "prod") -> dict[str, dict[str, Any]]:
    app = App(outdir=str(outdir))
    build_stacks(app, load_config(environment), adoption_from=directory)
    app.synth()
    return {stack_id: json.loads((outdir / "stacks" / stack_id / "cdk.tf.json").read_text()) for stack_id in STACK_IDS}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("adoption")
    write_adoption(directory, ALB_ADOPTION)
    outdir = tmp_path_factory.mktemp("adopted") / "cdktf.out"
    return outdir, synth_with(directory, outdir)


def test_moved_and_removed_blocks_go_to_the_files_stack(adopted: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    _, stacks = adopted
    alb = stacks["50-alb"]
    assert alb["moved"] == [{"from": "module.alb.aws_lb.this", "to": "aws_lb.alb"},
                            {"from": 'module.alb.aws_lb_target_group.this["grafana"]',
                             "to": "aws_lb_target_group.target-group-grafana"}]
    assert alb["removed"] == [{"from": "module.alb.aws_security_group.alb", "lifecycle": {"destroy": False}}]
    assert alb["terraform"]["required_version"] == STATE_BLOCKS_REQUIRED_VERSION
    assert "import" not in alb


def test_an_import_goes_to_the_stack_it_names(adopted: tuple[Path, dict[str, dict[str, Any]]],
                                              prod: SynthesizedApp) -> None:
    _, stacks = adopted
    groups = stacks["30-security-groups"]
    assert groups["import"] == [{"to": "aws_security_group.alb-security-group", "id": "sg-0123456789abcdef0"}]
    assert groups["terraform"]["required_version"] == STATE_BLOCKS_REQUIRED_VERSION
    # The adoption adds no move or removal here: only the stack's own declared moves remain.
    assert groups.get("moved") == prod.stack_json("30-security-groups").get("moved") and "removed" not in groups


def test_the_rest_of_each_stack_is_untouched(adopted: tuple[Path, dict[str, dict[str, Any]]], prod: SynthesizedApp) -> None:
    _, stacks = adopted
    for stack_id in STACK_IDS:
        ours = {k: v for k, v in stacks[stack_id].items() if k not in ("moved", "import", "removed", "//", "terraform")}
        theirs = {k: v for k, v in prod.stack_json(stack_id).items() if k not in ("moved", "//", "terraform")}
        assert ours == theirs, stack_id
    untouched = [s for s in STACK_IDS if s not in ("30-security-groups", "50-alb")]
    assert all(stacks[s] == prod.stack_json(s) for s in untouched), "only the named stacks change"


def test_without_adoption_files_the_json_is_what_it_was(tmp_path: Path, prod: SynthesizedApp) -> None:
    """An adoption directory holding only another environment's file changes nothing in prod."""
    write_adoption(tmp_path, {**ALB_ADOPTION, "environment": "staging"}, environment="staging")
    stacks = synth_with(tmp_path, tmp_path / "cdktf.out")
    assert all(stacks[s] == prod.stack_json(s) for s in STACK_IDS)
    for stack_id in STACK_IDS:
        assert "import" not in stacks[stack_id] and "removed" not in stacks[stack_id], stack_id
        assert "required_version" not in stacks[stack_id]["terraform"], stack_id


@pytest.mark.slow
def test_rendered_blocks_pass_terraform_validate(adopted: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path) -> None:
    outdir, _ = adopted
    env = terraform_env(write_cli_config(tmp_path), {"TF_PLUGIN_CACHE_DIR": str(tmp_path)})
    for stack_id in ("50-alb", "30-security-groups"):
        stack_dir = tmp_path / stack_id
        shutil.copytree(outdir / "stacks" / stack_id, stack_dir)
        run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=env)
        report = json.loads(run_terraform(stack_dir, "validate", "-json", "-no-color", env=env).stdout)
        assert report["valid"] is True and report["error_count"] == 0, (stack_id, report["diagnostics"])


# --- a file that cannot be rendered stops synth, naming file, entry and rule ----------


@pytest.mark.parametrize("change, message", [
    ({"format": 2}, r"`format` must be 1 \(got 2\)"),
    ({"environment": "staging"}, r"`environment` must be 'prod'"),
    ({"moved": [{"from": "module.alb.aws_lb.this", "to": "aws_lb.no-such-alb"}]},
     r"moves module.alb.aws_lb.this to aws_lb.no-such-alb, but 50-alb synthesizes no aws_lb.no-such-alb"),
    ({"moved": [{"from": "aws_lb.alb", "to": "aws_lb.alb"}]}, r"aws_lb.alb is itself declared in 50-alb"),
    ({"moved": [{"from": "not an address", "to": "aws_lb.alb"}]}, r"moved\[0\]: `from` must be a resource address"),
    ({"import": [{"stack": "30-security-groups", "to": "aws_security_group.nope", "id": "sg-1"}]},
     r"30-security-groups synthesizes no aws_security_group.nope"),
    ({"import": [{"stack": "99-nope", "to": "aws_lb.alb", "id": "x"}]}, r"import\[0\]: `stack` must be one of"),
    ({"import": [{"stack": "50-alb", "to": "aws_lb.alb", "id": ""}]}, r"import\[0\]: `id` must be a non-empty string"),
    ({"removed": [{"from": "aws_lb.alb"}]}, r"removes aws_lb.alb from 50-alb's state, but 50-alb still declares it"),
])
def test_an_invalid_entry_stops_synth_naming_the_file_and_the_rule(tmp_path: Path, change: dict[str, Any],
                                                                   message: str) -> None:
    path = write_adoption(tmp_path, {**ALB_ADOPTION, **change})
    with pytest.raises(StateBlockError, match=message) as raised:
        synth_with(tmp_path, tmp_path / "cdktf.out")
    assert str(path) in str(raised.value)


def test_two_files_importing_different_objects_to_one_address_stop_synth(tmp_path: Path) -> None:
    write_adoption(tmp_path, ALB_ADOPTION)
    write_adoption(tmp_path, {"format": 1, "environment": "prod", "stack": "30-security-groups", "import": [
        {"stack": "30-security-groups", "to": "aws_security_group.alb-security-group", "id": "sg-other"}]})
    with pytest.raises(StateBlockError, match=r"to aws_security_group.alb-security-group, which already imports 'sg-[a-z0-9]+': one object per address"):
        synth_with(tmp_path, tmp_path / "cdktf.out")


def test_synth_prints_the_problem_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import main

    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "50-alb.json").write_text("{ not json")
    monkeypatch.setenv(ADOPTION_DIR_VARIABLE, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main.main() == 2
    error = capsys.readouterr().err
    assert error.startswith("synth stopped: ") and "50-alb.json: not valid JSON" in error
    assert "Traceback" not in error
    assert issubclass(AdoptionFileError, StateBlockError)


@pytest.mark.slow
def test_the_repos_adoption_files_render_and_pass_terraform_validate(tmp_path: Path, prod: SynthesizedApp) -> None:
    """What an operator committed (`make adopt`): every stack it changes synthesizes and validates.
    With no files, the repo's synthesis is exactly the session's."""
    from components.shared.adoption import REPO_ADOPTION_DIR

    stacks = synth_with(REPO_ADOPTION_DIR, tmp_path / "cdktf.out")
    changed = [s for s in STACK_IDS if stacks[s] != prod.stack_json(s)]
    files = sorted((REPO_ADOPTION_DIR / "prod").glob("*.json"))
    assert bool(changed) == bool(files), (changed, files)
    env = terraform_env(write_cli_config(tmp_path), {"TF_PLUGIN_CACHE_DIR": str(tmp_path)})
    for stack_id in changed:
        stack_dir = tmp_path / "validate" / stack_id
        shutil.copytree(tmp_path / "cdktf.out" / "stacks" / stack_id, stack_dir)
        run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=env)
        report = json.loads(run_terraform(stack_dir, "validate", "-json", "-no-color", env=env).stdout)
        assert report["valid"] is True, (stack_id, report["diagnostics"])
