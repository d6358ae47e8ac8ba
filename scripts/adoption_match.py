"""Which legacy resource is which synthesized one: matching by type and identity.

A resource in an existing state (`terraform show -json`) and a resource this project
synthesizes (`cdk.tf.json` of any stack) are the same object when they have the same
type and the same identity: the attributes that name the object in AWS
(`IDENTITY_ATTRIBUTES`: a bucket's name, a role's name, a listener's load balancer and
port, ...). Addresses play no part, which is the point: the HCL project's
`module.alb.aws_lb.this` is this project's `aws_lb.alb` because both are named
`lgtm-prod-alb`.

An attribute that refers to another resource is compared through that resource's
identity, on both sides: a synthesized `${aws_lb.alb.arn}` and a legacy
`arn:aws:elasticloadbalancing:...:loadbalancer/app/lgtm-prod-alb/...` both become
"the aws_lb named lgtm-prod-alb" when the state holds that load balancer. References
across stacks (`terraform_remote_state` outputs) are followed to the producing
resource. A legacy ID that the state being adopted does not hold stays a literal and
will not match a reference: such a resource is reported unmatched (edit the adoption
file by hand, or adopt the stack that holds the referenced object first).

Pure functions: no terraform, no AWS. `scripts/adopt.py` feeds them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

IDENTITY_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    # 00-bootstrap / 20-storage
    "aws_s3_bucket": ("bucket",),
    "aws_s3_bucket_versioning": ("bucket",),
    "aws_s3_bucket_server_side_encryption_configuration": ("bucket",),
    "aws_s3_bucket_public_access_block": ("bucket",),
    "aws_s3_bucket_ownership_controls": ("bucket",),
    "aws_s3_bucket_policy": ("bucket",),
    "aws_s3_bucket_lifecycle_configuration": ("bucket",),
    "aws_s3_bucket_logging": ("bucket",),
    "aws_dynamodb_table": ("name",),
    "aws_iam_openid_connect_provider": ("url",),
    "aws_iam_policy": ("name",),
    "aws_iam_role": ("name",),
    "aws_iam_role_policy": ("role", "name"),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    # 10-network
    "aws_vpc": ("cidr_block",),
    "aws_subnet": ("cidr_block",),
    "aws_internet_gateway": ("vpc_id",),
    "aws_eip": ("tags.Name",),
    "aws_nat_gateway": ("subnet_id",),
    "aws_route_table": ("vpc_id", "tags.Name"),
    "aws_route": ("route_table_id", "destination_cidr_block"),
    "aws_route_table_association": ("subnet_id", "route_table_id"),
    "aws_vpc_endpoint": ("vpc_id", "service_name"),
    "aws_default_security_group": ("vpc_id",),
    "aws_flow_log": ("vpc_id", "traffic_type"),
    "aws_cloudwatch_log_group": ("name",),
    # 20-storage
    "aws_efs_file_system": ("creation_token",),
    "aws_efs_mount_target": ("file_system_id", "subnet_id"),
    "aws_efs_access_point": ("file_system_id", "root_directory.path"),
    "aws_efs_backup_policy": ("file_system_id",),
    "aws_efs_file_system_policy": ("file_system_id",),
    # 20-storage / 30-security-groups (the VPC is left out: a name is unique in practice,
    # and the VPC usually lives in another state)
    "aws_security_group": ("name",),
    "aws_vpc_security_group_ingress_rule": ("security_group_id", "ip_protocol", "from_port", "to_port",
                                            "cidr_ipv4", "cidr_ipv6", "referenced_security_group_id",
                                            "prefix_list_id"),
    "aws_vpc_security_group_egress_rule": ("security_group_id", "ip_protocol", "from_port", "to_port",
                                           "cidr_ipv4", "cidr_ipv6", "referenced_security_group_id",
                                           "prefix_list_id"),
    # 50-alb
    "aws_lb": ("name",),
    "aws_lb_target_group": ("name",),
    "aws_lb_listener": ("load_balancer_arn", "port"),
    "aws_lb_listener_rule": ("listener_arn", "priority"),
    "aws_wafv2_web_acl_association": ("resource_arn",),
    # 60-ecs
    "aws_ecs_cluster": ("name",),
    "aws_ecs_cluster_capacity_providers": ("cluster_name",),
    "aws_ecs_task_definition": ("family",),
    "aws_ecs_service": ("cluster", "name"),
    "aws_service_discovery_private_dns_namespace": ("name",),
    "aws_service_discovery_service": ("dns_config.namespace_id", "name"),
    "aws_ssm_parameter": ("name",),
}
"""Per resource type, the attributes that name the object in AWS (dotted paths into blocks)."""

ID_IS: Mapping[str, str] = {
    "aws_s3_bucket": "bucket",
    "aws_dynamodb_table": "name",
    "aws_iam_role": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_ssm_parameter": "name",
    "aws_ecs_cluster_capacity_providers": "cluster_name",
}
"""Types whose `id` is one of their own configured attributes: a reference to `.id` is that value."""


def _last_segment(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


IMPORT_IDS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "aws_iam_role_policy_attachment": lambda v: f"{v['role']}/{v['policy_arn']}",
    "aws_ecs_service": lambda v: f"{_last_segment(v['cluster'])}/{v['name']}",
    "aws_ecs_cluster": lambda v: v["name"],
    "aws_service_discovery_private_dns_namespace": lambda v: f"{v['id']}:{v['vpc']}",
    "aws_route": lambda v: f"{v['route_table_id']}_{v['destination_cidr_block']}",
    "aws_route_table_association": lambda v: f"{v['subnet_id']}/{v['route_table_id']}",
    "aws_wafv2_web_acl_association": lambda v: f"{v['web_acl_arn']},{v['resource_arn']}",
}
"""Types whose `terraform import` ID is not their `id` attribute (hashicorp/aws 5.100 docs)."""


def import_id(resource_type: str, values: Mapping[str, Any]) -> str:
    """The ID `import` needs for an object, from its attributes in a state."""
    build = IMPORT_IDS.get(resource_type)
    return build(values) if build else str(values["id"])


# --- identities -------------------------------------------------------------------------

Identity = tuple[str, tuple[Any, ...]]
"""(type, values of IDENTITY_ATTRIBUTES); a value is a string, None, or ("ref", Identity)."""


def normalize(value: Any) -> Any:
    """Scalars compared as state and config write them: 80 == "80", True == "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return value


def lookup(values: Mapping[str, Any], path: str) -> Any:
    """A dotted path into attributes; a block is a list of one in state, an object in cdktf JSON."""
    current: Any = values
    for key in path.split("."):
        while isinstance(current, list) and len(current) == 1:
            current = current[0]
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    while isinstance(current, list) and len(current) == 1 and isinstance(current[0], Mapping):
        current = current[0]
    return current


def describe(identity: Identity | None) -> str:
    """`aws_lb name=lgtm-prod-alb`, references shown as the identity they point at."""
    if identity is None:
        return "(no identity)"
    kind, values = identity
    attributes = IDENTITY_ATTRIBUTES.get(kind, ())
    parts = [f"{name}={_describe_value(value)}"
             for name, value in zip(attributes, values, strict=True) if value is not None]
    return f"{kind} {', '.join(parts)}"


def _describe_value(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "ref":
        return f"<{describe(value[1])}>"
    return str(value)


MAX_DEPTH = 6
"""References nest (rule -> listener -> load balancer); deeper means a cycle."""


@dataclass(frozen=True)
class LegacyResource:
    address: str
    type: str
    values: Mapping[str, Any]


def legacy_resources(shown_state: Mapping[str, Any]) -> list[LegacyResource]:
    """Managed resources of `terraform show -json` (of a state), every module, every instance."""
    found: list[LegacyResource] = []
    pending = [shown_state.get("values", {}).get("root_module", {})]
    while pending:
        module = pending.pop()
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                found.append(LegacyResource(resource["address"], resource["type"], resource.get("values") or {}))
        pending.extend(module.get("child_modules", []))
    return sorted(found, key=lambda resource: resource.address)


class LegacyIdentities:
    """Identities of the resources in one existing state; IDs and ARNs resolve within it."""

    def __init__(self, resources: Iterable[LegacyResource]) -> None:
        self.resources = list(resources)
        self._by_value: dict[str, list[tuple[LegacyResource, str]]] = {}
        for resource in self.resources:
            for attribute in ("id", "arn"):
                value = resource.values.get(attribute)
                if isinstance(value, str) and value:
                    self._by_value.setdefault(value, []).append((resource, attribute))

    def identity(self, resource: LegacyResource, depth: int = 0) -> Identity | None:
        attributes = IDENTITY_ATTRIBUTES.get(resource.type)
        if not attributes or depth > MAX_DEPTH:
            return None
        values = tuple(self._value(lookup(resource.values, name), depth) for name in attributes)
        return None if all(value is None for value in values) else (resource.type, values)

    def _value(self, raw: Any, depth: int) -> Any:
        raw = normalize(raw)
        if not isinstance(raw, str):
            return raw if not isinstance(raw, (list, dict)) else None
        holders = self._by_value.get(raw, [])
        # An `id` that is the object's own name (a bucket, a role) is compared as that name,
        # the way a synthesized reference to it resolves.
        if not holders or any(attribute == "id" and holder.type in ID_IS for holder, attribute in holders):
            return raw
        targets = {holder.address: holder for holder, _ in holders}
        if len(targets) != 1:
            return raw
        target = self.identity(next(iter(targets.values())), depth + 1)
        return ("ref", target) if target is not None else raw


# --- the synthesized side ---------------------------------------------------------------

_RESOURCE_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
_REMOTE_REF = re.compile(r"^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$")


@dataclass(frozen=True)
class SynthesizedResource:
    stack_id: str
    address: str
    type: str
    config: Mapping[str, Any]


class SynthesizedIdentities:
    """Identities of every resource of every synthesized stack; references resolve across stacks."""

    def __init__(self, stacks: Mapping[str, Mapping[str, Any]]) -> None:
        self.stacks = stacks
        self.resources: dict[tuple[str, str], SynthesizedResource] = {
            (stack_id, f"{kind}.{name}"): SynthesizedResource(stack_id, f"{kind}.{name}", kind, config)
            for stack_id, stack in stacks.items()
            for kind, named in stack.get("resource", {}).items() for name, config in named.items()}
        owners = {self._backend(stack): stack_id for stack_id, stack in stacks.items()}
        self._producer = {
            (stack_id, name): owners.get((remote.get("config", {}).get("bucket"), remote.get("config", {}).get("key")))
            for stack_id, stack in stacks.items()
            for name, remote in stack.get("data", {}).get("terraform_remote_state", {}).items()}

    @staticmethod
    def _backend(stack: Mapping[str, Any]) -> tuple[Any, Any]:
        s3 = stack.get("terraform", {}).get("backend", {}).get("s3", {})
        return s3.get("bucket"), s3.get("key")

    def in_stack(self, stack_id: str) -> list[SynthesizedResource]:
        return sorted((r for (s, _), r in self.resources.items() if s == stack_id), key=lambda r: r.address)

    def identity(self, resource: SynthesizedResource, depth: int = 0) -> Identity | None:
        attributes = IDENTITY_ATTRIBUTES.get(resource.type)
        if not attributes or depth > MAX_DEPTH:
            return None
        values = tuple(self._value(resource.stack_id, lookup(resource.config, name), depth) for name in attributes)
        return None if all(value is None for value in values) else (resource.type, values)

    def literal(self, resource: SynthesizedResource, attribute: str) -> str | None:
        """The attribute's value when synth already knows it (a literal or a reference to one)."""
        value = self._value(resource.stack_id, lookup(resource.config, attribute), 0)
        return value if isinstance(value, str) and "${" not in value else None

    def _value(self, stack_id: str, raw: Any, depth: int) -> Any:
        raw = normalize(raw)
        if not isinstance(raw, str):
            return raw if not isinstance(raw, (list, dict)) else None
        remote = _REMOTE_REF.match(raw)
        if remote:
            return self._remote_value(stack_id, remote.group(1), remote.group(2), raw, depth)
        reference = _RESOURCE_REF.match(raw)
        if not reference:
            return raw
        kind, name, attribute = reference.groups()
        target = self.resources.get((stack_id, f"{kind}.{name}"))
        if target is None:
            return raw
        own = target.config.get(attribute)
        if own is not None and not isinstance(own, (list, dict)):
            return self._value(stack_id, own, depth + 1)
        if attribute == "id" and kind in ID_IS:
            return self._value(stack_id, target.config.get(ID_IS[kind]), depth + 1)
        identity = self.identity(target, depth + 1)
        return ("ref", identity) if identity is not None else raw

    def _remote_value(self, stack_id: str, data_name: str, output: str, raw: str, depth: int) -> Any:
        producer = self._producer.get((stack_id, data_name))
        value = self.stacks.get(producer, {}).get("output", {}).get(output, {}).get("value") if producer else None
        return self._value(producer, value, depth + 1) if producer and value is not None else raw


# --- matching -----------------------------------------------------------------------------

SAME_ADDRESS = "kept"
MOVED = "moved"
OTHER_STACK = "other stack"
UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Match:
    kind: str
    legacy: LegacyResource
    target: SynthesizedResource | None
    identity: str
    note: str = ""


def match_state(stack_id: str, legacy: Iterable[LegacyResource], synthesized: SynthesizedIdentities) -> list[Match]:
    """Each legacy resource of `stack_id`'s state: kept, moved within the stack, owned by another
    stack now, or unmatched (Terraform would destroy it)."""
    legacy = list(legacy)
    legacy_identities = LegacyIdentities(legacy)
    own = {resource.address: resource for resource in synthesized.in_stack(stack_id)}
    matches: dict[str, Match] = {}
    claimed: set[tuple[str, str]] = set()
    for resource in legacy:
        target = own.get(resource.address)
        if target is not None and target.type == resource.type:
            matches[resource.address] = Match(SAME_ADDRESS, resource, target,
                                              describe(legacy_identities.identity(resource)))
            claimed.add((stack_id, target.address))
    by_identity: dict[Identity, list[SynthesizedResource]] = {}
    for key, candidate in synthesized.resources.items():
        identity = synthesized.identity(candidate)
        if identity is not None and key not in claimed:
            by_identity.setdefault(identity, []).append(candidate)
    wanted: dict[tuple[str, str], list[str]] = {}
    for resource in legacy:
        if resource.address in matches:
            continue
        identity = legacy_identities.identity(resource)
        candidates = by_identity.get(identity, []) if identity is not None else []
        if len(candidates) != 1:
            why = ("no resource of this type and identity is synthesized: Terraform would destroy it"
                   if not candidates else
                   f"several synthesized resources have this identity: {[c.address for c in candidates]}")
            matches[resource.address] = Match(UNMATCHED, resource, None, describe(identity), why)
            continue
        (target,) = candidates
        kind = MOVED if target.stack_id == stack_id else OTHER_STACK
        matches[resource.address] = Match(kind, resource, target, describe(identity))
        wanted.setdefault((target.stack_id, target.address), []).append(resource.address)
    for (target_stack, target_address), sources in wanted.items():
        if len(sources) > 1:
            for source in sources:
                old = matches[source]
                matches[source] = Match(UNMATCHED, old.legacy, None, old.identity,
                                        f"{len(sources)} legacy resources match {target_stack} {target_address}: "
                                        f"{sources}")
    return [matches[resource.address] for resource in legacy]
