"""What checkov's terraform_json scan cannot see, checked on every synthesized stack.

Each checker (tests/security_checks.py) is run on the real stacks and on mutated
copies, so a checker that stopped finding problems would fail here too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from components.registry import STACK_IDS
from tests.conftest import SynthesizedApp
from tests.helpers import json_value
from tests.security_checks import (
    container_problems,
    internet_ingress_problems,
    port_range,
    public_bucket_policy_problems,
    task_containers,
    unattached_security_groups,
)
from tests.variants import VARIANT

ECS_STACK = "60-ecs"


@pytest.fixture(scope="module")
def variant(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", **VARIANT)


def service_of(app: SynthesizedApp, task_name: str) -> Any:
    return app.config.service(task_name.removeprefix("task-"))


# --- container definitions (a JSON string checkov's terraform_json scan does not parse) -----


@pytest.mark.parametrize("environment", ["prod", "variant"])
def test_every_task_definition_passes_the_container_checks(prod: SynthesizedApp, variant: SynthesizedApp,
                                                           environment: str) -> None:
    app = prod if environment == "prod" else variant
    tasks = task_containers(app.stack_json(ECS_STACK))
    assert sorted(tasks) == sorted(f"task-{svc.name}" for svc in app.config.services)
    for task_name, containers in tasks.items():
        assert container_problems(containers, service_of(app, task_name)) == [], task_name


def test_hardening_is_really_in_the_definitions(prod: SynthesizedApp) -> None:
    """The settings the checker accepts are present, not merely absent-and-harmless."""
    tasks = task_containers(prod.stack_json(ECS_STACK))
    users = {}
    for task_name, containers in tasks.items():
        for container in containers:
            assert container["readonlyRootFilesystem"] is True, (task_name, container["name"])
            assert "privileged" not in container or container["privileged"] is False
        users[task_name] = {c["name"]: c.get("user") for c in containers}
    assert users["task-grafana"]["grafana"] == "472"
    for service in ("mimir", "loki", "tempo", "pyroscope"):
        assert users[f"task-{service}"][service] == "10001:10001", service
    # Alloy keeps its image's (root) user: upstream calls its non-root mode experimental.
    assert users["task-alloy"]["alloy"] is None


def _prod_containers(prod: SynthesizedApp, service: str) -> tuple[list[dict[str, Any]], Any]:
    tasks = task_containers(prod.stack_json(ECS_STACK))
    return copy.deepcopy(tasks[f"task-{service}"]), prod.config.service(service)


@pytest.mark.parametrize("mutation, expected", [
    (lambda c: c.update(privileged=True), "privileged"),
    (lambda c: c["environment"].append({"name": "GF_DATABASE_PASSWORD", "value": "x"}), "GF_DATABASE_PASSWORD"),
    (lambda c: c["environment"].append({"name": "api_token", "value": "x"}), "api_token"),
    (lambda c: c["environment"].append({"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}), "AWS_SECRET_ACCESS_KEY"),
    (lambda c: c.pop("readonlyRootFilesystem"), "root filesystem is writable"),
    (lambda c: c.update(readonlyRootFilesystem=False), "root filesystem is writable"),
    (lambda c: c.update(user="0"), "runs as root"),
    (lambda c: c.update(user="root:root"), "runs as root"),
    (lambda c: c.pop("user"), "config says"),
    (lambda c: c.update(linuxParameters={"capabilities": {"add": ["SYS_ADMIN"]}}), "capabilities"),
])
def test_container_checker_catches_a_mutated_service_container(prod: SynthesizedApp, mutation: Callable[..., Any],
                                                               expected: str) -> None:
    containers, svc = _prod_containers(prod, "grafana")
    assert container_problems(containers, svc) == []
    (service_container,) = [c for c in containers if c["name"] == "grafana"]
    mutation(service_container)
    problems = container_problems(containers, svc)
    assert any(expected in problem for problem in problems), problems


def test_container_checker_catches_a_writable_or_privileged_init_container(prod: SynthesizedApp) -> None:
    containers, svc = _prod_containers(prod, "loki")
    (init,) = [c for c in containers if c["name"] != "loki"]
    init["readonlyRootFilesystem"] = None  # an explicit null is not read-only
    init["privileged"] = True
    assert sorted(container_problems(containers, svc)) == sorted([
        f"{init['name']}: privileged", f"{init['name']}: root filesystem is writable"])


def test_container_checker_tolerates_explicit_nulls_and_reads_secrets_as_fine(prod: SynthesizedApp) -> None:
    containers, svc = _prod_containers(prod, "grafana")
    for container in containers:
        container["environment"] = None if container["name"] != "grafana" else container["environment"]
        container["linuxParameters"] = None
        container["privileged"] = None
    assert container_problems(containers, svc) == []
    (grafana,) = [c for c in containers if c["name"] == "grafana"]
    assert [s["name"] for s in grafana["secrets"]] == ["GF_SECURITY_ADMIN_PASSWORD"]


# --- security-group ingress open to the internet (every stack, every rule shape) ---------


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_nothing_but_80_and_443_is_open_to_the_internet(prod: SynthesizedApp, variant: SynthesizedApp,
                                                        stack_id: str) -> None:
    for app in (prod, variant):
        assert internet_ingress_problems(app.stack_json(stack_id)) == [], stack_id


def test_the_public_web_ports_are_what_the_checker_lets_through(prod: SynthesizedApp) -> None:
    """The ALB's port-80 rule is open to the internet (so the check above is not vacuous)."""
    rules = prod.stack_json("30-security-groups")["resource"]["aws_vpc_security_group_ingress_rule"]
    public = [rule for rule in rules.values() if rule.get("cidr_ipv4") == "0.0.0.0/0"]
    assert [port_range(rule) for rule in public] == [(80, 80)]


RULE_SHAPES_THAT_OPEN_EVERYTHING = [
    # Protocol -1 ignores the ports, whatever they say.
    {"resource": {"aws_vpc_security_group_ingress_rule": {"a": {
        "security_group_id": "sg", "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0", "from_port": 80, "to_port": 80}}}},
    # Explicit null ports on a VPC rule.
    {"resource": {"aws_vpc_security_group_ingress_rule": {"a": {
        "security_group_id": "sg", "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0",
        "from_port": None, "to_port": None}}}},
    # IPv6 in another spelling, next to an explicit null IPv4.
    {"resource": {"aws_vpc_security_group_ingress_rule": {"a": {
        "security_group_id": "sg", "ip_protocol": "tcp", "cidr_ipv4": None, "cidr_ipv6": "::0/0",
        "from_port": 22, "to_port": 22}}}},
    # A legacy rule with a null IPv4 list and an open IPv6 list.
    {"resource": {"aws_security_group_rule": {"a": {
        "type": "ingress", "protocol": "tcp", "from_port": 0, "to_port": 65535,
        "cidr_blocks": None, "ipv6_cidr_blocks": ["::/0"]}}}},
    # An inline ingress block with "all" protocol, next to null ingress entries.
    {"resource": {"aws_security_group": {"g": {"ingress": [None, {
        "protocol": "all", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
        "ipv6_cidr_blocks": None, "security_groups": None}]}}}},
    # A range that contains 443 is not 443.
    {"resource": {"aws_vpc_security_group_ingress_rule": {"a": {
        "security_group_id": "sg", "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 444}}}},
]


@pytest.mark.parametrize("stack", RULE_SHAPES_THAT_OPEN_EVERYTHING)
def test_ingress_checker_catches_every_rule_shape_and_null(stack: dict[str, Any]) -> None:
    assert len(internet_ingress_problems(stack)) == 1, json.dumps(stack)


def test_ingress_checker_lets_private_sources_and_nulls_through() -> None:
    stack = {"resource": {
        "aws_vpc_security_group_ingress_rule": {
            "from-alb": {"security_group_id": "sg", "ip_protocol": "-1", "referenced_security_group_id": "sg-alb",
                         "cidr_ipv4": None, "cidr_ipv6": None, "from_port": None, "to_port": None},
            "https": {"security_group_id": "sg", "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0",
                      "from_port": 443, "to_port": 443},
            "vpc": {"security_group_id": "sg", "ip_protocol": "tcp", "cidr_ipv4": "10.0.0.0/16",
                    "from_port": 0, "to_port": 65535}},
        "aws_security_group_rule": {"egress": {"type": "egress", "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"],
                                               "from_port": 0, "to_port": 0}},
        "aws_security_group": {"g": {"ingress": None}, "h": None},
    }}
    assert internet_ingress_problems(stack) == []


# --- security groups attached across stacks (CKV2_AWS_5 is skipped: checkov cannot follow) --


def test_every_security_group_is_attached_somewhere(prod: SynthesizedApp) -> None:
    assert unattached_security_groups(list(STACK_IDS), prod.stack_json) == []


def test_attachment_checker_finds_a_group_nobody_uses(prod: SynthesizedApp) -> None:
    stacks = {stack_id: prod.stack_json(stack_id) for stack_id in STACK_IDS}
    # The ALB stops naming its security group: the ALB group is attached nowhere.
    stacks["50-alb"]["resource"]["aws_lb"]["alb"]["security_groups"] = []
    assert unattached_security_groups(list(STACK_IDS), stacks.__getitem__) == \
        ["30-security-groups/alb-security-group"]


# --- bucket policies (a jsonencode expression checkov's terraform_json scan skips: CKV_AWS_70) ---


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_no_bucket_policy_allows_anything_to_any_principal(prod: SynthesizedApp, variant: SynthesizedApp,
                                                           stack_id: str) -> None:
    for app in (prod, variant):
        assert public_bucket_policy_problems(app.stack_json(stack_id)) == [], stack_id


def test_the_bucket_policy_checker_sees_the_policies_and_an_allow_to_anyone(prod: SynthesizedApp) -> None:
    stacks = {stack_id: prod.stack_json(stack_id) for stack_id in ("00-bootstrap", "20-storage")}
    policies = {name: policy for stack in stacks.values()
                for name, policy in stack["resource"]["aws_s3_bucket_policy"].items()}
    assert len(policies) == 5, sorted(policies)  # the state bucket and four data buckets
    stack = copy.deepcopy(stacks["20-storage"])
    name, policy = sorted(stack["resource"]["aws_s3_bucket_policy"].items())[0]
    document = json_value(policy["policy"])
    document["Statement"].append({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": ["*"]},
                                  "Action": "s3:GetObject", "Resource": "*"})
    policy["policy"] = json.dumps(document)
    assert public_bucket_policy_problems(stack) == [f"{name}: statement Open allows s3:GetObject to any principal"]
