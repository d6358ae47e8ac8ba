"""What spans stacks: every backend, the manifest, environments, the registry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.registry import STACK_IDS, STACKS, StackEntry, build_stacks
from components.shared.stack import LgtmStack
from config.common import default_state, load_config
from config.names import BOOTSTRAP_STACK_ID
from tests.conftest import SynthesizedApp


def expected_backend(environment: str, stack_id: str) -> dict[str, object]:
    if stack_id == BOOTSTRAP_STACK_ID:
        key = "bootstrap/terraform.tfstate" if environment == "prod" \
            else f"bootstrap/{environment}/terraform.tfstate"
        return {"bucket": "jsj-lgtm-terraform-bootstrap", "key": key,
                "region": "ap-northeast-2", "encrypt": True}
    return {
        "bucket": f"jsj-lgtm-terraform-state-{environment}",
        "key": f"lgtm-ecs/{environment}/{stack_id}/terraform.tfstate",
        "dynamodb_table": f"jsj-lgtm-terraform-lock-{environment}",
        "region": "ap-northeast-2",
        "encrypt": True,
    }


def test_registry_starts_with_bootstrap_and_ids_are_numbered_and_unique() -> None:
    assert STACK_IDS[0] == "00-bootstrap"
    assert len(set(STACK_IDS)) == len(STACK_IDS)
    assert list(STACK_IDS) == sorted(STACK_IDS)


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_prod_backend_is_the_seed_layout(prod: SynthesizedApp, stack_id: str) -> None:
    backend = prod.stack_json(stack_id)["terraform"]["backend"]
    assert backend == {"s3": expected_backend("prod", stack_id)}


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_staging_backend_has_its_own_bucket_table_and_keys(staging: SynthesizedApp, stack_id: str) -> None:
    backend = staging.stack_json(stack_id)["terraform"]["backend"]
    assert backend == {"s3": expected_backend("staging", stack_id)}


def test_manifest_lists_every_stack_with_its_synthesized_path(prod: SynthesizedApp) -> None:
    stacks = prod.manifest["stacks"]
    assert sorted(stacks) == sorted(STACK_IDS)
    for stack_id, entry in stacks.items():
        assert entry["synthesizedStackPath"] == f"stacks/{stack_id}/cdk.tf.json"
        assert (prod.outdir / entry["synthesizedStackPath"]).is_file()


def test_manifest_makes_every_other_stack_depend_on_bootstrap(prod: SynthesizedApp) -> None:
    """`npx cdktf deploy '*'` on a fresh account: each stack's `terraform init` needs the state
    bucket 00-bootstrap creates, so the CLI must finish 00-bootstrap before starting any other."""
    stacks = prod.manifest["stacks"]
    assert stacks["00-bootstrap"]["dependencies"] == []
    missing = [stack_id for stack_id, entry in stacks.items()
               if stack_id != "00-bootstrap" and "00-bootstrap" not in entry["dependencies"]]
    assert missing == [], f"these stacks do not depend on 00-bootstrap: {missing}"


def test_provider_pins_aws_5_100_0_and_tags_every_resource(prod: SynthesizedApp) -> None:
    for stack_id in STACK_IDS:
        stack = prod.stack_json(stack_id)
        assert stack["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
        (provider,) = stack["provider"]["aws"]
        assert provider["region"] == "ap-northeast-2"
        tags = provider["default_tags"][0]["tags"]
        assert tags == {"Project": "lgtm-ecs", "Environment": "prod", "ManagedBy": "cdktf",
                        "Stack": stack_id}


def test_use_lockfile_switch_adds_s3_native_locking_to_every_stack(synthesized) -> None:
    app = synthesized("prod", state=replace(default_state("prod"), use_lockfile=True))
    for stack_id in STACK_IDS:
        backend = app.stack_json(stack_id)["terraform"]["backend"]["s3"]
        assert backend["use_lockfile"] is True, stack_id
        # The switch adds S3 locking; it does not remove the seed's layout.
        assert {k: v for k, v in backend.items() if k != "use_lockfile"} == expected_backend("prod", stack_id)


def test_no_stack_uses_lockfile_by_default(prod: SynthesizedApp) -> None:
    assert all("use_lockfile" not in prod.stack_json(s)["terraform"]["backend"]["s3"] for s in STACK_IDS)


def test_a_new_registry_line_gets_its_backend_with_no_further_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdktf import Testing

    from tests.helpers import synth_json

    class ExtraStack(LgtmStack):
        pass

    entry = StackEntry("99-extra", lambda app, sid, cfg, built: ExtraStack(app, sid, config=cfg))
    monkeypatch.setattr("components.registry.STACKS", (*STACKS, entry))
    app = Testing.app()
    built = build_stacks(app, load_config("prod"))
    backend = synth_json(built["99-extra"])["terraform"]["backend"]["s3"]
    assert backend == expected_backend("prod", "99-extra")


def test_environment_from_variable_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.common import selected_environment
    from config.validation import ConfigError

    monkeypatch.delenv("LGTM_ENVIRONMENT", raising=False)
    assert selected_environment(None) == "prod"
    assert selected_environment("staging") == "staging"
    monkeypatch.setenv("LGTM_ENVIRONMENT", "staging")
    assert selected_environment(None) == "staging"
    with pytest.raises(ConfigError, match="set only one"):
        selected_environment("prod")


def test_default_tags_are_the_reserved_keys(prod: SynthesizedApp) -> None:
    """Validation refuses user tags of these keys (config.common DEFAULT_TAG_KEYS)."""
    from components.shared.stack import default_tags
    from config.names import DEFAULT_TAG_KEYS

    assert tuple(default_tags(prod.config, "00-bootstrap")) == DEFAULT_TAG_KEYS


def test_resource_tags_are_only_the_reserved_keys(prod: SynthesizedApp, synthesized) -> None:
    """Validation counts RESOURCE_TAG_KEYS against AWS's 50 tags and refuses them as user tags."""
    from config.names import RESOURCE_TAG_KEYS
    from tests.variants import VARIANT

    for app in (prod, synthesized("prod", **VARIANT)):
        for stack_id in STACK_IDS:
            for resource_type, found in app.stack_json(stack_id).get("resource", {}).items():
                for name, body in found.items():
                    keys = set(body.get("tags") or {})
                    assert keys <= set(RESOURCE_TAG_KEYS), f"{stack_id} {resource_type}.{name}: {keys}"


def test_a_stack_wired_to_the_wrong_earlier_stack_is_named() -> None:
    from cdktf import Testing

    from components.network import NetworkStack
    from components.registry import earlier
    from components.storage import StorageStack

    built = build_stacks(Testing.app(), load_config("prod"))
    assert isinstance(earlier(built, "10-network", NetworkStack), NetworkStack)
    with pytest.raises(TypeError, match="10-network is a NetworkStack, not a StorageStack"):
        earlier(built, "10-network", StorageStack)
