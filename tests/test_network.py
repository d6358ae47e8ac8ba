"""10-network: the new-VPC path (default), per-AZ NAT, and the existing-VPC path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from components.network import NetworkStack
from config.common import ExistingVpc, NetworkConfig
from tests.conftest import SynthesizedApp, only, resources
from tests.helpers import json_value, synth_stack
from tests.references import resolve

STACK = "10-network"
EXISTING = ExistingVpc(
    vpc_id="vpc-0123456789abcdef0",
    public_subnet_ids=("subnet-0aaa0000000000001", "subnet-0aaa0000000000002"),
    private_subnet_ids=("subnet-0bbb0000000000001", "subnet-0bbb0000000000002"),
    private_route_table_ids=("rtb-0ccc0000000000001", "rtb-0ccc0000000000002"),
)


def ref(resource_type: str, name: str, attribute: str = "id") -> str:
    return f"${{{resource_type}.{name}.{attribute}}}"


@pytest.fixture(scope="module")
def network(prod: SynthesizedApp) -> dict[str, Any]:
    return prod.testing_synth(STACK)


@pytest.fixture(scope="module")
def existing(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", network=NetworkConfig(existing_vpc=EXISTING))


def subnets_by_tier(stack: dict[str, Any], tier: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in resources(stack, "aws_subnet").items() if s["tags"]["Tier"] == tier}


def test_new_vpc_uses_the_config_cidr_with_dns_for_cloud_map(network: dict[str, Any], prod: SynthesizedApp) -> None:
    vpc = only(network, "aws_vpc")
    assert vpc["cidr_block"] == prod.config.network.vpc_cidr == "10.20.0.0/16"
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True


def test_one_public_and_one_private_subnet_per_availability_zone(network: dict[str, Any],
                                                                 prod: SynthesizedApp) -> None:
    cfg = prod.config.network
    for tier, cidrs in (("public", cfg.public_subnet_cidrs), ("private", cfg.private_subnet_cidrs)):
        subnets = subnets_by_tier(network, tier)
        assert sorted((s["availability_zone"], s["cidr_block"]) for s in subnets.values()) == \
            sorted(zip(cfg.availability_zones, cidrs, strict=True))
        assert all(s["vpc_id"] == ref("aws_vpc", "vpc") for s in subnets.values())
        # Nothing gets a public IP just by being launched in a subnet.
        assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    assert len(resources(network, "aws_subnet")) == 4


def test_public_subnets_route_to_the_internet_gateway(network: dict[str, Any]) -> None:
    igw = only(network, "aws_internet_gateway")
    assert igw["vpc_id"] == ref("aws_vpc", "vpc")
    routes = resources(network, "aws_route")
    public_route = routes["public-default-route"]
    assert public_route == {**public_route, "destination_cidr_block": "0.0.0.0/0",
                            "gateway_id": ref("aws_internet_gateway", "internet-gateway"),
                            "route_table_id": ref("aws_route_table", "public-route-table")}
    associations = resources(network, "aws_route_table_association")
    public_ids = {ref("aws_subnet", name) for name in subnets_by_tier(network, "public")}
    assert {a["subnet_id"] for a in associations.values()
            if a["route_table_id"] == ref("aws_route_table", "public-route-table")} == public_ids


def test_default_is_one_shared_nat_gateway_for_both_private_route_tables(network: dict[str, Any]) -> None:
    nat = resources(network, "aws_nat_gateway")
    assert list(nat) == ["nat-gateway-0"]
    assert nat["nat-gateway-0"]["subnet_id"] == ref("aws_subnet", "public-subnet-0")
    assert nat["nat-gateway-0"]["allocation_id"] == ref("aws_eip", "nat-eip-0")
    assert len(resources(network, "aws_eip")) == 1
    private_routes = [r for name, r in resources(network, "aws_route").items() if name.startswith("private")]
    assert len(private_routes) == 2
    assert {r["nat_gateway_id"] for r in private_routes} == {ref("aws_nat_gateway", "nat-gateway-0")}
    assert all(r["destination_cidr_block"] == "0.0.0.0/0" for r in private_routes)


def test_each_private_subnet_uses_its_own_route_table(network: dict[str, Any]) -> None:
    associations = resources(network, "aws_route_table_association")
    for index in range(2):
        association = associations[f"private-subnet-{index}-route-table"]
        assert association["subnet_id"] == ref("aws_subnet", f"private-subnet-{index}")
        assert association["route_table_id"] == ref("aws_route_table", f"private-route-table-{index}")


def test_nat_gateway_per_az_gives_each_private_route_table_its_own_nat() -> None:
    network = synth_stack(STACK, network=NetworkConfig(nat_gateway_per_az=True))
    nat = resources(network, "aws_nat_gateway")
    assert len(nat) == 2 and len(resources(network, "aws_eip")) == 2
    for index in range(2):
        assert nat[f"nat-gateway-{index}"]["subnet_id"] == ref("aws_subnet", f"public-subnet-{index}")
        route = resources(network, "aws_route")[f"private-default-route-{index}"]
        assert route["nat_gateway_id"] == ref("aws_nat_gateway", f"nat-gateway-{index}")
        assert route["route_table_id"] == ref("aws_route_table", f"private-route-table-{index}")


def test_s3_gateway_endpoint_sits_on_the_private_route_tables_only(network: dict[str, Any]) -> None:
    endpoint = only(network, "aws_vpc_endpoint")
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["service_name"] == "com.amazonaws.ap-northeast-2.s3"
    assert sorted(endpoint["route_table_ids"]) == [ref("aws_route_table", f"private-route-table-{i}")
                                                   for i in range(2)]


def test_default_security_group_is_emptied(network: dict[str, Any]) -> None:
    default = only(network, "aws_default_security_group")
    assert default["vpc_id"] == ref("aws_vpc", "vpc")
    assert not default.get("ingress") and not default.get("egress")


def test_outputs_and_interface_for_later_stacks(network: dict[str, Any], prod: SynthesizedApp) -> None:
    outputs = network["output"]
    assert outputs["vpc_id"]["value"] == ref("aws_vpc", "vpc")
    assert outputs["vpc_cidr"]["value"] == ref("aws_vpc", "vpc", "cidr_block")
    assert outputs["public_subnet_ids"]["value"] == [ref("aws_subnet", f"public-subnet-{i}") for i in range(2)]
    assert outputs["private_subnet_ids"]["value"] == [ref("aws_subnet", f"private-subnet-{i}") for i in range(2)]
    stack = prod.stacks[STACK]
    assert isinstance(stack, NetworkStack)
    assert isinstance(stack.vpc_id, str) and isinstance(stack.vpc_cidr, str)
    assert len(stack.public_subnet_ids) == len(stack.private_subnet_ids) == 2


def test_existing_vpc_is_looked_up_and_nothing_but_the_endpoint_is_created(existing: SynthesizedApp) -> None:
    network = existing.testing_synth(STACK)
    assert set(network["resource"]) == {"aws_vpc_endpoint"}
    data = network["data"]
    assert [v["id"] for v in data["aws_vpc"].values()] == [EXISTING.vpc_id]
    subnets = data["aws_subnet"]
    assert sorted(s["id"] for s in subnets.values()) == sorted(EXISTING.public_subnet_ids
                                                               + EXISTING.private_subnet_ids)
    # Subnets must belong to the given VPC, or the lookup fails at plan.
    assert {s["vpc_id"] for s in subnets.values()} == {"${data.aws_vpc.vpc.id}"}
    endpoint = only(network, "aws_vpc_endpoint")
    assert endpoint["vpc_id"] == "${data.aws_vpc.vpc.id}"
    assert endpoint["route_table_ids"] == list(EXISTING.private_route_table_ids)
    outputs = network["output"]
    assert outputs["vpc_cidr"]["value"] == "${data.aws_vpc.vpc.cidr_block}"
    assert outputs["private_subnet_ids"]["value"] == [f"${{data.aws_subnet.private-subnet-{i}.id}}"
                                                      for i in range(2)]


def test_existing_vpc_subnets_reach_the_efs_mount_targets(existing: SynthesizedApp) -> None:
    mount_targets = resources(existing.stack_json("20-storage"), "aws_efs_mount_target")
    resolved = sorted(resolve(m["subnet_id"], existing.stack_json) for m in mount_targets.values())
    assert resolved == [f"${{data.aws_subnet.private-subnet-{i}.id}}" for i in range(2)]


def test_existing_vpc_without_endpoint_creates_nothing() -> None:
    network = synth_stack(STACK, network=NetworkConfig(existing_vpc=replace(EXISTING, private_route_table_ids=()),
                                                       s3_gateway_endpoint=False))
    assert "resource" not in network or not network["resource"]
    assert len(network["data"]["aws_subnet"]) == 4


def test_new_vpc_flow_logs_go_to_their_own_log_group(network: dict[str, Any], prod: SynthesizedApp) -> None:
    flow_log = only(network, "aws_flow_log")
    assert flow_log["vpc_id"] == ref("aws_vpc", "vpc") and flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"] == ref("aws_cloudwatch_log_group", "flow-log-group", "arn")
    assert flow_log["iam_role_arn"] == ref("aws_iam_role", "flow-log-role", "arn")
    group = only(network, "aws_cloudwatch_log_group")
    assert group["name"] == "/vpc/lgtm-ecs-prod/flow-logs"
    assert group["retention_in_days"] == prod.config.network.flow_log_retention_days == 90
    trust = json_value(only(network, "aws_iam_role")["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.account.account_id}"}}
    (grant,) = json_value(only(network, "aws_iam_role_policy")["policy"])["Statement"]
    group_arn = ref("aws_cloudwatch_log_group", "flow-log-group", "arn")
    assert grant["Resource"] == [group_arn, f"{group_arn}:log-stream:*"]


def test_flow_logs_can_be_switched_off() -> None:
    network = synth_stack(STACK, network=NetworkConfig(flow_log_retention_days=None))
    assert not resources(network, "aws_flow_log") and not resources(network, "aws_iam_role")


@pytest.mark.slow
def test_existing_vpc_stack_passes_terraform_validate(existing: SynthesizedApp,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """The data-source path is not the one test_terraform_validate.py synthesizes: validate it too."""
    import shutil

    from scripts.terraform_cli import run_terraform, terraform_env, write_cli_config

    work = tmp_path_factory.mktemp("existing-vpc-validate")
    env = terraform_env(write_cli_config(work), {"TF_PLUGIN_CACHE_DIR": str(work)})
    stack_dir = work / STACK
    shutil.copytree(existing.stack_dir(STACK), stack_dir)
    run_terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color", env=env)
    report = json.loads(run_terraform(stack_dir, "validate", "-json", "-no-color", env=env).stdout)
    assert report["valid"] is True and report["diagnostics"] == [], report
