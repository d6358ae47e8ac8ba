"""What exists on the emulator, by kind: compared before deploy and after destroy.

A fresh moto account already holds defaults (the default VPC, its subnets, security
group and route table, AWS-managed IAM policies, ...): comparing against a snapshot
taken before the first apply makes "nothing the stacks created remains" exact without
listing those defaults here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Client = Callable[[str], Any]


def _ec2(client: Client, operation: str, key: str, id_key: str, **kwargs: Any) -> list[str]:
    found: list[str] = []
    for page in client("ec2").get_paginator(operation).paginate(**kwargs):
        found += [str(item[id_key]) for item in page[key] if item.get("State") not in ("deleted",)]
    return found


def _ecs_services(client: Client) -> list[str]:
    ecs = client("ecs")
    services: list[str] = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if arns:
            described = ecs.describe_services(cluster=cluster, services=arns)["services"]
            services += [s["serviceArn"] for s in described if s["status"] != "INACTIVE"]
    return services


def _active_clusters(client: Client) -> list[str]:
    ecs = client("ecs")
    arns = ecs.list_clusters()["clusterArns"]
    if not arns:
        return []
    return [c["clusterArn"] for c in ecs.describe_clusters(clusters=arns)["clusters"] if c["status"] == "ACTIVE"]


def _efs_mount_targets(client: Client) -> list[str]:
    efs = client("efs")
    return [target["MountTargetId"]
            for system in efs.describe_file_systems()["FileSystems"]
            for target in efs.describe_mount_targets(FileSystemId=system["FileSystemId"])["MountTargets"]]


KINDS: dict[str, Callable[[Client], list[str]]] = {
    "ec2 vpc": lambda c: _ec2(c, "describe_vpcs", "Vpcs", "VpcId"),
    "ec2 subnet": lambda c: _ec2(c, "describe_subnets", "Subnets", "SubnetId"),
    "ec2 security group": lambda c: _ec2(c, "describe_security_groups", "SecurityGroups", "GroupId"),
    "ec2 security group rule": lambda c: _ec2(c, "describe_security_group_rules", "SecurityGroupRules",
                                              "SecurityGroupRuleId"),
    "ec2 internet gateway": lambda c: _ec2(c, "describe_internet_gateways", "InternetGateways",
                                           "InternetGatewayId"),
    "ec2 nat gateway": lambda c: _ec2(c, "describe_nat_gateways", "NatGateways", "NatGatewayId"),
    "ec2 elastic ip": lambda c: [a["AllocationId"] for a in c("ec2").describe_addresses()["Addresses"]],
    "ec2 route table": lambda c: _ec2(c, "describe_route_tables", "RouteTables", "RouteTableId"),
    "ec2 vpc endpoint": lambda c: _ec2(c, "describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId"),
    "s3 bucket": lambda c: [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
    "dynamodb table": lambda c: c("dynamodb").list_tables()["TableNames"],
    "efs file system": lambda c: [f["FileSystemId"] for f in c("efs").describe_file_systems()["FileSystems"]],
    "efs mount target": _efs_mount_targets,
    "efs access point": lambda c: [a["AccessPointId"] for a in c("efs").describe_access_points()["AccessPoints"]],
    "iam role": lambda c: [r["RoleName"] for r in c("iam").list_roles()["Roles"]],
    "iam customer policy": lambda c: [p["Arn"] for p in c("iam").list_policies(Scope="Local")["Policies"]],
    "iam oidc provider": lambda c: [p["Arn"] for p in
                                    c("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]],
    "elbv2 load balancer": lambda c: [lb["LoadBalancerArn"] for lb in
                                      c("elbv2").describe_load_balancers()["LoadBalancers"]],
    "elbv2 target group": lambda c: [tg["TargetGroupArn"] for tg in
                                     c("elbv2").describe_target_groups()["TargetGroups"]],
    "ecs cluster": _active_clusters,
    "ecs service": _ecs_services,
    "ecs task definition": lambda c: c("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
    "cloud map namespace": lambda c: [n["Id"] for n in c("servicediscovery").list_namespaces()["Namespaces"]],
    "cloud map service": lambda c: [s["Id"] for s in c("servicediscovery").list_services()["Services"]],
    "logs log group": lambda c: [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
    "ssm parameter": lambda c: [p["Name"] for p in c("ssm").describe_parameters()["Parameters"]],
    "secretsmanager secret": lambda c: [s["Name"] for s in c("secretsmanager").list_secrets()["SecretList"]],
}


def inventory(client: Client) -> dict[str, set[str]]:
    """Every kind above -> the identifiers that exist now (a failing listing raises)."""
    found: dict[str, set[str]] = {}
    for kind, list_kind in KINDS.items():
        try:
            found[kind] = set(list_kind(client))
        except Exception as error:  # noqa: BLE001 - re-raised with the kind named
            raise RuntimeError(f"listing {kind} on the emulator failed: {error}") from error
    return found


def difference(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """Kind -> identifiers present in `after` but not in `before`."""
    return {kind: after[kind] - before.get(kind, set()) for kind in after if after[kind] - before.get(kind, set())}
