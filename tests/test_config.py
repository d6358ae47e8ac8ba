"""One test per config validation rule: a bad value stops synth naming field, rule and value."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config.common import default_state, load_config
from config.validation import ConfigError


def rejected(**overrides: object) -> ConfigError:
    environment = str(overrides.pop("environment", "prod"))
    with pytest.raises(ConfigError) as caught:
        load_config(environment, **overrides)
    return caught.value


def assert_names(error: ConfigError, field: str, value: object) -> None:
    message = str(error)
    assert field in message, message
    assert repr(value) in message, message
    assert any(v.field == field for v in error.violations), [v.field for v in error.violations]


def test_defaults_are_valid_and_hold_the_seed_names() -> None:
    cfg = load_config()
    assert (cfg.project, cfg.environment, cfg.tenant_id) == ("lgtm-ecs", "prod", "jsj-lgtm-header")
    assert cfg.state.bootstrap_bucket == "jsj-lgtm-terraform-bootstrap"
    assert cfg.state.state_bucket == "jsj-lgtm-terraform-state-prod"
    assert cfg.state.lock_table == "jsj-lgtm-terraform-lock-prod"


def test_config_is_frozen() -> None:
    cfg = load_config()
    with pytest.raises(AttributeError):
        cfg.tenant_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bucket", ["Upper-Case", "ab", "bad..dots", "192.168.1.1", "-leading",
                                    "xn--punycode", "ends-s3alias", "a" * 64, "under_score"])
def test_state_bucket_breaking_s3_naming_rules(bucket: str) -> None:
    error = rejected(state=replace(default_state("prod"), state_bucket=bucket))
    assert_names(error, "state.state_bucket", bucket)
    assert "S3 bucket names" in str(error)


def test_bootstrap_bucket_breaking_s3_naming_rules() -> None:
    assert_names(rejected(state=replace(default_state("prod"), bootstrap_bucket="Bad_Bucket")),
                 "state.bootstrap_bucket", "Bad_Bucket")


def test_state_bucket_equal_to_bootstrap_bucket() -> None:
    state = replace(default_state("prod"), state_bucket="jsj-lgtm-terraform-bootstrap")
    assert_names(rejected(state=state), "state.state_bucket", "jsj-lgtm-terraform-bootstrap")


@pytest.mark.parametrize("table", ["ab", "has space", "x" * 256, "bad/slash"])
def test_lock_table_breaking_dynamodb_naming(table: str) -> None:
    error = rejected(state=replace(default_state("prod"), lock_table=table))
    assert_names(error, "state.lock_table", table)
    assert "DynamoDB table names" in str(error)


@pytest.mark.parametrize("region", ["seoul", "AP-NORTHEAST-2", "ap-northeast", ""])
def test_region_format(region: str) -> None:
    error = rejected(aws_region=region)
    assert_names(error, "aws_region", region)


@pytest.mark.parametrize("tenant", ["", "has space", "a|b", "x" * 151, ".", "..", "__mimir_cluster",
                                    "tenant/slash"])
def test_tenant_id_characters_and_length(tenant: str) -> None:
    error = rejected(tenant_id=tenant)
    assert_names(error, "tenant_id", tenant)
    assert "tenant IDs" in str(error)


@pytest.mark.parametrize("environment", ["Prod", "p", "prod_1", "1prod", "a-very-long-environment-name"])
def test_environment_name(environment: str) -> None:
    error = rejected(environment=environment)
    assert_names(error, "environment", environment)


def test_state_key_prefix_shape() -> None:
    error = rejected(state=replace(default_state("prod"), state_key_prefix="/lgtm-ecs/prod"))
    assert_names(error, "state.state_key_prefix", "/lgtm-ecs/prod")


def test_noncurrent_version_days_positive() -> None:
    error = rejected(state=replace(default_state("prod"), noncurrent_version_expiration_days=0))
    assert_names(error, "state.noncurrent_version_expiration_days", 0)


def test_every_violation_is_reported_in_one_message() -> None:
    error = rejected(aws_region="nowhere", tenant_id="")
    fields = {v.field for v in error.violations}
    assert {"aws_region", "tenant_id"} <= fields
    assert str(error).count("\n  - ") == len(error.violations)


def test_staging_derives_its_own_names() -> None:
    cfg = load_config("staging")
    assert cfg.state.state_bucket == "jsj-lgtm-terraform-state-staging"
    assert cfg.state.lock_table == "jsj-lgtm-terraform-lock-staging"
    assert cfg.state.state_key("10-network") == "lgtm-ecs/staging/10-network/terraform.tfstate"
    assert cfg.state.bootstrap_state_key == "bootstrap/staging/terraform.tfstate"


def test_main_stops_synth_with_the_message(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import main

    monkeypatch.setenv("LGTM_ENVIRONMENT", "Bad_Env")
    monkeypatch.setattr(main, "App", lambda: __import__("cdktf").Testing.app())
    assert main.main() == 2
    err = capsys.readouterr().err
    assert "synth stopped" in err and "environment" in err and "'Bad_Env'" in err
