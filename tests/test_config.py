"""Config validation: for each rule a bad value stops synth naming field, rule and value, and a
value at the edge of validity is accepted.

The generic tests at the end introspect the dataclasses: every string field with whitespace and
newline variants, every bool and int field given a string. A new field is covered without a new test.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from config.common import (
    AlbConfig,
    Config,
    EcsConfig,
    EfsVolume,
    ExistingVpc,
    GitHubConfig,
    IngressRule,
    MimirStoragePrefixes,
    NetworkConfig,
    Ports,
    PrefixProxy,
    ServiceConfig,
    StorageConfig,
    Target,
    default_github,
    default_state,
    load_config,
)
from config.validation import ConfigError

DIGEST = "sha256:" + "0123456789abcdef" * 4


def rejected(environment: str = "prod", **overrides: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(environment, **overrides)
    return caught.value


def accepted(environment: str = "prod", **overrides: object) -> Config:
    return load_config(environment, **overrides)


def assert_names(error: ConfigError, field: str, value: object) -> None:
    message = str(error)
    assert field in message, message
    assert repr(value) in message, message
    assert any(v.field == field for v in error.violations), [v.field for v in error.violations]


def base_services() -> tuple[ServiceConfig, ...]:
    return load_config().services


def with_service(name: str, **changes: object) -> tuple[ServiceConfig, ...]:
    return tuple(replace(s, **changes) if s.name == name else s for s in base_services())


def with_target(service: str, index: int = 0, **changes: object) -> tuple[ServiceConfig, ...]:
    svc = load_config().service(service)
    targets = tuple(replace(t, **changes) if i == index else t for i, t in enumerate(svc.targets))
    return with_service(service, targets=targets)


def network(**changes: object) -> NetworkConfig:
    return replace(NetworkConfig(), **changes)


def existing_vpc(**changes: object) -> ExistingVpc:
    return replace(ExistingVpc(vpc_id="vpc-0123abcd",
                               public_subnet_ids=("subnet-0a000001", "subnet-0a000002"),
                               private_subnet_ids=("subnet-0b000001", "subnet-0b000002"),
                               private_route_table_ids=("rtb-0c000001", "rtb-0c000002")), **changes)


# --- defaults, identity ------------------------------------------------------------------


def test_defaults_are_valid_and_hold_the_seed_names() -> None:
    cfg = load_config()
    assert (cfg.project, cfg.environment, cfg.tenant_id) == ("lgtm-ecs", "prod", "jsj-lgtm-header")
    assert cfg.state.bootstrap_bucket == "jsj-lgtm-terraform-bootstrap"
    assert cfg.state.state_bucket == "jsj-lgtm-terraform-state-prod"
    assert cfg.state.lock_table == "jsj-lgtm-terraform-lock-prod"
    assert (cfg.github.deploy_role_name, cfg.github.deploy_policy_name) == \
        ("jsj-github-action-lgtm", "jsj_github_action_LGTM")
    assert cfg.github.create_oidc_provider is True


def test_config_is_frozen() -> None:
    cfg = load_config()
    with pytest.raises(AttributeError):
        cfg.tenant_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("project", ["Lgtm", "l", "lgtm_ecs", "1lgtm", "p" * 33])
def test_project_name(project: str) -> None:
    assert_names(rejected(project=project), "project", project)


def test_project_name_at_its_longest_is_accepted() -> None:
    assert accepted(project="p" * 32).resource_name("x").startswith("p" * 32)


@pytest.mark.parametrize("environment", ["Prod", "p", "prod_1", "1prod", "a-very-long-environment-name"])
def test_environment_name(environment: str) -> None:
    assert_names(rejected(environment), "environment", environment)


@pytest.mark.parametrize("environment", ["stagign", "dev", "production"])
def test_environment_must_be_a_known_one(environment: str) -> None:
    error = rejected(environment)
    assert_names(error, "environment", environment)
    assert "known environments" in str(error)


def test_every_known_environment_loads_with_names_of_its_own() -> None:
    from config.names import ENVIRONMENTS
    from config.validation import _ENVIRONMENT, validate_apart

    configs = [load_config(environment) for environment in ENVIRONMENTS]
    assert all(_ENVIRONMENT.fullmatch(cfg.environment) for cfg in configs)
    validate_apart(configs)


@pytest.mark.parametrize("region", ["seoul", "AP-NORTHEAST-2", "ap-northeast", ""])
def test_region_format(region: str) -> None:
    assert_names(rejected(aws_region=region), "aws_region", region)


def test_another_region_with_its_own_zones_is_accepted() -> None:
    cfg = accepted(aws_region="us-gov-west-1",
                   network=network(availability_zones=("us-gov-west-1a", "us-gov-west-1b")))
    assert cfg.aws_region == "us-gov-west-1"


@pytest.mark.parametrize("tenant", ["", "has space", "a|b", "x" * 151, ".", "..", "__mimir_cluster",
                                    "tenant/slash"])
def test_tenant_id_characters_and_length(tenant: str) -> None:
    error = rejected(tenant_id=tenant)
    assert_names(error, "tenant_id", tenant)


@pytest.mark.parametrize("tenant", ["x" * 150, "!-_.*'()", "a"])
def test_tenant_id_at_the_edge_is_accepted(tenant: str) -> None:
    assert accepted(tenant_id=tenant).tenant_id == tenant


@pytest.mark.parametrize("tenant", ["jsj-lgtm-header\n", "jsj-lgtm-header ", "\tjsj-lgtm-header",
                                    "jsj-lgtm\nheader"])
def test_tenant_id_with_a_newline_tab_or_space_is_refused(tenant: str) -> None:
    """It reaches Alloy's header and Grafana's datasources verbatim."""
    assert_names(rejected(tenant_id=tenant), "tenant_id", tenant)


def test_every_violation_is_reported_in_one_message() -> None:
    error = rejected(aws_region="nowhere", tenant_id="")
    fields = {v.field for v in error.violations}
    assert {"aws_region", "tenant_id"} <= fields
    assert str(error).count("\n  - ") == len(error.violations)


def test_every_pattern_rule_uses_fullmatch() -> None:
    """`^...$` with re.match accepts a trailing newline: the module matches whole strings only."""
    import inspect
    import re

    import config.validation as validation

    source = inspect.getsource(validation)
    assert not re.search(r"\.(match|search)\(", source), "use fullmatch"
    for name, pattern in vars(validation).items():
        if isinstance(pattern, re.Pattern):
            assert not pattern.pattern.startswith("^") and not pattern.pattern.endswith("$"), name


def test_a_pattern_check_refuses_a_trailing_newline_on_its_own() -> None:
    from config.validation import _TENANT, TENANT_RULE, check_pattern

    assert list(check_pattern("tenant_id", "jsj-lgtm-header", _TENANT, TENANT_RULE)) == []
    (violation,) = check_pattern("tenant_id", "jsj-lgtm-header\n", _TENANT, TENANT_RULE)
    assert violation.field == "tenant_id"


# --- tags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tags", "field"), [
    ({"team|x": "a"}, "tags['team|x']"),
    ({"aws:owner": "a"}, "tags['aws:owner']"),
    ({"AWS:owner": "a"}, "tags['AWS:owner']"),
    ({"Team": "aws:x"}, "tags['Team']"),
    ({"k" * 129: "a"}, f"tags[{'k' * 129!r}]"),
    ({"Team": "v" * 257}, "tags['Team']"),
    ({"Team": "a;b"}, "tags['Team']"),
])
def test_tag_keys_and_values_follow_aws_rules(tags: dict[str, str], field: str) -> None:
    error = rejected(tags=tags)
    assert any(v.field == field for v in error.violations), str(error)
    assert "tag keys are 1-128" in str(error)


def test_tags_at_the_edge_of_aws_rules_are_accepted() -> None:
    tags = {"cost-center:team/a=b+c@d_e f": "", "k" * 128: "v" * 256, "팀": "관측"}
    assert dict(accepted(tags=tags).tags) == tags


@pytest.mark.parametrize("key", ["Environment", "environment", "Project", "ManagedBy", "Stack", "Name",
                                 "Service", "Tier"])
def test_tags_the_stacks_set_are_reserved(key: str) -> None:
    """A user `Environment` tag would also break the deploy policy's Environment condition."""
    error = rejected(tags={key: "x"})
    assert_names(error, f"tags[{key!r}]", key)
    assert "reserved" in str(error)


def test_tags_within_the_per_resource_limit_with_the_stacks_own() -> None:
    from config.names import DEFAULT_TAG_KEYS, RESOURCE_TAG_KEYS
    from config.validation import MAX_TAGS_PER_RESOURCE

    room = MAX_TAGS_PER_RESOURCE - len(DEFAULT_TAG_KEYS) - len(RESOURCE_TAG_KEYS)
    accepted(tags={f"k{i}": "v" for i in range(room)})
    assert_names(rejected(tags={f"k{i}": "v" for i in range(room + 1)}), "tags", room + 1)


# --- state and environments --------------------------------------------------------------------


@pytest.mark.parametrize("bucket", ["Upper-Case", "ab", "bad..dots", "192.168.1.1", "-leading",
                                    "xn--punycode", "ends-s3alias", "a" * 64, "under_score"])
def test_state_bucket_breaking_s3_naming_rules(bucket: str) -> None:
    error = rejected(state=replace(default_state("prod"), state_bucket=bucket))
    assert_names(error, "state.state_bucket", bucket)
    assert "S3 bucket names" in str(error)


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "a.b-c"])
def test_state_bucket_at_the_edge_of_s3_naming_is_accepted(bucket: str) -> None:
    assert accepted(state=replace(default_state("prod"), state_bucket=bucket)).state.state_bucket == bucket


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


@pytest.mark.parametrize("table", ["abc", "x" * 255])
def test_lock_table_at_the_edge_is_accepted(table: str) -> None:
    assert accepted(state=replace(default_state("prod"), lock_table=table)).state.lock_table == table


@pytest.mark.parametrize(("name", "key"), [("state_key_prefix", "/lgtm-ecs/prod"),
                                           ("state_key_prefix", "lgtm-ecs//prod"),
                                           ("bootstrap_state_key", "bootstrap/terraform.tfstate/"),
                                           ("bootstrap_state_key", "")])
def test_state_key_shape(name: str, key: str) -> None:
    assert_names(rejected(state=replace(default_state("prod"), **{name: key})), f"state.{name}", key)


def test_state_key_prefix_of_one_character_is_accepted() -> None:
    assert accepted(state=replace(default_state("prod"), state_key_prefix="p")).state.state_key("x") \
        == "p/x/terraform.tfstate"


def test_noncurrent_version_days_positive() -> None:
    assert_names(rejected(state=replace(default_state("prod"), noncurrent_version_expiration_days=0)),
                 "state.noncurrent_version_expiration_days", 0)
    accepted(state=replace(default_state("prod"), noncurrent_version_expiration_days=1))


def test_staging_derives_its_own_names() -> None:
    cfg = load_config("staging")
    assert cfg.state.state_bucket == "jsj-lgtm-terraform-state-staging"
    assert cfg.state.lock_table == "jsj-lgtm-terraform-lock-staging"
    assert cfg.state.state_key("10-network") == "lgtm-ecs/staging/10-network/terraform.tfstate"
    assert cfg.state.bootstrap_state_key == "bootstrap/staging/terraform.tfstate"
    assert (cfg.github.deploy_role_name, cfg.github.deploy_policy_name) == \
        ("jsj-github-action-lgtm-staging", "jsj_github_action_LGTM_staging")
    # One OIDC provider per account: staging looks up the one prod creates.
    assert cfg.github.create_oidc_provider is False


def test_an_environment_in_an_account_of_its_own_creates_the_oidc_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    import config.common

    monkeypatch.setattr(config.common, "OWN_ACCOUNT_ENVIRONMENTS", ("staging",))
    assert default_github("staging").create_oidc_provider is True
    assert default_github("staging").deploy_role_name == "jsj-github-action-lgtm-staging"


@pytest.mark.parametrize("field", ["state_bucket", "lock_table", "state_key_prefix", "bootstrap_state_key"])
def test_staging_with_prods_state_settings_is_refused(field: str) -> None:
    prod_state = default_state("prod")
    error = rejected("staging", state=replace(default_state("staging"), **{field: getattr(prod_state, field)}))
    assert_names(error, f"state.{field}", getattr(prod_state, field))
    assert "belongs to environment 'prod'" in str(error)


def test_prod_with_stagings_state_is_refused_too() -> None:
    error = rejected("prod", state=default_state("staging"))
    assert {"state.state_bucket", "state.lock_table"} <= {v.field for v in error.violations}


@pytest.mark.parametrize("field", ["deploy_role_name", "deploy_policy_name"])
def test_staging_with_prods_deploy_names_is_refused(field: str) -> None:
    """Role and policy names are account-wide: staging in prod's account would collide."""
    github = replace(default_github("staging"), **{field: getattr(GitHubConfig(), field)})
    assert_names(rejected("staging", github=github), f"github.{field}", getattr(GitHubConfig(), field))


def test_staging_may_attach_its_policy_to_prods_existing_role() -> None:
    github = replace(default_github("staging"), existing_role_name="jsj-github-action-lgtm")
    assert accepted("staging", github=github).github.existing_role_name == "jsj-github-action-lgtm"


def test_two_configs_sharing_account_wide_names_are_named() -> None:
    """Names neither environment's defaults hold pass each config's own rules: compared together they fail."""
    from config.validation import validate_apart

    shared = replace(default_state("staging"), state_bucket="jsj-lgtm-terraform-state-shared")
    prod = accepted("prod", state=replace(default_state("prod"), state_bucket="jsj-lgtm-terraform-state-shared"))
    staging = accepted("staging", state=shared)
    with pytest.raises(ConfigError) as caught:
        validate_apart([prod, staging])
    (violation,) = caught.value.violations
    assert violation.field == "staging: state.state_bucket" and "'prod' uses it too" in violation.rule
    validate_apart([prod, accepted("staging")])


@pytest.mark.parametrize("field", ["state_bucket", "bootstrap_bucket"])
def test_state_buckets_are_not_data_buckets(field: str) -> None:
    """Two stacks (00-bootstrap or by hand, and 20-storage) would make one bucket."""
    error = rejected(state=replace(default_state("prod"), **{field: "jsj-lgtm-loki-prod"}))
    assert_names(error, f"state.{field}", "jsj-lgtm-loki-prod")


@pytest.mark.parametrize("bucket", ["jsj-lgtm-terraform-state-prod", "jsj-lgtm-mimir-prod",
                                    "jsj-lgtm-terraform-bootstrap"])
def test_alb_access_logs_go_to_a_bucket_of_their_own(bucket: str) -> None:
    assert_names(rejected(alb=AlbConfig(access_logs_bucket=bucket)), "alb.access_logs_bucket", bucket)
    accepted(alb=AlbConfig(access_logs_bucket="jsj-lgtm-alb-logs-prod"))


# --- environment selection ----------------------------------------------------------------------


def select(context: object = None, variable: str | None = None) -> str:
    from config.common import selected_environment

    environ = {} if variable is None else {"LGTM_ENVIRONMENT": variable}
    return selected_environment(context, environ=environ)


def test_prod_when_nothing_selects_an_environment() -> None:
    assert select() == "prod"


@pytest.mark.parametrize(("context", "variable", "expected"), [
    ("staging", None, "staging"), (None, "staging", "staging"), ("staging", "staging", "staging"),
    (None, "prod", "prod"),
])
def test_either_source_selects_a_known_environment(context: object, variable: str | None, expected: str) -> None:
    assert select(context, variable) == expected


@pytest.mark.parametrize(("context", "variable", "source"), [
    (None, "stagign", "$LGTM_ENVIRONMENT"), (None, "", "$LGTM_ENVIRONMENT"),
    ("stagign", None, "cdktf context 'environment' (cdktf.json)"),
    ("", None, "cdktf context 'environment' (cdktf.json)"),
    (False, None, "cdktf context 'environment' (cdktf.json)"),
    (0, None, "cdktf context 'environment' (cdktf.json)"),
])
def test_unknown_empty_or_false_selection_is_refused_naming_its_source(context: object, variable: str | None,
                                                                       source: str) -> None:
    with pytest.raises(ConfigError) as caught:
        select(context, variable)
    value = context if variable is None else variable
    assert_names(caught.value, source, value)


def test_context_and_variable_that_differ_are_refused_not_silently_ordered() -> None:
    with pytest.raises(ConfigError) as caught:
        select("staging", "prod")
    message = str(caught.value)
    assert "'staging'" in message and "'prod'" in message and "set only one" in message


def test_cdktf_json_context_is_read_for_python_main(tmp_path) -> None:
    from config.common import project_context_environment

    path = tmp_path / "cdktf.json"
    path.write_text('{"context": {"environment": "staging"}}')
    assert project_context_environment(path) == "staging"
    path.write_text('{"context": {}}')
    assert project_context_environment(path) is None
    path.write_text('{"context": ')
    with pytest.raises(ConfigError) as caught:
        project_context_environment(path)
    assert str(path) in str(caught.value)


def test_load_config_refuses_an_unknown_setting() -> None:
    error = rejected(tenant="x")
    assert_names(error, "tenant", "x")
    assert "not a Config field" in str(error)


# --- network -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cidr", ["10.20.0.0/33", "10.20.0.1/16", "not-a-cidr", "2001:db8::/32"])
def test_vpc_cidr_must_parse(cidr: str) -> None:
    assert_names(rejected(network=network(vpc_cidr=cidr)), "network.vpc_cidr", cidr)


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.20.0.0/29"])
def test_vpc_cidr_is_a_size_aws_accepts(cidr: str) -> None:
    assert_names(rejected(network=network(vpc_cidr=cidr)), "network.vpc_cidr", cidr)


def test_subnet_sizes_are_ones_aws_accepts() -> None:
    error = rejected(network=network(private_subnet_cidrs=("10.20.10.0/24", "10.20.11.0/29")))
    assert_names(error, "network.private_subnet_cidrs[1]", "10.20.11.0/29")
    error = rejected(network=network(vpc_cidr="10.0.0.0/8", public_subnet_cidrs=("10.0.0.0/15", "10.20.1.0/24")))
    assert_names(error, "network.public_subnet_cidrs[0]", "10.0.0.0/15")


def test_vpc_and_subnets_at_the_edge_of_aws_sizes_are_accepted() -> None:
    accepted(network=network(vpc_cidr="10.20.0.0/16", public_subnet_cidrs=("10.20.0.0/28", "10.20.0.16/28")))
    accepted(network=network(vpc_cidr="10.20.0.0/26", public_subnet_cidrs=("10.20.0.0/28", "10.20.0.16/28"),
                             private_subnet_cidrs=("10.20.0.32/28", "10.20.0.48/28")))


def test_subnet_cidr_must_parse() -> None:
    error = rejected(network=network(private_subnet_cidrs=("10.20.10.0/24", "10.20.300.0/24")))
    assert_names(error, "network.private_subnet_cidrs[1]", "10.20.300.0/24")


def test_subnets_must_lie_inside_the_vpc() -> None:
    error = rejected(network=network(public_subnet_cidrs=("10.20.0.0/24", "10.99.1.0/24")))
    assert_names(error, "network.public_subnet_cidrs[1]", "10.99.1.0/24")
    assert "inside network.vpc_cidr" in str(error)


def test_subnets_must_not_overlap() -> None:
    error = rejected(network=network(private_subnet_cidrs=("10.20.10.0/24", "10.20.0.0/23")))
    assert_names(error, "network.private_subnet_cidrs[1]", "10.20.0.0/23")
    assert "must not overlap" in str(error) and "network.public_subnet_cidrs[0]" in str(error)


def test_one_subnet_per_availability_zone() -> None:
    error = rejected(network=network(public_subnet_cidrs=("10.20.0.0/24",)))
    assert_names(error, "network.public_subnet_cidrs", ("10.20.0.0/24",))


@pytest.mark.parametrize("zones", [("ap-northeast-2a",), ("ap-northeast-2a", "ap-northeast-2a")])
def test_at_least_two_distinct_availability_zones(zones: tuple[str, ...]) -> None:
    error = rejected(network=network(availability_zones=zones, public_subnet_cidrs=("10.20.0.0/24",) * len(zones)
                                     if len(zones) == 1 else NetworkConfig().public_subnet_cidrs))
    assert_names(error, "network.availability_zones", zones)


@pytest.mark.parametrize("zone", ["us-east-1a", "ap-northeast-2", "ap-northeast-2aa", "ap-northeast-2A"])
def test_availability_zone_is_the_region_and_one_letter(zone: str) -> None:
    error = rejected(network=network(availability_zones=("ap-northeast-2a", zone)))
    assert_names(error, "network.availability_zones[1]", zone)


@pytest.mark.parametrize("zone", ["ap-northeast-2e", "ap-northeast-2z"])
def test_availability_zone_that_does_not_exist_in_a_known_region(zone: str) -> None:
    error = rejected(network=network(availability_zones=("ap-northeast-2a", zone)))
    assert_names(error, "network.availability_zones[1]", zone)
    assert "ap-northeast-2d" in str(error)


@pytest.mark.parametrize("zone", ["ap-northeast-2a ", " ap-northeast-2a", "ap-northeast-2a\n"])
def test_availability_zone_with_whitespace_is_refused(zone: str) -> None:
    assert_names(rejected(network=network(availability_zones=(zone, "ap-northeast-2c"))),
                 "network.availability_zones[0]", zone)


def test_every_existing_zone_of_the_region_is_accepted() -> None:
    accepted(network=network(availability_zones=("ap-northeast-2b", "ap-northeast-2d")))


@pytest.mark.parametrize("missing", ["public_subnet_ids", "private_subnet_ids"])
def test_existing_vpc_needs_its_subnets(missing: str) -> None:
    error = rejected(network=network(existing_vpc=existing_vpc(**{missing: ()})))
    assert_names(error, f"network.existing_vpc.{missing}", ())


def test_existing_vpc_ids_have_the_right_shape() -> None:
    error = rejected(network=network(existing_vpc=existing_vpc(vpc_id="my-vpc", private_route_table_ids=("rt-1",))))
    assert_names(error, "network.existing_vpc.vpc_id", "my-vpc")
    assert_names(error, "network.existing_vpc.private_route_table_ids[0]", "rt-1")
    error = rejected(network=network(existing_vpc=existing_vpc(public_subnet_ids=("subnet-a1", "subnet-0a000002"))))
    assert_names(error, "network.existing_vpc.public_subnet_ids", ("subnet-a1", "subnet-0a000002"))


def test_existing_vpc_ids_of_both_lengths_are_accepted() -> None:
    accepted(network=network(existing_vpc=existing_vpc(vpc_id="vpc-0123456789abcdef0",
                                                       public_subnet_ids=("subnet-0123456789abcdef0",
                                                                          "subnet-0a000002"))))


def test_existing_vpc_endpoint_needs_route_tables_or_is_switched_off() -> None:
    error = rejected(network=network(existing_vpc=existing_vpc(private_route_table_ids=())))
    assert_names(error, "network.existing_vpc.private_route_table_ids", ())
    assert "s3_gateway_endpoint" in str(error)
    accepted(network=network(existing_vpc=existing_vpc(private_route_table_ids=()), s3_gateway_endpoint=False))


@pytest.mark.parametrize("days", [0, 2, 10000])
def test_flow_log_retention_is_a_cloudwatch_value(days: int) -> None:
    assert_names(rejected(network=network(flow_log_retention_days=days)), "network.flow_log_retention_days", days)
    accepted(network=network(flow_log_retention_days=3653))
    accepted(network=network(flow_log_retention_days=None))


# --- ports, ingress, listeners --------------------------------------------------------------------


@pytest.mark.parametrize("port", [0, 65536, -1, 70000])
def test_shared_port_out_of_range(port: int) -> None:
    assert_names(rejected(ports=Ports(grpc=port)), "ports.grpc", port)


def test_two_listeners_cannot_share_a_port() -> None:
    assert_names(rejected(ports=Ports(https=80)), "ports.https", 80)


@pytest.mark.parametrize("name", ["memberlist", "otlp_grpc", "otlp_http"])
def test_grpc_gossip_and_otlp_ports_are_distinct(name: str) -> None:
    assert_names(rejected(ports=Ports(grpc=Ports().__getattribute__(name))), f"ports.{name}",
                 Ports().__getattribute__(name))


def test_grpc_on_a_services_http_port_is_refused() -> None:
    """Mimir, Loki, Tempo and Pyroscope listen on both in one task."""
    error = rejected(ports=Ports(grpc=3100))
    assert_names(error, "services[2](loki).http_port", 3100)


def test_a_proxy_port_on_the_services_own_port_is_refused() -> None:
    proxy = PrefixProxy(prefix="/pyroscope", port=4041)
    error = rejected(services=with_service("pyroscope", prefix_proxy=proxy))
    assert_names(error, "services[4](pyroscope).prefix_proxy.port", 4041)


def test_moved_shared_ports_that_stay_distinct_are_accepted() -> None:
    accepted(ports=Ports(grpc=9096, memberlist=7947, otlp_grpc=14317, otlp_http=4318, http=8080, https=8443),
             alb_ingress_rules=(IngressRule(name="http", port=8080, cidr_blocks=("0.0.0.0/0",),
                                            description="clients"),))


def test_service_http_port_out_of_range() -> None:
    assert_names(rejected(services=with_service("alloy", http_port=99999)), "services[5](alloy).http_port", 99999)


def rule(**changes: object) -> IngressRule:
    return replace(IngressRule(name="http", port=80, cidr_blocks=("0.0.0.0/0",), description="clients"), **changes)


def test_alb_ingress_rule_port_out_of_range_and_bad_cidr() -> None:
    error = rejected(alb_ingress_rules=(rule(port=0, cidr_blocks=("10.0.0.0/33",)),))
    assert_names(error, "alb_ingress_rules[0].port", 0)
    assert_names(error, "alb_ingress_rules[0].cidr_blocks[0]", "10.0.0.0/33")


def test_alb_ingress_rule_only_on_a_listener_port() -> None:
    assert_names(rejected(alb_ingress_rules=(rule(port=4318),)), "alb_ingress_rules[0].port", 4318)


def test_alb_ingress_rule_names_are_unique_and_name_resources() -> None:
    error = rejected(alb_ingress_rules=(rule(), rule(cidr_blocks=("10.0.0.0/8",))))
    assert_names(error, "alb_ingress_rules[1].name", "http")
    assert_names(rejected(alb_ingress_rules=(rule(name="office vpn"),)), "alb_ingress_rules[0].name", "office vpn")


def test_alb_ingress_rule_needs_a_source() -> None:
    assert_names(rejected(alb_ingress_rules=(rule(cidr_blocks=()),)), "alb_ingress_rules[0].cidr_blocks", ())


def test_alb_ingress_rules_open_a_port_to_a_source_once() -> None:
    """EC2 refuses the second one at apply (InvalidPermission.Duplicate)."""
    error = rejected(alb_ingress_rules=(rule(), rule(name="http-2")))
    assert_names(error, "alb_ingress_rules[1].cidr_blocks[0]", "0.0.0.0/0")


@pytest.mark.parametrize("description", ["clients' HTTP", "", "HTTP <from> clients", "d" * 256, "caf\u00e9"])
def test_ingress_description_is_one_ec2_accepts(description: str) -> None:
    error = rejected(alb_ingress_rules=(rule(description=description),))
    assert_names(error, "alb_ingress_rules[0].description", description)


def test_ingress_description_with_every_allowed_character_is_accepted() -> None:
    allowed = "azAZ09 ._-:/()#,@[]+=&;{}!$*"
    accepted(alb_ingress_rules=(rule(description=allowed),))
    accepted(alb_ingress_rules=(rule(description="d" * 255),))


# --- storage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["Bad_Prefix", "UPPER", "x" * 60])
def test_data_bucket_name_breaking_s3_rules(prefix: str) -> None:
    error = rejected(name_prefix=prefix)
    assert any(v.field == "data_bucket('mimir')" for v in error.violations), str(error)
    assert "S3 bucket names" in str(error) and f"{prefix}-mimir-prod" in str(error)


def test_data_buckets_follow_object_storage_not_service_names() -> None:
    cfg = load_config(services=with_service("alloy", object_storage=True))
    assert [s.name for s in cfg.object_storage_services] == ["mimir", "loki", "tempo", "pyroscope", "alloy"]
    assert [s.name for s in load_config().object_storage_services] == ["mimir", "loki", "tempo", "pyroscope"]


@pytest.mark.parametrize("field", ["abort_incomplete_multipart_days",
                                   "noncurrent_version_expiration_days"])
def test_storage_days_positive(field: str) -> None:
    assert_names(rejected(storage=StorageConfig(**{field: 0})), f"storage.{field}", 0)
    accepted(storage=StorageConfig(**{field: 1}))


def test_efs_transition_is_one_aws_accepts() -> None:
    error = rejected(storage=StorageConfig(efs_transition_to_ia="AFTER_2_DAYS"))
    assert_names(error, "storage.efs_transition_to_ia", "AFTER_2_DAYS")
    accepted(storage=StorageConfig(efs_transition_to_ia="AFTER_1_DAY"))


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"ruler": "blocks"}, "storage.mimir_prefixes.ruler", "blocks"),
    ({"alertmanager": "blocks2"}, "storage.mimir_prefixes.alertmanager", "blocks2"),
    ({"ruler": "rules/sub"}, "storage.mimir_prefixes.ruler", "rules/sub"),
    ({"blocks": ""}, "storage.mimir_prefixes.blocks", ""),
])
def test_mimir_prefixes_distinct_non_overlapping_and_plain(changes: dict[str, str], field: str, value: str) -> None:
    error = rejected(storage=StorageConfig(mimir_prefixes=replace(MimirStoragePrefixes(), **changes)))
    assert_names(error, field, value)


def test_mimir_prefixes_at_the_edge_are_accepted() -> None:
    accepted(storage=StorageConfig(mimir_prefixes=MimirStoragePrefixes(blocks="b" * 64, ruler="r", alertmanager="a")))


def grafana_efs(**changes: object) -> EfsVolume:
    return replace(load_config().service("grafana").efs, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"container_path": "var/lib/grafana"}, "container_path", "var/lib/grafana"),
    ({"container_path": "/var/lib/gra fana"}, "container_path", "/var/lib/gra fana"),
    ({"root_directory": "/"}, "root_directory", "/"),
    ({"root_directory": "/grafana/"}, "root_directory", "/grafana/"),
    ({"uid": -1}, "uid", -1),
    ({"gid": 2**32}, "gid", 2**32),
    ({"permissions": "rwx"}, "permissions", "rwx"),
    ({"permissions": "0789"}, "permissions", "0789"),
])
def test_efs_volume_settings(changes: dict[str, object], field: str, value: object) -> None:
    error = rejected(services=with_service("grafana", efs=grafana_efs(**changes)))
    assert_names(error, f"services[0](grafana).efs.{field}", value)


@pytest.mark.parametrize("path", ["/tmp", "/tmp/grafana", "/etc/lgtm", "/etc/lgtm/x", "/etc"])
def test_efs_container_path_clear_of_the_task_mounts(path: str) -> None:
    error = rejected(services=with_service("grafana", efs=grafana_efs(container_path=path)))
    assert_names(error, "services[0](grafana).efs.container_path", path)


def test_efs_container_path_inside_a_services_scratch_directory() -> None:
    volume = EfsVolume(container_path="/loki/state", root_directory="/loki", uid=10001, gid=10001)
    assert_names(rejected(services=with_service("loki", efs=volume)), "services[2](loki).efs.container_path",
                 "/loki/state")


def test_efs_volume_at_the_edge_is_accepted() -> None:
    accepted(services=with_service("grafana", efs=grafana_efs(container_path="/etc/lgtm-data", uid=0,
                                                              gid=4294967295, permissions="750")))


def test_efs_root_directories_are_not_shared() -> None:
    grafana_volume = load_config().service("grafana").efs
    error = rejected(services=with_service("loki", efs=grafana_volume))
    assert_names(error, "services[2](loki).efs.root_directory", "/grafana")


# --- services ------------------------------------------------------------------------------------


def test_every_core_service_is_required() -> None:
    services = tuple(s for s in base_services() if s.name != "loki")
    error = rejected(services=services)
    assert any(v.field == "services" and "'loki'" in v.rule for v in error.violations), str(error)


@pytest.mark.parametrize("name", ["Alloy-2", "a", "alloy_2", "a" * 22])
def test_service_names(name: str) -> None:
    extra = replace(load_config().service("alloy"), name=name, kind="alloy")
    error = rejected(services=(*base_services(), extra))
    assert any(v.field == f"services[6]({name}).name" for v in error.violations), str(error)


def test_service_names_are_unique() -> None:
    error = rejected(services=(*base_services(), load_config().service("alloy")))
    assert_names(error, "services[6](alloy).name", "alloy")


def test_task_role_names_fit_iam() -> None:
    extra = ServiceConfig(name="a-very-long-service-n", image="grafana/agent", tag="v1", cpu=256, memory=512,
                          http_port=12345, readiness_path="/ready", stateful=False, kind="alloy")
    error = rejected("staging", project="p" * 32, services=(*base_services(), extra))
    assert_names(error, "services[6](a-very-long-service-n).name",
                 f"{'p' * 32}-staging-a-very-long-service-n-task")


def test_extra_services_must_be_alloy_collectors() -> None:
    grafana_copy = replace(load_config().service("grafana"), name="grafana-2", targets=())
    error = rejected(services=(*base_services(), grafana_copy))
    assert_names(error, "services[6](grafana-2).kind", "")


def test_core_service_cannot_change_kind() -> None:
    services = tuple(replace(s, kind="alloy") if s.name == "loki" else s for s in base_services())
    assert_names(rejected(services=services), "services[2](loki).kind", "alloy")


def test_extra_collector_listens_on_alloys_port() -> None:
    collector = replace(load_config().service("alloy"), name="alloy-2", kind="alloy", http_port=12346)
    assert_names(rejected(services=(*base_services(), collector)), "services[6](alloy-2).http_port", 12346)


def test_extra_alloy_collectors_are_accepted() -> None:
    collectors = tuple(replace(load_config().service("alloy"), name=f"alloy-{i}", kind="alloy") for i in (2, 3))
    cfg = load_config(services=base_services() + collectors)
    assert [s.service_kind for s in cfg.services[-2:]] == ["alloy", "alloy"]


@pytest.mark.parametrize("image", ["grafana/grafana:11.4.0", "Grafana/Grafana", "grafana/grafana@" + DIGEST,
                                   "grafana//grafana", ""])
def test_image_is_a_repository_without_tag(image: str) -> None:
    assert_names(rejected(services=with_service("grafana", image=image)), "services[0](grafana).image", image)


@pytest.mark.parametrize("image", ["registry.example.com:5000/team/grafana", "public.ecr.aws/grafana/grafana-oss",
                                   "grafana"])
def test_image_repositories_with_a_registry_or_none_are_accepted(image: str) -> None:
    assert accepted(services=with_service("grafana", image=image)).service("grafana").image == image


@pytest.mark.parametrize("tag", ["latest", "11.4 .0", "", "-11.4.0", "t" * 129, "11.4.0@sha256:abc"])
def test_images_are_pinned_to_a_tag(tag: str) -> None:
    assert_names(rejected(services=with_service("grafana", tag=tag)), "services[0](grafana).tag", tag)


@pytest.mark.parametrize("tag", ["11.4.0@" + DIGEST, "t" * 128, "v1.5.1_x"])
def test_tags_at_the_edge_and_digest_pins_are_accepted(tag: str) -> None:
    assert accepted(services=with_service("grafana", tag=tag)).service("grafana").tag == tag


@pytest.mark.parametrize(("cpu", "memory"), [(1024, 1024), (256, 4096), (8192, 8192), (8192, 18432),
                                             (8192, 65536), (16384, 16384), (16384, 126976), (3000, 6144)])
def test_fargate_task_sizes(cpu: int, memory: int) -> None:
    error = rejected(services=with_service("loki", cpu=cpu, memory=memory))
    assert_names(error, "services[2](loki).memory", (cpu, memory))


@pytest.mark.parametrize(("cpu", "memory"), [(256, 512), (4096, 30720), (8192, 16384), (8192, 61440),
                                             (16384, 32768), (16384, 122880)])
def test_fargate_sizes_up_to_16_vcpu_and_120_gib_are_accepted(cpu: int, memory: int) -> None:
    assert accepted(services=with_service("loki", cpu=cpu, memory=memory)).service("loki").memory == memory


def test_desired_count_zero_parks_a_service() -> None:
    assert accepted(services=with_service("loki", desired_count=0)).service("loki").desired_count == 0
    assert accepted(services=with_service("alloy", desired_count=3)).service("alloy").desired_count == 3


def test_desired_count_never_negative_and_stateful_at_most_one() -> None:
    assert_names(rejected(services=with_service("alloy", desired_count=-1)), "services[5](alloy).desired_count", -1)
    assert_names(rejected(services=with_service("loki", desired_count=2)), "services[2](loki).desired_count", 2)


@pytest.mark.parametrize("path", ["/api/health check", "api/health", "", "/ready?x=<1>"])
def test_readiness_path_is_a_url_path(path: str) -> None:
    assert_names(rejected(services=with_service("grafana", readiness_path=path)),
                 "services[0](grafana).readiness_path", path)


def test_readiness_path_with_every_allowed_character_is_accepted() -> None:
    accepted(services=with_service("alloy", readiness_path="/-/ready._~!$&'()*+,;=:@%20"))


@pytest.mark.parametrize("prefix", ["/tempo/", "tempo", "/tem po"])
def test_path_prefix_shape(prefix: str) -> None:
    assert_names(rejected(services=with_service("tempo", path_prefix=prefix)), "services[3](tempo).path_prefix",
                 prefix)


@pytest.mark.parametrize("user", ["0", "0:0", "root", "grafana", "472:", "-1", ""])
def test_service_users_are_numeric_and_not_root(user: str) -> None:
    error = rejected(services=with_service("tempo", user=user))
    assert_names(error, "services[3](tempo).user", user)
    assert "other than root" in str(error)


def proxy(**changes: object) -> PrefixProxy:
    return replace(PrefixProxy(prefix="/pyroscope", port=4040), **changes)


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"prefix": "/"}, "prefix", "/"), ({"prefix": "/pyroscope/"}, "prefix", "/pyroscope/"),
    ({"prefix": "pyroscope"}, "prefix", "pyroscope"), ({"port": 0}, "port", 0),
    ({"image": "nginx:1.27"}, "image", "nginx:1.27"), ({"tag": "latest"}, "tag", "latest"),
    ({"user": "0:0"}, "user", "0:0"),
])
def test_prefix_proxy_settings(changes: dict[str, object], field: str, value: object) -> None:
    error = rejected(services=with_service("pyroscope", prefix_proxy=proxy(**changes)))
    assert_names(error, f"services[4](pyroscope).prefix_proxy.{field}", value)


def test_an_ecs_service_registers_with_at_most_five_target_groups() -> None:
    extra = tuple(Target(name=f"grafana-{i}", port=3000, health_check_path="/api/health", paths=(f"/g{i}/*",),
                         priority=600 + i) for i in range(5))
    error = rejected(services=with_service("grafana", targets=load_config().service("grafana").targets + extra))
    assert_names(error, "services[0](grafana).targets", 6)


# --- targets and routes ----------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "index", "port", "field"), [
    ("grafana", 0, 3001, "services[0](grafana).targets[0](grafana).port"),
    ("mimir", 0, 9000, "services[1](mimir).targets[0](mimir).port"),
    ("pyroscope", 0, 4042, "services[4](pyroscope).targets[0](pyroscope).port"),
])
def test_target_port_is_one_the_task_listens_on(service: str, index: int, port: int, field: str) -> None:
    """Grafana's failed at apply, Mimir's crashed synth in components/alb.py: now both name the field."""
    error = rejected(services=with_target(service, index, port=port))
    assert_names(error, field, port)
    assert "listens only on" in str(error)


def test_target_health_check_port_out_of_range() -> None:
    error = rejected(services=with_target("tempo", 0, health_check_port=70000))
    assert_names(error, "services[3](tempo).targets[0](tempo-otlp).health_check_port", 70000)


def test_target_health_check_port_is_one_the_task_listens_on() -> None:
    error = rejected(services=with_target("tempo", 0, health_check_port=3201))
    assert_names(error, "services[3](tempo).targets[0](tempo-otlp).health_check_port", 3201)


def test_the_proxy_port_and_the_otlp_port_are_listened_on() -> None:
    cfg = accepted()
    assert cfg.service("pyroscope").targets[0].port == 4040 and cfg.service("tempo").targets[0].port == 4318


def test_a_target_on_a_grpc_port_is_refused() -> None:
    error = rejected(services=with_target("tempo", 0, port=4317))
    assert_names(error, "services[3](tempo).targets[0](tempo-otlp).port", 4317)
    assert "HTTP/1.1" in str(error)


def test_target_port_out_of_range() -> None:
    assert_names(rejected(services=with_target("loki", 0, port=0)), "services[2](loki).targets[0](loki).port", 0)


def test_target_names_are_unique_and_fit_elb_names() -> None:
    error = rejected(services=with_target("loki", 0, name="mimir"))
    assert_names(error, "services[2](loki).targets[0](mimir).name", "mimir")
    long_name = "t" * 23
    error = rejected(services=with_target("loki", 0, name=long_name))
    assert_names(error, f"services[2](loki).targets[0]({long_name}).name", f"lgtm-prod-{long_name}")
    accepted(services=with_target("loki", 0, name="t" * 22))


@pytest.mark.parametrize("path", ["ready", "/ready now"])
def test_target_health_check_path_is_a_url_path(path: str) -> None:
    assert_names(rejected(services=with_target("loki", 0, health_check_path=path)),
                 "services[2](loki).targets[0](loki).health_check_path", path)


@pytest.mark.parametrize("path", ["loki/*", "/loki/ *", "/" + "p" * 128, "/loki/<x>", "/loki/%20"])
def test_alb_path_patterns(path: str) -> None:
    error = rejected(services=with_target("loki", 0, paths=(path,)))
    assert_names(error, "services[2](loki).targets[0](loki).paths", path)


def test_alb_path_pattern_at_the_edge_is_accepted() -> None:
    accepted(services=with_target("loki", 0, paths=("/" + "p" * 127,)))
    accepted(services=with_target("loki", 0, paths=("/loki/a-z_.$~\"'@:+&?*",)))


def test_alb_rule_paths_once_each_and_at_most_five() -> None:
    error = rejected(services=with_target("loki", 0, paths=("/loki/*", "/loki/*")))
    assert_names(error, "services[2](loki).targets[0](loki).paths", "/loki/*")
    paths = tuple(f"/loki/{i}/*" for i in range(6))
    assert_names(rejected(services=with_target("loki", 0, paths=paths)),
                 "services[2](loki).targets[0](loki).paths", paths)


@pytest.mark.parametrize("priority", [None, 0, 50001])
def test_listener_rule_priority_range(priority: int | None) -> None:
    error = rejected(services=with_target("loki", 0, priority=priority))
    assert_names(error, "services[2](loki).targets[0](loki).priority", priority)


def test_listener_rule_priorities_are_unique_and_at_the_edge_accepted() -> None:
    error = rejected(services=with_target("loki", 0, priority=100))
    assert_names(error, "services[2](loki).targets[0](loki).priority", 100)
    assert "services[1](mimir).targets[0](mimir) has it" in str(error)
    accepted(services=with_target("mimir", 0, priority=1))
    accepted(services=with_target("pyroscope", 0, priority=50000))


def test_exactly_one_default_target() -> None:
    error = rejected(services=with_target("grafana", 0, paths=("/grafana/*",), priority=700))
    assert_names(error, "services[*].targets", 0)
    error = rejected(services=with_target("loki", 0, paths=(), priority=None))
    assert_names(error, "services[*].targets", 2)


def test_the_default_target_has_no_priority() -> None:
    assert_names(rejected(services=with_target("grafana", 0, priority=5)),
                 "services[0](grafana).targets[0](grafana).priority", 5)


def test_a_catch_all_path_hides_every_later_rule_and_the_default() -> None:
    """`/*` at priority 50 answers everything: Mimir's push, Loki, Tempo, Pyroscope and Grafana."""
    error = rejected(services=with_target("loki", 0, paths=("/*",), priority=50))
    fields = {v.field for v in error.violations if "never matched" in v.rule}
    assert {"services[1](mimir).targets[0](mimir).paths", "services[3](tempo).targets[1](tempo).paths"} <= fields
    assert_names(error, "services[2](loki).targets[0](loki).paths", "/*")
    assert "default target would get no request" in str(error)


def test_a_path_shadowed_by_an_earlier_wildcard_is_refused() -> None:
    error = rejected(services=with_target("loki", 0, paths=("/api/*",), priority=50))
    assert_names(error, "services[1](mimir).targets[0](mimir).paths", "/api/v1/push")
    assert "priority 50" in str(error)


def test_a_path_duplicated_across_rules_is_refused() -> None:
    error = rejected(services=with_target("loki", 0, paths=("/api/v1/push",)))
    assert_names(error, "services[2](loki).targets[0](loki).paths", "/api/v1/push")


def test_a_specific_path_before_a_broader_one_is_accepted() -> None:
    accepted(services=with_target("loki", 0, paths=("/api/*",), priority=150))


@pytest.mark.parametrize(("general", "specific", "covers"), [
    ("/*", "/api/v1/push", True), ("/api/*", "/api/v1/push", True), ("/api/*", "/api/*/x", True),
    ("/api/v1/push", "/api/*", False), ("/a?c", "/abc", True), ("/a?c", "/a*c", False),
    ("/loki/*", "/tempo/*", False), ("*", "/x", True), ("/a*", "/b*", False),
])
def test_glob_cover_relation(general: str, specific: str, covers: bool) -> None:
    from config.validation import glob_covers

    assert glob_covers(general, specific) is covers


def test_mimir_without_its_push_route_is_named_not_a_synth_crash() -> None:
    error = rejected(services=with_service("mimir", targets=()))
    assert_names(error, "services[1](mimir).targets", [])


def test_tempo_without_its_otlp_route_is_named() -> None:
    tempo = load_config().service("tempo")
    error = rejected(services=with_service("tempo", targets=tempo.targets[1:]))
    assert_names(error, "services[3](tempo).targets", ["tempo"])


# --- ALB, ECS, GitHub, hardening --------------------------------------------------------------------

CERTIFICATE = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
HTTPS_RULES = (rule(), rule(name="https", port=443))


@pytest.mark.parametrize("arn", ["arn:aws:acm:ap-northeast-2:123:certificate/x", "certificate/abc",
                                 CERTIFICATE + "\n"])
def test_certificate_arn_shape(arn: str) -> None:
    assert_names(rejected(alb=AlbConfig(certificate_arn=arn), alb_ingress_rules=HTTPS_RULES),
                 "alb.certificate_arn", arn)


def test_certificate_in_another_region_than_the_alb_is_refused() -> None:
    us_east = CERTIFICATE.replace("ap-northeast-2", "us-east-1")
    error = rejected(alb=AlbConfig(certificate_arn=us_east), alb_ingress_rules=HTTPS_RULES)
    assert_names(error, "alb.certificate_arn", us_east)
    assert "must be in aws_region" in str(error)
    accepted(alb=AlbConfig(certificate_arn=CERTIFICATE), alb_ingress_rules=HTTPS_RULES)


def test_https_needs_an_ingress_rule_on_its_port() -> None:
    assert_names(rejected(alb=AlbConfig(certificate_arn=CERTIFICATE)), "alb_ingress_rules", [80])


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-TLS13-1-2-2099-01", "TLS13", "ELBSecurityPolicy-2015-05"])
def test_ssl_policy_is_a_predefined_alb_policy(policy: str) -> None:
    assert_names(rejected(alb=AlbConfig(ssl_policy=policy)), "alb.ssl_policy", policy)


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-2016-08",
                                    "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07"])
def test_current_alb_policies_are_accepted(policy: str) -> None:
    assert accepted(alb=AlbConfig(ssl_policy=policy)).alb.ssl_policy == policy


def test_alb_access_logs_bucket_is_a_bucket_name() -> None:
    assert_names(rejected(alb=AlbConfig(access_logs_bucket="Bad_Bucket")), "alb.access_logs_bucket", "Bad_Bucket")


@pytest.mark.parametrize("seconds", [0, 4001])
def test_alb_idle_timeout_range(seconds: int) -> None:
    assert_names(rejected(alb=AlbConfig(idle_timeout=seconds)), "alb.idle_timeout", seconds)
    accepted(alb=AlbConfig(idle_timeout=1))
    accepted(alb=AlbConfig(idle_timeout=4000))


@pytest.mark.parametrize("mode", ["off", "Strictest", ""])
def test_alb_desync_mitigation_mode_is_one_aws_accepts(mode: str) -> None:
    assert_names(rejected(alb=AlbConfig(desync_mitigation_mode=mode)), "alb.desync_mitigation_mode", mode)


@pytest.mark.parametrize("seconds", [-1, 2147483648])
def test_ecs_health_check_grace_period_range(seconds: int) -> None:
    error = rejected(ecs=EcsConfig(health_check_grace_period_seconds=seconds))
    assert_names(error, "ecs.health_check_grace_period_seconds", seconds)
    accepted(ecs=EcsConfig(health_check_grace_period_seconds=0))


def test_ecs_log_retention_is_a_cloudwatch_value() -> None:
    assert_names(rejected(ecs=EcsConfig(log_retention_days=2)), "ecs.log_retention_days", 2)
    accepted(ecs=EcsConfig(log_retention_days=3653))


@pytest.mark.parametrize("namespace", ["lgtm", "lgtm.local.", "LGTM.local", "lgtm..local", "-lgtm.local"])
def test_ecs_namespace_is_a_dns_name(namespace: str) -> None:
    assert_names(rejected(ecs=EcsConfig(namespace=namespace)), "ecs.namespace", namespace)
    accepted(ecs=EcsConfig(namespace="a.b"))


@pytest.mark.parametrize("image", ["public.ecr.aws/docker/library/busybox", "busybox:latest", "busybox:",
                                   "localhost:5000/busybox", "busybox@sha256:abc", "busybox:1.37 musl"])
def test_init_image_is_pinned(image: str) -> None:
    assert_names(rejected(ecs=EcsConfig(init_image=image)), "ecs.init_image", image)


@pytest.mark.parametrize("image", ["localhost:5000/busybox:1.37.0-musl", "busybox@" + DIGEST,
                                   "public.ecr.aws/docker/library/busybox:1.37.0-musl@" + DIGEST])
def test_init_image_pinned_by_tag_or_digest_is_accepted(image: str) -> None:
    assert accepted(ecs=EcsConfig(init_image=image)).ecs.init_image == image


@pytest.mark.parametrize("user", ["admin user", "", "a" * 101, "admin'"])
def test_grafana_admin_user(user: str) -> None:
    assert_names(rejected(ecs=EcsConfig(grafana_admin_user=user)), "ecs.grafana_admin_user", user)
    accepted(ecs=EcsConfig(grafana_admin_user="ops.admin+1@example.com"))


@pytest.mark.parametrize(("field", "value"), [
    ("repository", "lgtm-ecs"), ("repository", "jsj/lgtm ecs"), ("repository", "jsj/.."),
    ("repository", "jsj/lgtm-ecs\n"), ("deploy_policy_name", "has space"), ("deploy_policy_name", "p" * 127),
    ("deploy_role_name", "r" * 65), ("existing_role_name", "bad/role"),
])
def test_github_deploy_access_settings(field: str, value: str) -> None:
    """A repository with a trailing newline gave a trust policy nobody can assume."""
    assert_names(rejected(github=replace(GitHubConfig(), **{field: value})), f"github.{field}", value)


def test_github_names_at_their_longest_are_accepted() -> None:
    accepted(github=replace(GitHubConfig(), deploy_policy_name="p" * 126, deploy_role_name="r" * 64,
                            repository="o" * 39 + "/" + "r" * 100))


# Opt-in hardening (each removes a check .checkov.yaml skips).
GOOD_KMS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_REGION_KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_ALIAS = "arn:aws:kms:ap-northeast-2:123456789012:alias/lgtm"


def kms_overrides(field: str, arn: str) -> dict[str, object]:
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
    error = rejected(**kms_overrides(field, arn))
    assert_names(error, field, arn)
    assert rule in str(error)
    load_config(**kms_overrides(field, GOOD_KMS_KEY))  # the right shape is accepted


def test_web_acl_is_a_regional_wafv2_acl_in_the_region() -> None:
    cloudfront_acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/lgtm/a1b2c3d4"
    assert_names(rejected(alb=AlbConfig(web_acl_arn=cloudfront_acl)), "alb.web_acl_arn", cloudfront_acl)
    other_region = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/lgtm/a1b2c3d4"
    error = rejected(alb=AlbConfig(web_acl_arn=other_region))
    assert_names(error, "alb.web_acl_arn", other_region)
    assert "must be in aws_region" in str(error)


@pytest.mark.parametrize("bucket", ["Bad_Bucket", "jsj-lgtm-terraform-state-prod", "jsj-lgtm-loki-prod"])
def test_access_log_bucket_is_a_bucket_name_and_not_a_logged_bucket(bucket: str) -> None:
    assert_names(rejected(storage=StorageConfig(access_log_bucket=bucket)), "storage.access_log_bucket", bucket)


# --- types at the boundary ------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "field", "value"), [
    ({"ecs": EcsConfig(fargate_spot="false")}, "ecs.fargate_spot", "false"),
    ({"network": NetworkConfig(nat_gateway_per_az="false")}, "network.nat_gateway_per_az", "false"),
    ({"alb": AlbConfig(idle_timeout="60")}, "alb.idle_timeout", "60"),
    ({"tags": None}, "tags", None),
    ({"tags": {"Team": 7}}, "tags['Team']", 7),
    ({"tags": {7: "x"}}, "tags[7]", 7),
    ({"ports": Ports(grpc=9095.0)}, "ports.grpc", 9095.0),
    ({"ecs": EcsConfig(container_insights=1)}, "ecs.container_insights", 1),
    ({"network": NetworkConfig(availability_zones=["ap-northeast-2a", "ap-northeast-2c"])},
     "network.availability_zones", ["ap-northeast-2a", "ap-northeast-2c"]),
    ({"services": (*load_config().services[:5], "alloy")}, "services[5]", "alloy"),
    ({"state": None}, "state", None),
    ({"network": NetworkConfig(existing_vpc="vpc-0123abcd")}, "network.existing_vpc", "vpc-0123abcd"),
    ({"tenant_id": 7}, "tenant_id", 7),
])
def test_a_wrong_type_is_named_not_a_crash(overrides: dict[str, object], field: str, value: object) -> None:
    """`"false"` counted as true; a str timeout, None tags or an int tag crashed with a raw TypeError or in jsii."""
    error = rejected(**overrides)
    assert_names(error, field, value)
    assert "must be" in str(error)


def test_a_wrong_type_stops_before_the_value_rules_misread_it() -> None:
    error = rejected(alb=AlbConfig(idle_timeout="60"), tenant_id="")
    assert [v.field for v in error.violations] == ["alb.idle_timeout"]


def test_stray_whitespace_is_reported_once_per_field() -> None:
    error = rejected(aws_region="ap-northeast-2 ",
                     network=network(availability_zones=("ap-northeast-2a", "ap-northeast-2c")))
    assert [v.field for v in error.violations].count("aws_region") == 1


# --- main.py: one message, exit 2 --------------------------------------------------------------------


def test_main_stops_synth_with_the_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import main

    monkeypatch.setenv("LGTM_ENVIRONMENT", "Bad_Env")
    monkeypatch.setattr(main, "App", lambda: __import__("cdktf").Testing.app())
    assert main.main() == 2
    err = capsys.readouterr().err
    assert "synth stopped" in err and "$LGTM_ENVIRONMENT" in err and "'Bad_Env'" in err


def test_main_turns_any_config_failure_into_one_line(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import config.common
    import main

    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("NetworkConfig.__init__() got an unexpected keyword argument 'nat_per_az'")

    monkeypatch.delenv("LGTM_ENVIRONMENT", raising=False)
    monkeypatch.setattr(main, "App", lambda: __import__("cdktf").Testing.app())
    monkeypatch.setattr(config.common, "load_config", broken)
    assert main.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("synth stopped: the config could not be loaded: TypeError:") and "nat_per_az" in err
    assert "Traceback" not in err


# --- every field, generically ----------------------------------------------------------------------

from tests.config_fields import (  # noqa: E402
    FULL_OVERRIDES,
    int_and_bool_cases,
    string_cases,
    uncovered_fields,
    with_leaf,
)


def test_the_generic_cases_reach_every_field_of_every_settings_class() -> None:
    """A new field needs a value in tests/config_fields.py FULL_OVERRIDES if it is optional."""
    assert uncovered_fields() == []


@pytest.mark.parametrize("case", string_cases(), ids=lambda case: case.id)
def test_every_string_field_refuses_whitespace_and_newlines(case) -> None:
    error = rejected(**with_leaf(case))
    assert any(v.field == case.field for v in error.violations), (case.field, str(error))
    assert repr(case.value) in str(error)


@pytest.mark.parametrize("case", int_and_bool_cases(), ids=lambda case: case.id)
def test_every_bool_and_int_field_refuses_a_string(case) -> None:
    error = rejected(**with_leaf(case))
    assert [v.field for v in error.violations] == [case.field], str(error)


def test_the_full_config_of_the_generic_cases_is_valid() -> None:
    assert accepted(**FULL_OVERRIDES).github.existing_role_name is not None


def test_readme_lists_the_known_environments_and_how_to_add_one() -> None:
    from pathlib import Path

    from config.names import ENVIRONMENTS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{environment}`" in section for environment in ENVIRONMENTS), ENVIRONMENTS
    assert "To add an environment" in section and "ENVIRONMENTS" in section


# --- retention, shutdown budget, collector buffers, legacy read tenants ---------------------

def test_retention_below_one_day_is_refused() -> None:
    from config.common import RetentionConfig

    assert_names(rejected(retention=RetentionConfig(profiles_days=0)), "retention.profiles_days", 0)
    assert accepted(retention=RetentionConfig(profiles_days=1)).retention.profiles_days == 1


def test_collector_buffers_are_positive() -> None:
    from config.common import CollectorBufferConfig

    assert_names(rejected(collector_buffers=CollectorBufferConfig(traces_queue_batches=0)),
                 "collector_buffers.traces_queue_batches", 0)
    assert accepted(collector_buffers=CollectorBufferConfig(traces_queue_batches=1))


def test_stop_timeout_is_within_fargates_limit() -> None:
    assert_names(rejected(ecs=EcsConfig(stop_timeout_seconds=121)), "ecs.stop_timeout_seconds", 121)
    assert accepted(ecs=EcsConfig(stop_timeout_seconds=120)).ecs.stop_timeout_seconds == 120


def test_graceful_shutdown_leaves_the_flush_budget() -> None:
    assert_names(rejected(ecs=EcsConfig(graceful_shutdown_seconds=91)), "ecs.graceful_shutdown_seconds", 91)
    assert accepted(ecs=EcsConfig(graceful_shutdown_seconds=90)).flush_budget_seconds == 30


@pytest.mark.parametrize(("tenants", "field", "value"), [
    (("bad tenant",), "legacy_read_tenants.logs[0]", "bad tenant"),
    (("jsj-lgtm-header",), "legacy_read_tenants.logs[0]", "jsj-lgtm-header"),
    (("old", "old"), "legacy_read_tenants.logs[1]", "old"),
])
def test_legacy_read_tenants_follow_the_tenant_rules(tenants: tuple[str, ...], field: str, value: str) -> None:
    from config.common import LegacyReadTenants

    assert_names(rejected(legacy_read_tenants=LegacyReadTenants(logs=tenants)), field, value)
    assert accepted(legacy_read_tenants=LegacyReadTenants(logs=("old", "older"))).read_tenants("loki") == \
        "jsj-lgtm-header|old|older"
