"""`cdktf synth --hcl` (plain HCL, the way off CDKTF) gives a `cdk.tf` that `terraform validate`
accepts for every stack. Runs offline with the provider from the filesystem mirror; a missing
tool fails (with how to fix it), it never skips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.registry import STACK_IDS
from scripts.terraform_cli import run_terraform, terraform_env, write_cli_config
from tests.test_terraform_validate import is_remote_state_lock_table_warning

# A CLI synth plus terraform init + validate per stack (seconds each): make test, not make unit.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hcl_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `npx --no-install cdktf synth --hcl` of the prod app."""
    assert shutil.which("npx"), "npx is not on PATH: install Node.js and run `make install` (npm ci)"
    assert (REPO / "node_modules" / ".bin" / "cdktf").exists(), \
        "the cdktf CLI is not installed: run `make install` (npm ci)"
    assert shutil.which("pipenv"), "pipenv is not on PATH (cdktf.json runs `pipenv run python main.py`)"
    env = dict(os.environ, PIPENV_VENV_IN_PROJECT="1", PIPENV_IGNORE_VIRTUALENVS="1",
               PIPENV_VERBOSITY="-1", CHECKPOINT_DISABLE="1", CI="1", LGTM_ENVIRONMENT="prod")
    outdir = tmp_path_factory.mktemp("hcl") / "out"
    result = subprocess.run(["npx", "--no-install", "cdktf", "synth", "--hcl", "--output", str(outdir)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return outdir


def test_hcl_synth_validates_for_every_stack(hcl_out: Path, tmp_path: Path) -> None:
    (tmp_path / "tfrc").mkdir()
    (tmp_path / "cache").mkdir()
    env = terraform_env(write_cli_config(tmp_path / "tfrc"), {"TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache")})
    failures: dict[str, object] = {}
    for stack_id in STACK_IDS:
        source = hcl_out / "stacks" / stack_id / "cdk.tf"
        assert source.exists(), f"{stack_id}: `cdktf synth --hcl` wrote no {source.name}"
        stack_dir = tmp_path / stack_id
        stack_dir.mkdir()
        shutil.copy(source, stack_dir / "cdk.tf")
        init = run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=env, check=False)
        if init.returncode != 0:
            failures[stack_id] = (init.stdout + init.stderr)[:3000]
            continue
        result = run_terraform(stack_dir, "validate", "-json", "-no-color", env=env, check=False)
        report = json.loads(result.stdout)
        unexpected = [d for d in report["diagnostics"]
                      if not (is_remote_state_lock_table_warning(d) or is_quoted_reference_warning(d))]
        if not report["valid"] or unexpected:
            failures[stack_id] = [f"{d.get('summary')}: {d.get('detail')} ({d.get('range', {}).get('start')})"
                                  for d in unexpected]
    assert failures == {}, json.dumps(failures, indent=1)


def is_quoted_reference_warning(diagnostic: dict[str, object]) -> bool:
    """cdktf's HCL writes `depends_on` and `lifecycle.ignore_changes` as quoted strings (as JSON
    syntax must); terraform accepts them with this warning."""
    return (diagnostic.get("severity") == "warning"
            and diagnostic.get("summary") == "Quoted references are deprecated")
