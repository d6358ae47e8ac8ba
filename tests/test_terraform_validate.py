"""`terraform validate` of every synthesized stack against the real AWS provider schema.

Runs offline with the provider from the filesystem mirror. A missing terraform or
mirror fails (with how to fix it); it never skips.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from components.registry import STACK_IDS
from scripts.terraform_cli import run_terraform, terraform_env, write_cli_config
from tests.conftest import SynthesizedApp

# terraform init + validate per stack with the real provider (seconds each): make test, not make unit.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def validate_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cli_config = write_cli_config(tmp_path_factory.mktemp("tfrc"))
    plugin_cache = tmp_path_factory.mktemp("plugin-cache")
    return terraform_env(cli_config, {"TF_PLUGIN_CACHE_DIR": str(plugin_cache)})


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_terraform_validate(prod: SynthesizedApp, validate_env: dict[str, str], stack_id: str,
                            tmp_path: Path) -> None:
    # A copy, so the session's synthesized tree stays free of .terraform directories.
    stack_dir = tmp_path / stack_id
    shutil.copytree(prod.stack_dir(stack_id), stack_dir)
    run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=validate_env)
    result = run_terraform(stack_dir, "validate", "-json", "-no-color", env=validate_env)
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["error_count"] == 0, report["diagnostics"]
    # The only tolerated warning: cross-stack remote state reads the producer's exact
    # backend, whose DynamoDB locking (docs/architecture.md "Stacks and state") terraform marks deprecated.
    unexpected = [d for d in report["diagnostics"] if not is_remote_state_lock_table_warning(d)]
    assert unexpected == [], unexpected


def is_remote_state_lock_table_warning(diagnostic: dict[str, object]) -> bool:
    return (diagnostic.get("severity") == "warning"
            and diagnostic.get("summary") == "Deprecated Parameter"
            and '"dynamodb_table" is deprecated' in str(diagnostic.get("detail"))
            and str(diagnostic.get("address", "")).startswith("data.terraform_remote_state."))



def test_terraform_validate_with_every_opt_in_setting(synthesized: Callable[..., SynthesizedApp],
                                                      validate_env: dict[str, str], prod: SynthesizedApp,
                                                      tmp_path: Path) -> None:
    """The variant (tests/variants.py) turns on what prod leaves off: the HTTPS listener, KMS keys,
    access logs, the WAF association... Every stack it changes must validate too."""
    from tests.variants import VARIANT

    variant = synthesized("prod", **VARIANT)
    changed = [stack_id for stack_id in STACK_IDS if variant.stack_json(stack_id) != prod.stack_json(stack_id)]
    assert {"00-bootstrap", "10-network", "20-storage", "50-alb", "60-ecs"} <= set(changed), changed
    for stack_id in changed:
        stack_dir = tmp_path / stack_id
        shutil.copytree(variant.stack_dir(stack_id), stack_dir)
        run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=validate_env)
        report = json.loads(run_terraform(stack_dir, "validate", "-json", "-no-color", env=validate_env).stdout)
        assert report["valid"] is True and report["error_count"] == 0, (stack_id, report["diagnostics"])
        unexpected = [d for d in report["diagnostics"] if not is_remote_state_lock_table_warning(d)]
        assert unexpected == [], (stack_id, unexpected)


def test_terraform_validate_with_state_in_hcp_terraform(synthesized: Callable[..., SynthesizedApp],
                                                        validate_env: dict[str, str], tmp_path: Path) -> None:
    """backend "hcp": each stack's `cloud` block and the `terraform_remote_state` (backend "remote")
    data sources cdktf generates for cross-stack references validate against the real provider."""
    from tests.variants import HCP_VARIANT

    hcp = synthesized("prod", **HCP_VARIANT)
    for stack_id in STACK_IDS:
        stack = hcp.stack_json(stack_id)
        assert "cloud" in stack["terraform"], stack_id
        stack_dir = tmp_path / stack_id
        shutil.copytree(hcp.stack_dir(stack_id), stack_dir)
        run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=validate_env)
        report = json.loads(run_terraform(stack_dir, "validate", "-json", "-no-color", env=validate_env).stdout)
        assert report["valid"] is True and report["error_count"] == 0, (stack_id, report["diagnostics"])
        assert report["diagnostics"] == [], (stack_id, report["diagnostics"])
