"""Whether synthesized output (or a plan made from it) is older than the code that synthesizes.

One check for `deploy_local` (re-synthesize before deploying) and `scan` (skip stale saved plans).
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SYNTH_INPUTS = ("main.py", "cdktf.json", "Pipfile.lock", "components", "config")
"""What `main.py` reads: a change to any of them can change the synthesized JSON."""


def newest_source_mtime(root: Path = REPO_ROOT) -> float:
    """When the code that synthesizes the stacks last changed."""
    return max(path.stat().st_mtime
               for name in SYNTH_INPUTS
               for path in ([root / name] if (root / name).is_file() else (root / name).rglob("*.py")))


def synth_is_fresh(outdir: Path, root: Path = REPO_ROOT) -> bool:
    """`outdir` holds a synth made after the last change to its inputs."""
    manifest = outdir / "manifest.json"
    return manifest.is_file() and manifest.stat().st_mtime > newest_source_mtime(root)
