"""Checks for what checkov cannot see in our synthesized JSON (its blind spots).

- Container definitions are one JSON string per task definition: the terraform_json
  scan does not parse them (only the plan scan, after an emulator deploy, does).
- Security-group rules come in three shapes (standalone VPC rules, legacy
  `aws_security_group_rule`, inline `ingress` blocks), and any attribute may be an
  explicit null: a null port range with protocol "-1" means every port.
- Security groups made in 30-security-groups are attached in other stacks through
  remote state, which checkov does not follow (CKV2_AWS_5).
- Bucket policies are `${jsonencode(...)}` expressions (so that `cdktf synth --hcl` works):
  the terraform_json scan no longer runs CKV_AWS_70 (no Allow to any principal) on them.

Each checker returns the problems it finds (empty: none), so tests can assert on the
real stacks and on mutated copies alike.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from config.common import ServiceConfig
from tests.helpers import as_list, json_value
from tests.references import resolve

INGRESS = "aws_vpc_security_group_ingress_rule"
LEGACY_RULE = "aws_security_group_rule"
GROUP = "aws_security_group"
WEB_PORTS = (80, 443)
EVERY_PORT = (0, 65535)
ALL_PROTOCOLS = {"-1", "all"}
SECRET_LOOKING = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY", re.IGNORECASE)
ROOT_USERS = {"0", "root"}
SECURITY_GROUP_ATTRIBUTES = ("security_groups", "vpc_security_group_ids")
"""Attributes that attach security groups to a resource (ALB, ECS service network, EFS mount target)."""


def resources(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    # `"resource": null` or `"<type>": null` are valid JSON too: treat them as empty.
    return (stack.get("resource") or {}).get(resource_type) or {}


# --- security-group ingress ---------------------------------------------------------------


def inbound_rules(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ingress rule of a stack, whatever its shape."""
    inbound = [rule for rule in resources(stack, INGRESS).values() if rule is not None]
    inbound += [rule for rule in resources(stack, LEGACY_RULE).values()
                if rule is not None and rule.get("type") == "ingress"]
    for group in resources(stack, GROUP).values():
        inbound += [rule for rule in as_list((group or {}).get("ingress")) if rule is not None]
    return inbound


def port_range(rule: dict[str, Any]) -> tuple[int, int]:
    """The ports a rule opens. Protocol -1 ignores ports; a null bound opens to the end of the range."""
    protocol = str(rule.get("ip_protocol") if rule.get("ip_protocol") is not None else rule.get("protocol"))
    from_port, to_port = rule.get("from_port"), rule.get("to_port")
    if protocol in ALL_PROTOCOLS or (from_port is None and to_port is None):
        return EVERY_PORT
    low = int(from_port) if from_port is not None else EVERY_PORT[0]
    high = int(to_port) if to_port is not None else EVERY_PORT[1]
    # AWS writes -1 for "every port" on some protocols (ICMP type/code, -1 to -1).
    return EVERY_PORT if low < 0 or high < 0 else (low, high)


def is_internet(cidr: object) -> bool:
    """0.0.0.0/0 or ::/0 in any spelling (e.g. 0.0.0.0/00, ::0/0). Tokens (`${...}`) are not CIDRs:
    they resolve to config values, which config validation and the plan scan check."""
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def sources(rule: dict[str, Any]) -> list[object]:
    return [*as_list(rule.get("cidr_ipv4")), *as_list(rule.get("cidr_ipv6")),
            *as_list(rule.get("cidr_blocks")), *as_list(rule.get("ipv6_cidr_blocks"))]


def open_to_internet(rule: dict[str, Any]) -> bool:
    return any(is_internet(cidr) for cidr in sources(rule))


def internet_ingress_problems(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """Ingress rules open to the internet on anything but exactly port 80 or exactly port 443."""
    return [rule for rule in inbound_rules(stack)
            if open_to_internet(rule) and port_range(rule) not in {(port, port) for port in WEB_PORTS}]


# --- security groups attached across stacks -----------------------------------------------


def _walk(value: object, key: str | None = None) -> Iterator[tuple[str | None, object]]:
    yield key, value
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _walk(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, key)


def attached_security_groups(stack_ids: Iterable[str],
                             stack_json: Callable[[str], dict[str, Any]]) -> set[str]:
    """`${aws_security_group.<name>.id}` of every group some resource (in any stack) attaches."""
    attached: set[str] = set()
    for stack_id in stack_ids:
        for key, value in _walk(stack_json(stack_id).get("resource") or {}):
            if key in SECURITY_GROUP_ATTRIBUTES and isinstance(value, str):
                attached.add(resolve(value, stack_json))
    return attached


def unattached_security_groups(stack_ids: list[str], stack_json: Callable[[str], dict[str, Any]]) -> list[str]:
    """`<stack>/<group>` for every security group no resource in any stack attaches."""
    attached = attached_security_groups(stack_ids, stack_json)
    return [f"{stack_id}/{name}" for stack_id in stack_ids
            for name in resources(stack_json(stack_id), GROUP)
            if f"${{{GROUP}.{name}.id}}" not in attached]


# --- container definitions ----------------------------------------------------------------


def container_problems(containers: list[dict[str, Any]], svc: ServiceConfig) -> list[str]:
    """What is wrong with one task's parsed container definitions, for service `svc`.

    No privileged container, no secret-looking names in plain `environment` (they belong in
    `secrets`), a read-only root filesystem on every container (on the service container
    when `svc.read_only_root_filesystem`), the service container runs as `svc.user`, and no
    container names root as its user.
    """
    problems = []
    for container in containers:
        name = container.get("name")
        if container.get("privileged"):
            problems.append(f"{name}: privileged")
        for variable in as_list(container.get("environment")):
            if SECRET_LOOKING.search(str((variable or {}).get("name", ""))):
                problems.append(f"{name}: secret-looking {variable.get('name')} in environment (use secrets)")
        added = as_list(((container.get("linuxParameters") or {}).get("capabilities") or {}).get("add"))
        if added:
            problems.append(f"{name}: adds Linux capabilities {added}")
        user = container.get("user")
        if user is not None and str(user).split(":")[0] in ROOT_USERS:
            problems.append(f"{name}: runs as root ({user!r})")
        is_service = name == svc.name
        wants_read_only = svc.read_only_root_filesystem if is_service else True
        if wants_read_only and container.get("readonlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem is writable")
        if is_service and user != svc.user:
            problems.append(f"{name}: runs as {user!r}, config says {svc.user!r}")
    if svc.name not in {container.get("name") for container in containers}:
        problems.append(f"no container named {svc.name}")
    return problems


def task_containers(stack: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Task definition logical id -> its parsed container definitions."""
    return {name: json_value(definition["container_definitions"])
            for name, definition in resources(stack, "aws_ecs_task_definition").items()}


def anyone(principal: object) -> bool:
    """`"*"` or `{"AWS": "*"}` (or a list holding "*"): every principal there is."""
    if isinstance(principal, dict):
        return any(anyone(value) for value in principal.values())
    return "*" in as_list(principal)


def public_bucket_policy_problems(stack: dict[str, Any]) -> list[str]:
    """CKV_AWS_70's rule on every bucket policy: no statement Allows anything to any principal."""
    return [f"{name}: statement {statement.get('Sid', index)} allows {statement.get('Action')} to any principal"
            for name, policy in resources(stack, "aws_s3_bucket_policy").items()
            for index, statement in enumerate(as_list(json_value(policy["policy"])["Statement"]))
            if statement.get("Effect") == "Allow" and anyone(statement.get("Principal"))]
