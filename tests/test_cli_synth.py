"""`npx cdktf synth` (the user's CLI path, via cdktf.json) gives exactly what `main.py` gives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SynthesizedApp

# A second synth through `npx cdktf synth` (the CLI round-trip): make test, not make unit.
pytestmark = pytest.mark.cli

REPO = Path(__file__).resolve().parent.parent


def test_cdktf_cli_synth_matches_main_py(prod: SynthesizedApp, tmp_path: Path) -> None:
    cli = REPO / "node_modules" / ".bin" / "cdktf"
    assert cli.exists(), "the cdktf CLI is not installed: run `make install` (npm ci)"
    assert shutil.which("pipenv"), "pipenv is not on PATH (cdktf.json runs `pipenv run python main.py`)"
    env = dict(os.environ, PIPENV_VENV_IN_PROJECT="1", PIPENV_IGNORE_VIRTUALENVS="1",
               PIPENV_VERBOSITY="-1", CHECKPOINT_DISABLE="1", CI="1", LGTM_ENVIRONMENT="prod")
    outdir = tmp_path / "cli-out"
    result = subprocess.run([str(cli), "synth", "--output", str(outdir)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    cli_manifest = json.loads((outdir / "manifest.json").read_text())
    assert sorted(cli_manifest["stacks"]) == sorted(prod.manifest["stacks"])
    for stack_id in prod.manifest["stacks"]:
        cli_stack = json.loads((outdir / "stacks" / stack_id / "cdk.tf.json").read_text())
        assert cli_stack == prod.stack_json(stack_id), f"{stack_id} differs between CLI and main.py"
