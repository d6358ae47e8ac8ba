"""Run terraform offline with the real AWS provider from a filesystem mirror.

The mirror's location is machine-specific, so it is never written into the repo:
it comes from $LGTM_TF_PROVIDER_MIRROR (the directory that holds
`registry.terraform.io/`), which the Makefile and `.ci/run` find at run time with
`scripts/find_provider_mirror.sh`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

MIRROR_VARIABLE = "LGTM_TF_PROVIDER_MIRROR"
PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
PROVIDER_VERSION = "5.100.0"
FIND_MIRROR_HINT = "scripts/find_provider_mirror.sh"


class ToolMissing(RuntimeError):
    """terraform or the provider mirror is not where the checks need it."""


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise ToolMissing(
            "terraform is not on PATH: install terraform >= 1.10 (this project is checked with "
            "1.11.4) and put it on PATH; the validate and deploy checks need it"
        )
    return found


def provider_mirror() -> Path:
    value = os.environ.get(MIRROR_VARIABLE, "")
    if not value:
        raise ToolMissing(
            f"${MIRROR_VARIABLE} is not set: point it at the directory holding "
            f"registry.terraform.io/ (find it with: {FIND_MIRROR_HINT}); `make test` and "
            ".ci/run set it when the machine has a mirror"
        )
    mirror = Path(value)
    provider_dir = mirror / PROVIDER_SOURCE / PROVIDER_VERSION
    if not provider_dir.is_dir():
        raise ToolMissing(
            f"${MIRROR_VARIABLE}={value} holds no {PROVIDER_SOURCE} {PROVIDER_VERSION} "
            f"(expected {provider_dir}/<os>_<arch>/); cdktf-cdktf-provider-aws 20.1.0 binds exactly "
            f"that version"
        )
    return mirror


def write_cli_config(directory: Path) -> Path:
    """A terraform CLI config that installs the AWS provider from the mirror only."""
    mirror = provider_mirror()
    path = directory / "terraform-mirror.tfrc"
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER_SOURCE}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER_SOURCE}"]\n  }}\n'
        "}\n"
    )
    return path


def mirror_cli_config_if_set(directory: Path) -> Path | None:
    """The mirror-only CLI config when $LGTM_TF_PROVIDER_MIRROR is set; None lets terraform use
    the registry (an operator's machine with network access)."""
    return write_cli_config(directory) if os.environ.get(MIRROR_VARIABLE) else None


def terraform_env(cli_config: Path | None, extra: dict[str, str] | None = None,
                  base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus terraform's non-interactive settings."""
    env = dict(os.environ if base is None else base)
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    if cli_config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    env.update(extra or {})
    return env


def run_terraform(
    stack_dir: Path, *args: str, env: dict[str, str], check: bool = True, log: Path | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`terraform -chdir=<stack_dir> <args>`; on failure the error names the stack and command."""
    cmd = [terraform_binary(), f"-chdir={stack_dir}", *args]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if log is not None:
        with log.open("a") as handle:
            handle.write(f"$ terraform {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise RuntimeError(
            f"terraform {' '.join(args)} failed for stack {stack_dir.name} "
            f"(exit {result.returncode}):\n{tail}"
        )
    return result
