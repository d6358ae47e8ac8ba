"""50-alb: one ALB, target groups and path rules from config, port 80 (and 443 with HTTPS)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from cdktf import App

from components.registry import build_stacks
from config.common import Target, load_config
from tests.conftest import SynthesizedApp, only, resources
from tests.helpers import synth_json
from tests.variants import ACCESS_LOGS_BUCKET, CERTIFICATE_ARN, VARIANT

STACK = "50-alb"
_TARGET_GROUP_REF = re.compile(r"^\$\{aws_lb_target_group\.([\w-]+)\.arn\}$")
_LISTENER_REF = re.compile(r"^\$\{aws_lb_listener\.([\w-]+)\.arn\}$")


@pytest.fixture(scope="module")
def variant(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", **VARIANT)


def target_group_named(stack: dict[str, Any], reference: str) -> dict[str, Any]:
    match = _TARGET_GROUP_REF.match(reference)
    assert match, reference
    return resources(stack, "aws_lb_target_group")[match.group(1)]


def listener_of(stack: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    match = _LISTENER_REF.match(rule["listener_arn"])
    assert match, rule["listener_arn"]
    return resources(stack, "aws_lb_listener")[match.group(1)]


def test_one_internet_facing_alb_in_the_public_subnets(prod: SynthesizedApp) -> None:
    alb = only(prod.testing_synth(STACK), "aws_lb")
    assert alb["name"] == "lgtm-prod-alb"
    assert alb["internal"] is False
    assert alb["load_balancer_type"] == "application"
    assert len(alb["subnets"]) == 2
    for subnet in alb["subnets"]:
        assert "10-network" in subnet and "public-subnet" in subnet, subnet
    (group,) = alb["security_groups"]
    assert "30-security-groups" in group and "alb-security-group" in group


def test_alb_hardening_defaults(prod: SynthesizedApp) -> None:
    alb = only(prod.testing_synth(STACK), "aws_lb")
    assert alb["drop_invalid_header_fields"] is True
    assert alb["desync_mitigation_mode"] == "strictest"
    assert alb["enable_deletion_protection"] is False
    assert alb["idle_timeout"] == 60
    assert "access_logs" not in alb


def test_alb_options_come_from_config(variant: SynthesizedApp) -> None:
    alb = only(variant.testing_synth(STACK), "aws_lb")
    assert alb["enable_deletion_protection"] is True
    assert alb["desync_mitigation_mode"] == "defensive"
    assert alb["access_logs"] == {"bucket": ACCESS_LOGS_BUCKET, "enabled": True, "prefix": "lgtm-prod-alb"}


def test_one_ip_target_group_per_routed_target(prod: SynthesizedApp) -> None:
    cfg = prod.config
    groups = {tg["name"]: tg for tg in resources(prod.testing_synth(STACK), "aws_lb_target_group").values()}
    assert sorted(groups) == sorted(cfg.short_name(t.name) for _, t in cfg.routed_targets)
    for _, target in cfg.routed_targets:
        group = groups[cfg.short_name(target.name)]
        assert group["target_type"] == "ip"
        assert group["protocol"] == "HTTP"
        assert group["port"] == target.port
        check = group["health_check"]
        assert check["path"] == target.health_check_path
        assert check["port"] == (str(target.health_check_port) if target.health_check_port else "traffic-port")
        assert check["matcher"] == "200"
        assert "10-network" in group["vpc_id"]


def test_target_group_ports_and_health_checks_match_the_design(prod: SynthesizedApp) -> None:
    groups = {tg["name"]: tg for tg in resources(prod.testing_synth(STACK), "aws_lb_target_group").values()}
    expected = {  # docs/architecture.md routing table and readiness paths
        "lgtm-prod-grafana": (3000, "/api/health", "traffic-port"),
        "lgtm-prod-mimir": (8080, "/ready", "traffic-port"),
        "lgtm-prod-loki": (3100, "/ready", "traffic-port"),
        "lgtm-prod-tempo": (3200, "/ready", "traffic-port"),
        "lgtm-prod-tempo-otlp": (4318, "/ready", "3200"),
        "lgtm-prod-pyroscope": (4040, "/pyroscope/ready", "traffic-port"),
    }
    assert {name: (g["port"], g["health_check"]["path"], g["health_check"]["port"])
            for name, g in groups.items()} == expected


def test_only_port_80_listener_forwarding_to_grafana_by_default(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    listener = only(stack, "aws_lb_listener")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    (action,) = listener["default_action"]
    assert action["type"] == "forward"
    assert target_group_named(stack, action["target_group_arn"])["name"] == "lgtm-prod-grafana"


def test_listener_rules_route_paths_at_fixed_priorities(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    routes = {}
    for rule in resources(stack, "aws_lb_listener_rule").values():
        (action,) = rule["action"]
        assert action["type"] == "forward"
        (condition,) = rule["condition"]
        assert listener_of(stack, rule)["port"] == 80
        group = target_group_named(stack, action["target_group_arn"])
        routes[tuple(condition["path_pattern"]["values"])] = (rule["priority"], group["name"], group["port"])
    assert routes == {
        ("/api/v1/push",): (100, "lgtm-prod-mimir", 8080),
        ("/loki/*",): (200, "lgtm-prod-loki", 3100),
        ("/v1/traces",): (300, "lgtm-prod-tempo-otlp", 4318),
        ("/tempo/*",): (400, "lgtm-prod-tempo", 3200),
        ("/pyroscope/*",): (500, "lgtm-prod-pyroscope", 4040),
    }


def test_rules_and_target_groups_come_from_config_only() -> None:
    # Testing.synth of one stack of a freshly built app: a new route appears with no code change.
    base = load_config()
    services = tuple(
        replace(svc, targets=svc.targets + (Target(name="loki-push", port=3100, health_check_path="/ready",
                                                   paths=("/otlp/v1/logs",), priority=250),))
        if svc.name == "loki" else svc
        for svc in base.services)
    stacks = build_stacks(App(), replace(base, services=services))
    stack = synth_json(stacks[STACK])
    rules = [r for r in resources(stack, "aws_lb_listener_rule").values() if r["priority"] == 250]
    assert len(rules) == 1
    assert rules[0]["condition"][0]["path_pattern"]["values"] == ["/otlp/v1/logs"]
    assert target_group_named(stack, rules[0]["action"][0]["target_group_arn"])["name"] == "lgtm-prod-loki-push"


def test_https_listener_carries_the_rules_and_port_80_redirects(variant: SynthesizedApp) -> None:
    stack = variant.testing_synth(STACK)
    listeners = {listener["port"]: listener for listener in resources(stack, "aws_lb_listener").values()}
    assert sorted(listeners) == [80, 443]
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["certificate_arn"] == CERTIFICATE_ARN
    assert https["ssl_policy"] == variant.config.alb.ssl_policy
    assert target_group_named(stack, https["default_action"][0]["target_group_arn"])["name"] == "lgtm-prod-grafana"
    (redirect,) = listeners[80]["default_action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}
    rules = resources(stack, "aws_lb_listener_rule").values()
    assert len(rules) == 5
    assert all(listener_of(stack, rule)["port"] == 443 for rule in rules)


def test_outputs_give_clients_their_endpoints(prod: SynthesizedApp) -> None:
    outputs = {name: out["value"] for name, out in prod.testing_synth(STACK)["output"].items()
               if not name.startswith("cross-stack-output-")}
    dns = "${aws_lb.alb.dns_name}"
    assert outputs == {
        "alb_arn": "${aws_lb.alb.arn}",
        "alb_dns_name": dns,
        "grafana_url": f"http://{dns}/",
        "otlp_traces_endpoint": f"http://{dns}/v1/traces",
        "mimir_remote_write_url": f"http://{dns}/api/v1/push",
        "loki_push_url": f"http://{dns}/loki/api/v1/push",
        "pyroscope_url": f"http://{dns}/pyroscope",
    }


def test_outputs_use_https_when_a_certificate_is_set(variant: SynthesizedApp) -> None:
    outputs = variant.testing_synth(STACK)["output"]
    assert outputs["otlp_traces_endpoint"]["value"] == "https://${aws_lb.alb.dns_name}/v1/traces"
    assert outputs["grafana_url"]["value"] == "https://${aws_lb.alb.dns_name}/"


def test_interface_for_siblings(prod: SynthesizedApp) -> None:
    alb = prod.stacks[STACK]
    assert set(alb.target_group_arns) == {t.name for _, t in prod.config.routed_targets}  # type: ignore[attr-defined]
    assert isinstance(alb.alb_arn, str) and isinstance(alb.alb_dns_name, str)  # type: ignore[attr-defined]
