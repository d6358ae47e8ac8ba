"""30-security-groups: every rule, its peer and its port come from config; no public OTLP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.registry import STACK_IDS
from config.common import AlbConfig, IngressRule, Ports, load_config
from tests.conftest import SynthesizedApp, resources
from tests.helpers import synth_stack
from tests.references import referenced_resource
from tests.security_checks import inbound_rules, open_to_internet, port_range

STACK = "30-security-groups"
INGRESS = "aws_vpc_security_group_ingress_rule"
EGRESS = "aws_vpc_security_group_egress_rule"
ALB = "${aws_security_group.alb-security-group.id}"
ECS = "${aws_security_group.ecs-security-group.id}"
# The list of what the ALB targets: Grafana, Mimir, Loki, Tempo (+ OTLP HTTP), Pyroscope.
ALB_TARGET_PORTS = {3000, 8080, 3100, 3200, 4318, 4040}
# What AWS accepts in a security group rule description.
DESCRIPTION = re.compile(r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{1,255}")


@pytest.fixture(scope="module")
def groups(prod: SynthesizedApp) -> dict[str, Any]:
    return prod.testing_synth(STACK)


def rules(stack: dict[str, Any], kind: str, group: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack, kind).values() if r["security_group_id"] == group]


def ports(rule_list: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(r["ip_protocol"], r["from_port"]) for r in rule_list}


def test_alb_ingress_is_exactly_the_configured_rules(groups: dict[str, Any], prod: SynthesizedApp) -> None:
    alb_in = rules(groups, INGRESS, ALB)
    expected = {(rule.port, cidr) for rule in prod.config.alb_ingress_rules for cidr in rule.cidr_blocks}
    assert {(r["from_port"], r["cidr_ipv4"]) for r in alb_in} == expected == {(80, "0.0.0.0/0")}
    assert all(r["from_port"] == r["to_port"] and r["ip_protocol"] == "tcp" for r in alb_in)
    assert all("referenced_security_group_id" not in r for r in alb_in)


def test_https_config_opens_443_on_the_alb_only_from_its_cidrs() -> None:
    https = IngressRule(name="https", port=443, cidr_blocks=("203.0.113.0/24",), description="HTTPS from the office")
    http = load_config().alb_ingress_rules[0]
    groups = synth_stack(STACK, alb_ingress_rules=(http, https),
                         alb=AlbConfig(certificate_arn="arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"))
    alb_in = rules(groups, INGRESS, ALB)
    assert {(r["from_port"], r["cidr_ipv4"], r["description"]) for r in alb_in} == {
        (80, "0.0.0.0/0", http.description), (443, "203.0.113.0/24", "HTTPS from the office")}


def test_alb_egress_goes_only_to_the_ecs_group_on_target_and_health_check_ports(
        groups: dict[str, Any], prod: SynthesizedApp) -> None:
    alb_out = rules(groups, EGRESS, ALB)
    from_config = {t.port for _, t in prod.config.routed_targets} | {
        t.health_check_port for _, t in prod.config.routed_targets if t.health_check_port}
    assert ports(alb_out) == {("tcp", p) for p in from_config} == {("tcp", p) for p in ALB_TARGET_PORTS}
    assert {r["referenced_security_group_id"] for r in alb_out} == {ECS}
    assert not any("cidr_ipv4" in r or "cidr_ipv6" in r for r in alb_out)


def test_ecs_ingress_from_the_alb_is_exactly_the_target_ports(groups: dict[str, Any]) -> None:
    from_alb = [r for r in rules(groups, INGRESS, ECS) if r.get("referenced_security_group_id") == ALB]
    assert ports(from_alb) == {("tcp", p) for p in ALB_TARGET_PORTS}


def test_service_to_service_ports_inside_the_ecs_group(groups: dict[str, Any], prod: SynthesizedApp) -> None:
    cfg = prod.config
    expected = {("tcp", cfg.ports.grpc), ("tcp", cfg.ports.memberlist), ("udp", cfg.ports.memberlist),
                ("tcp", cfg.ports.otlp_grpc), ("tcp", cfg.ports.otlp_http)}
    expected |= {("tcp", svc.http_port) for svc in cfg.services}
    assert ("tcp", 12345) in expected and ("tcp", 9095) in expected and ("udp", 7946) in expected
    intra_in = [r for r in rules(groups, INGRESS, ECS) if r.get("referenced_security_group_id") == ECS]
    intra_out = [r for r in rules(groups, EGRESS, ECS) if r.get("referenced_security_group_id") == ECS]
    assert ports(intra_in) == expected
    assert ports(intra_out) == expected
    # Nothing reaches the tasks but the ALB, the tasks themselves, and OTLP from inside the VPC.
    assert {r.get("referenced_security_group_id") for r in rules(groups, INGRESS, ECS)} == {ALB, ECS, None}


def test_applications_in_the_vpc_reach_alloy_otlp_and_nothing_else(groups: dict[str, Any],
                                                                  prod: SynthesizedApp) -> None:
    cfg = prod.config
    by_cidr = [r for r in rules(groups, INGRESS, ECS) if "referenced_security_group_id" not in r]
    assert ports(by_cidr) == {("tcp", cfg.ports.otlp_grpc), ("tcp", cfg.ports.otlp_http)}
    vpc_cidr = {r["cidr_ipv4"] for r in by_cidr}
    assert len(vpc_cidr) == 1 and "0.0.0.0/0" not in vpc_cidr
    assert all("Alloy" in r["description"] for r in by_cidr)


def test_ecs_egress_is_https_anywhere_nfs_to_efs_and_intra_group(groups: dict[str, Any],
                                                                 prod: SynthesizedApp) -> None:
    ecs_out = rules(groups, EGRESS, ECS)
    public = [r for r in ecs_out if "cidr_ipv4" in r or "cidr_ipv6" in r]
    assert [(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in public] == [(443, 443, "0.0.0.0/0")]
    others = [r for r in ecs_out if r.get("referenced_security_group_id") not in (ECS, None)]
    assert [(r["from_port"], r["to_port"]) for r in others] == [(2049, 2049)]
    _, efs_group, attribute = referenced_resource(others[0]["referenced_security_group_id"],
                                                  prod.stack_json, "20-storage")
    assert (efs_group["name"], attribute) == ("lgtm-ecs-prod-efs", "id")


def test_efs_group_admits_nfs_from_the_ecs_group_only(groups: dict[str, Any], prod: SynthesizedApp) -> None:
    efs_rules = [r for r in resources(groups, INGRESS).values() if r["security_group_id"] not in (ALB, ECS)]
    assert len(efs_rules) == 1
    (rule,) = efs_rules
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 2049, 2049)
    assert rule["referenced_security_group_id"] == ECS
    _, efs_group, _ = referenced_resource(rule["security_group_id"], prod.stack_json, "20-storage")
    assert efs_group["name"] == "lgtm-ecs-prod-efs"
    # The group itself (20-storage) carries no inline rules that could widen this.
    assert "ingress" not in efs_group and "egress" not in efs_group


def test_every_rule_is_standalone_and_says_what_uses_it(groups: dict[str, Any]) -> None:
    for group in resources(groups, "aws_security_group").values():
        assert "ingress" not in group and "egress" not in group, group["name"]
    every_rule = {**resources(groups, INGRESS), **resources(groups, EGRESS)}
    assert len(every_rule) >= 30
    for name, rule in every_rule.items():
        assert DESCRIPTION.fullmatch(rule.get("description", "")), (name, rule.get("description"))
    assert not resources(groups, "aws_security_group_rule")


def public_inbound_problems(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """Inbound rules open to 0.0.0.0/0 or ::/0 on anything but 80/443, and ALB rules on 4317/4318.

    Rule shapes, explicit nulls and protocol -1 are read by tests/security_checks.py (shared
    with tests/test_security_blind_spots.py).
    """
    problems = []
    for rule in inbound_rules(stack):
        low, high = port_range(rule)
        public_and_not_web = open_to_internet(rule) and not (low == high and low in (80, 443))
        otlp_on_alb = rule.get("security_group_id") == ALB and {4317, 4318} & set(range(low, high + 1))
        if public_and_not_web or otlp_on_alb:
            problems.append(rule)
    return problems


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_no_public_otlp_and_only_80_443_open_to_the_internet(prod: SynthesizedApp, stack_id: str) -> None:
    """Regression: the seed removed alb_ingress_rules.tempo_otlp and the public OTLP ports."""
    assert public_inbound_problems(prod.stack_json(stack_id)) == []


def test_the_regression_check_catches_public_otlp_in_every_rule_shape() -> None:
    otlp_v4 = {"security_group_id": ALB, "cidr_ipv4": "10.0.0.0/8", "ip_protocol": "tcp",
               "from_port": 4318, "to_port": 4318}
    any_v6 = {"security_group_id": ECS, "cidr_ipv6": "::/0", "ip_protocol": "tcp", "from_port": 22, "to_port": 22}
    legacy = {"type": "ingress", "cidr_blocks": ["0.0.0.0/0"], "from_port": 4317, "to_port": 4317}
    inline = {"from_port": 0, "to_port": 65535, "cidr_blocks": ["0.0.0.0/0"]}
    stack = {"resource": {INGRESS: {"a": otlp_v4, "b": any_v6}, "aws_security_group_rule": {"c": legacy},
                          "aws_security_group": {"d": {"ingress": [inline]}}}}
    assert public_inbound_problems(stack) == [otlp_v4, any_v6, legacy, inline]


def test_config_refuses_a_public_otlp_ingress_rule() -> None:
    from config.validation import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(alb_ingress_rules=(IngressRule(name="tempo_otlp", port=4318, cidr_blocks=("0.0.0.0/0",),
                                                   description="OTLP"),))
    assert "alb_ingress_rules[0].port" in str(caught.value)


def test_the_tasks_reach_aws_apis_on_443_whatever_port_the_alb_serves_https_on() -> None:
    """Before: the tasks' only internet egress followed `ports.https`, the ALB's listener port."""
    from components.security_groups import AWS_API_PORT

    https = IngressRule(name="https", port=8443, cidr_blocks=("0.0.0.0/0",), description="HTTPS on 8443")
    groups = synth_stack(STACK, ports=Ports(https=8443), alb_ingress_rules=(load_config().alb_ingress_rules[0], https),
                         alb=AlbConfig(certificate_arn="arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"))
    internet = [r for r in rules(groups, EGRESS, ECS) if r.get("cidr_ipv4") == "0.0.0.0/0"]
    assert [(r["from_port"], r["to_port"]) for r in internet] == [(AWS_API_PORT, AWS_API_PORT)] == [(443, 443)]
    assert 8443 in {r["from_port"] for r in rules(groups, INGRESS, ALB)}
