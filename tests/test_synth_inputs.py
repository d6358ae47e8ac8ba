"""The one freshness check `deploy_local` and `scan` share."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.synth_inputs import SYNTH_INPUTS, synth_is_fresh


def make_repo(root: Path) -> None:
    for name in SYNTH_INPUTS:
        if name.endswith((".py", ".json", ".lock")):
            (root / name).write_text("")
        else:
            (root / name).mkdir()
            (root / name / "module.py").write_text("")


def at(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


def test_a_synth_newer_than_every_input_is_fresh_and_an_edit_makes_it_stale(tmp_path: Path) -> None:
    make_repo(tmp_path)
    for path in tmp_path.rglob("*"):
        at(path, 1_000)
    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    assert not synth_is_fresh(outdir, tmp_path)  # no manifest: never synthesized
    (outdir / "manifest.json").write_text("{}")
    at(outdir / "manifest.json", 2_000)
    assert synth_is_fresh(outdir, tmp_path)
    at(tmp_path / "components" / "module.py", 3_000)
    assert not synth_is_fresh(outdir, tmp_path)
