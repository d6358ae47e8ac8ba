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


@pytest.mark.parametrize("mode", ["off", "Strictest", ""])
def test_alb_desync_mitigation_mode_is_one_aws_accepts(mode: str) -> None:
    from config.common import AlbConfig

    assert_names(rejected(alb=AlbConfig(desync_mitigation_mode=mode)), "alb.desync_mitigation_mode", mode)


@pytest.mark.parametrize("seconds", [-1, 2147483648, True])
def test_ecs_health_check_grace_period_range(seconds: object) -> None:
    from config.common import EcsConfig

    error = rejected(ecs=EcsConfig(health_check_grace_period_seconds=seconds))  # type: ignore[arg-type]
    assert_names(error, "ecs.health_check_grace_period_seconds", seconds)


# --- 10-network, 20-storage, 30-security-groups, 40-iam settings (issue 3) ---

def _network(**changes: object):
    from config.common import NetworkConfig

    return replace(NetworkConfig(), **changes)


def _existing_vpc(**changes: object):
    from config.common import ExistingVpc

    return replace(ExistingVpc(vpc_id="vpc-0123abcd", public_subnet_ids=("subnet-a1", "subnet-a2"),
                               private_subnet_ids=("subnet-b1", "subnet-b2"),
                               private_route_table_ids=("rtb-c1", "rtb-c2")), **changes)


def _with_service(name: str, **changes: object):
    return tuple(replace(s, **changes) if s.name == name else s for s in load_config().services)


@pytest.mark.parametrize("cidr", ["10.20.0.0/33", "10.20.0.1/16", "not-a-cidr", "2001:db8::/32"])
def test_vpc_cidr_must_parse(cidr: str) -> None:
    assert_names(rejected(network=_network(vpc_cidr=cidr)), "network.vpc_cidr", cidr)


def test_subnet_cidr_must_parse() -> None:
    error = rejected(network=_network(private_subnet_cidrs=("10.20.10.0/24", "10.20.300.0/24")))
    assert_names(error, "network.private_subnet_cidrs[1]", "10.20.300.0/24")


def test_subnets_must_lie_inside_the_vpc() -> None:
    error = rejected(network=_network(public_subnet_cidrs=("10.20.0.0/24", "10.99.1.0/24")))
    assert_names(error, "network.public_subnet_cidrs[1]", "10.99.1.0/24")
    assert "inside network.vpc_cidr" in str(error)


def test_subnets_must_not_overlap() -> None:
    error = rejected(network=_network(private_subnet_cidrs=("10.20.10.0/24", "10.20.0.0/23")))
    assert_names(error, "network.private_subnet_cidrs[1]", "10.20.0.0/23")
    assert "must not overlap" in str(error) and "network.public_subnet_cidrs[0]" in str(error)


def test_one_subnet_per_availability_zone_in_the_region() -> None:
    error = rejected(network=_network(availability_zones=("ap-northeast-2a", "us-east-1a")))
    assert_names(error, "network.availability_zones", "us-east-1a")
    error = rejected(network=_network(public_subnet_cidrs=("10.20.0.0/24",)))
    assert_names(error, "network.public_subnet_cidrs", ("10.20.0.0/24",))


@pytest.mark.parametrize("missing", ["public_subnet_ids", "private_subnet_ids"])
def test_existing_vpc_needs_its_subnets(missing: str) -> None:
    error = rejected(network=_network(existing_vpc=_existing_vpc(**{missing: ()})))
    assert_names(error, f"network.existing_vpc.{missing}", ())


def test_existing_vpc_ids_have_the_right_shape() -> None:
    error = rejected(network=_network(existing_vpc=_existing_vpc(vpc_id="my-vpc", private_route_table_ids=("rt-1",))))
    assert_names(error, "network.existing_vpc.vpc_id", "my-vpc")
    assert_names(error, "network.existing_vpc.private_route_table_ids[0]", "rt-1")


def test_existing_vpc_endpoint_needs_route_tables_or_is_switched_off() -> None:
    error = rejected(network=_network(existing_vpc=_existing_vpc(private_route_table_ids=())))
    assert_names(error, "network.existing_vpc.private_route_table_ids", ())
    assert "s3_gateway_endpoint" in str(error)
    load_config(network=_network(existing_vpc=_existing_vpc(private_route_table_ids=()), s3_gateway_endpoint=False))


@pytest.mark.parametrize("port", [0, 65536, -1, 70000])
def test_shared_port_out_of_range(port: int) -> None:
    from config.common import Ports

    assert_names(rejected(ports=Ports(grpc=port)), "ports.grpc", port)


def test_service_http_port_out_of_range() -> None:
    error = rejected(services=_with_service("alloy", http_port=99999))
    assert_names(error, "services[5](alloy).http_port", 99999)


def test_alb_ingress_rule_port_out_of_range_and_bad_cidr() -> None:
    from config.common import IngressRule

    rule = IngressRule(name="http", port=0, cidr_blocks=("10.0.0.0/33",), description="clients")
    error = rejected(alb_ingress_rules=(rule,))
    assert_names(error, "alb_ingress_rules[0].port", 0)
    assert_names(error, "alb_ingress_rules[0].cidr_blocks[0]", "10.0.0.0/33")


@pytest.mark.parametrize("prefix", ["Bad_Prefix", "UPPER", "x" * 60])
def test_data_bucket_name_breaking_s3_rules(prefix: str) -> None:
    error = rejected(name_prefix=prefix)
    assert any(v.field == "data_bucket('mimir')" for v in error.violations), str(error)
    assert "S3 bucket names" in str(error) and f"{prefix}-mimir-prod" in str(error)


def test_data_buckets_follow_object_storage_not_service_names() -> None:
    cfg = load_config(services=_with_service("alloy", object_storage=True))
    assert [s.name for s in cfg.object_storage_services] == ["mimir", "loki", "tempo", "pyroscope", "alloy"]
    assert [s.name for s in load_config().object_storage_services] == ["mimir", "loki", "tempo", "pyroscope"]


def test_data_noncurrent_version_days_positive() -> None:
    from config.common import StorageConfig

    error = rejected(storage=StorageConfig(noncurrent_version_expiration_days=0))
    assert_names(error, "storage.noncurrent_version_expiration_days", 0)


def test_efs_transition_is_one_aws_accepts() -> None:
    from config.common import StorageConfig

    error = rejected(storage=StorageConfig(efs_transition_to_ia="AFTER_2_DAYS"))
    assert_names(error, "storage.efs_transition_to_ia", "AFTER_2_DAYS")


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"ruler": "blocks"}, "storage.mimir_prefixes.ruler", "blocks"),
    ({"alertmanager": "blocks2"}, "storage.mimir_prefixes.alertmanager", "blocks2"),
    ({"ruler": "rules/sub"}, "storage.mimir_prefixes.ruler", "rules/sub"),
    ({"blocks": ""}, "storage.mimir_prefixes.blocks", ""),
])
def test_mimir_prefixes_distinct_non_overlapping_and_plain(changes: dict[str, str], field: str, value: str) -> None:
    from config.common import MimirStoragePrefixes, StorageConfig

    error = rejected(storage=StorageConfig(mimir_prefixes=replace(MimirStoragePrefixes(), **changes)))
    assert_names(error, field, value)


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"container_path": "var/lib/grafana"}, "container_path", "var/lib/grafana"),
    ({"root_directory": "/"}, "root_directory", "/"),
    ({"uid": -1}, "uid", -1),
    ({"gid": 2**32}, "gid", 2**32),
    ({"permissions": "rwx"}, "permissions", "rwx"),
])
def test_efs_volume_settings(changes: dict[str, object], field: str, value: object) -> None:
    volume = replace(load_config().service("grafana").efs, **changes)  # type: ignore[arg-type]
    error = rejected(services=_with_service("grafana", efs=volume))
    assert_names(error, f"services[0](grafana).efs.{field}", value)


def test_efs_root_directories_are_not_shared() -> None:
    grafana_volume = load_config().service("grafana").efs
    error = rejected(services=_with_service("loki", efs=grafana_volume))
    assert_names(error, "services[2](loki).efs.root_directory", "/grafana")


def test_task_role_names_fit_iam() -> None:
    from config.common import ServiceConfig, default_state

    extra = ServiceConfig(name="a-very-long-service-n", image="grafana/agent", tag="v1", cpu=256, memory=512,
                          http_port=9999, readiness_path="/ready", stateful=False)
    environment = "staging-long-env"
    error = rejected(environment=environment, project="p" * 32, state=default_state(environment),
                     services=(*load_config().services, extra))
    assert_names(error, "services[6](a-very-long-service-n).name",
                 f"{'p' * 32}-{environment}-a-very-long-service-n-task")


@pytest.mark.parametrize("days", [0, 2, 10000])
def test_flow_log_retention_is_a_cloudwatch_value(days: int) -> None:
    assert_names(rejected(network=_network(flow_log_retention_days=days)), "network.flow_log_retention_days", days)


@pytest.mark.parametrize(("field", "value"), [
    ("repository", "lgtm-ecs"), ("repository", "jsj/lgtm ecs"), ("deploy_policy_name", "has space"),
    ("deploy_role_name", "r" * 65), ("existing_role_name", "bad/role"),
])
def test_github_deploy_access_settings(field: str, value: str) -> None:
    from config.common import GitHubConfig

    error = rejected(github=replace(GitHubConfig(), **{field: value}))
    assert_names(error, f"github.{field}", value)


def test_extra_services_must_be_alloy_collectors() -> None:
    base = load_config()
    grafana_copy = replace(base.service("grafana"), name="grafana-2", targets=())
    error = rejected(services=base.services + (grafana_copy,))
    assert_names(error, "services[6](grafana-2).kind", "")


def test_core_service_cannot_change_kind() -> None:
    services = tuple(replace(s, kind="alloy") if s.name == "loki" else s for s in load_config().services)
    assert_names(rejected(services=services), "services[2](loki).kind", "alloy")


def test_extra_collector_listens_on_alloys_port() -> None:
    base = load_config()
    collector = replace(base.service("alloy"), name="alloy-2", kind="alloy", http_port=12346)
    assert_names(rejected(services=base.services + (collector,)), "services[6](alloy-2).http_port", 12346)


def test_extra_alloy_collectors_are_accepted() -> None:
    base = load_config()
    collectors = tuple(replace(base.service("alloy"), name=f"alloy-{i}", kind="alloy") for i in (2, 3))
    cfg = load_config(services=base.services + collectors)
    assert [s.service_kind for s in cfg.services[-2:]] == ["alloy", "alloy"]


# Opt-in hardening (each removes a check .checkov.yaml skips).
GOOD_KMS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_REGION_KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_ALIAS = "arn:aws:kms:ap-northeast-2:123456789012:alias/lgtm"


def _kms_overrides(field: str, arn: str) -> dict[str, object]:
    from config.common import EcsConfig, StorageConfig

    section, name = field.split(".")
    if section == "state":
        return {"state": replace(default_state("prod"), **{name: arn})}
    if section == "storage":
        return {"storage": StorageConfig(**{name: arn})}
    return {"ecs": EcsConfig(**{name: arn})}


@pytest.mark.parametrize("field", ["state.kms_key_arn", "storage.kms_key_arn", "ecs.log_kms_key_arn",
                                   "ecs.secrets_kms_key_arn"])
@pytest.mark.parametrize("arn, rule", [(KMS_ALIAS, "KMS key ARNs"), ("1234abcd", "KMS key ARNs"),
                                       (OTHER_REGION_KMS_KEY, "must be in aws_region")])
def test_kms_keys_are_key_arns_in_the_region(field: str, arn: str, rule: str) -> None:
    error = rejected(**_kms_overrides(field, arn))
    assert_names(error, field, arn)
    assert rule in str(error)
    load_config(**_kms_overrides(field, GOOD_KMS_KEY))  # the right shape is accepted


def test_web_acl_is_a_regional_wafv2_acl_in_the_region() -> None:
    from config.common import AlbConfig

    cloudfront_acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/lgtm/a1b2c3d4"
    assert_names(rejected(alb=AlbConfig(web_acl_arn=cloudfront_acl)), "alb.web_acl_arn", cloudfront_acl)
    other_region = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/lgtm/a1b2c3d4"
    error = rejected(alb=AlbConfig(web_acl_arn=other_region))
    assert_names(error, "alb.web_acl_arn", other_region)
    assert "must be in aws_region" in str(error)


@pytest.mark.parametrize("bucket", ["Bad_Bucket", "jsj-lgtm-terraform-state-prod", "jsj-lgtm-loki-prod"])
def test_access_log_bucket_is_a_bucket_name_and_not_a_logged_bucket(bucket: str) -> None:
    from config.common import StorageConfig

    assert_names(rejected(storage=StorageConfig(access_log_bucket=bucket)), "storage.access_log_bucket", bucket)


@pytest.mark.parametrize("user", ["0", "0:0", "root", "grafana", "472:", "-1", ""])
def test_service_users_are_numeric_and_not_root(user: str) -> None:
    services = tuple(replace(s, user=user) if s.name == "tempo" else s for s in load_config().services)
    error = rejected(services=services)
    assert_names(error, "services[3](tempo).user", user)
    assert "other than root" in str(error)
