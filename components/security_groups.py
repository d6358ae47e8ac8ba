"""30-security-groups: who may talk to the ALB, the ECS tasks and EFS, on which ports.

Every rule is its own `aws_vpc_security_group_ingress_rule` / `..._egress_rule`
(never inline blocks, which fight standalone rules) with a description saying what
uses it. Ports come from config only:

- ALB: ingress from `Config.alb_ingress_rules` (80, and 443 with HTTPS; nothing
  else: OTLP arrives on port 80 at /v1/traces); egress to the ECS group on the
  target ports and health-check ports of `Config.routed_targets`.
- ECS: ingress from the ALB group on exactly those ports; inside the group gRPC,
  memberlist (TCP and UDP), OTLP gRPC/HTTP and every service's HTTP port (Grafana
  and Alloy reach the backends through Cloud Map); egress HTTPS (443, `AWS_API_PORT`:
  AWS's port, not the ALB's `ports.https`) to anywhere (image pulls, S3, AWS APIs), NFS to
  the EFS group and the same intra-group ports.
- EFS (created in 20-storage next to its mount targets): NFS from the ECS group only.

Interface: `alb_security_group_id`, `ecs_security_group_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from components.network import NetworkStack
from components.shared.cidrs import ANYWHERE_IPV4
from components.shared.stack import LgtmStack
from components.storage import StorageStack
from config.common import Config

AWS_API_PORT = 443
"""Where image registries and AWS APIs listen: fixed by AWS, whatever port the ALB serves HTTPS on."""
TCP = "tcp"
UDP = "udp"


@dataclass(frozen=True)
class PortUse:
    """One (protocol, port) and the reasons it is open, joined into the rule description."""

    protocol: str
    port: int
    uses: tuple[str, ...]

    @property
    def description(self) -> str:
        # Security group descriptions are limited to 255 characters.
        return "; ".join(self.uses)[:255]


def _merge(entries: list[tuple[str, int, str]]) -> list[PortUse]:
    """Group (protocol, port, use) triples by (protocol, port), keeping first-seen order."""
    merged: dict[tuple[str, int], list[str]] = {}
    for protocol, port, use in entries:
        uses = merged.setdefault((protocol, port), [])
        if use not in uses:
            uses.append(use)
    return [PortUse(protocol, port, tuple(uses)) for (protocol, port), uses in merged.items()]


def alb_target_ports(cfg: Config) -> list[PortUse]:
    """Ports the ALB sends traffic or health checks to: target ports and health-check ports."""
    entries: list[tuple[str, int, str]] = []
    for svc, target in cfg.routed_targets:
        entries.append((TCP, target.port, f"ALB to {svc.name} target group {target.name}"))
        if target.health_check_port is not None and target.health_check_port != target.port:
            entries.append((TCP, target.health_check_port,
                            f"ALB health check of target group {target.name}"))
    return _merge(entries)


def intra_group_ports(cfg: Config) -> list[PortUse]:
    """Service-to-service ports inside the ECS group."""
    ports = cfg.ports
    entries: list[tuple[str, int, str]] = [
        (TCP, ports.grpc, "gRPC between Mimir, Loki, Tempo and Pyroscope components"),
        # memberlist gossips over both: TCP for state sync, UDP for probes.
        (TCP, ports.memberlist, "memberlist gossip (hash rings), TCP"),
        (UDP, ports.memberlist, "memberlist gossip (hash rings), UDP"),
        (TCP, ports.otlp_grpc, "OTLP gRPC from Alloy to Tempo"),
        (TCP, ports.otlp_http, "OTLP HTTP from Alloy to Tempo"),
    ]
    for svc in cfg.services:
        entries.append((TCP, svc.http_port, f"{svc.name} HTTP API via Cloud Map (Grafana, Alloy)"))
    return _merge(entries)


class SecurityGroupsStack(LgtmStack):
    alb_security_group_id: str
    ecs_security_group_id: str

    def __init__(self, scope: Construct, stack_id: str, *, config: Config,
                 network: NetworkStack, storage: StorageStack) -> None:
        super().__init__(scope, stack_id, config=config)
        cfg = config
        # No inline rules: the standalone rule resources below are the only ones, so
        # Terraform also drops AWS's default allow-all egress.
        self.alb_security_group = SecurityGroup(
            self, "alb-security-group", name=cfg.resource_name("alb"), vpc_id=network.vpc_id,
            description="ALB: clients in on the listener ports, out to the ECS tasks' target ports",
            tags={"Name": cfg.resource_name("alb")},
        )
        self.ecs_security_group = SecurityGroup(
            self, "ecs-security-group", name=cfg.resource_name("ecs"), vpc_id=network.vpc_id,
            description="ECS tasks: from the ALB on target ports, service-to-service inside the group",
            tags={"Name": cfg.resource_name("ecs")},
        )
        alb = self.alb_security_group.id
        ecs = self.ecs_security_group.id
        self._alb_rules(alb, ecs)
        self._intra_group_rules(ecs)
        self._task_rules(ecs, efs=storage.efs_security_group_id, vpc_cidr=network.vpc_cidr)
        self.alb_security_group_id = alb
        self.ecs_security_group_id = ecs

    def _alb_rules(self, alb: str, ecs: str) -> None:
        """Clients to the ALB on the listener ports; the ALB to the tasks on the target ports."""
        cfg = self.config
        for rule in cfg.alb_ingress_rules:
            for index, cidr in enumerate(rule.cidr_blocks):
                VpcSecurityGroupIngressRule(
                    self, f"alb-ingress-{rule.name}-{index}", security_group_id=alb,
                    ip_protocol=TCP, from_port=rule.port, to_port=rule.port, cidr_ipv4=cidr,
                    description=rule.description,
                )

        for use in alb_target_ports(cfg):
            VpcSecurityGroupEgressRule(
                self, f"alb-egress-to-ecs-{use.port}", security_group_id=alb,
                ip_protocol=use.protocol, from_port=use.port, to_port=use.port,
                referenced_security_group_id=ecs, description=use.description,
            )
            VpcSecurityGroupIngressRule(
                self, f"ecs-ingress-from-alb-{use.port}", security_group_id=ecs,
                ip_protocol=use.protocol, from_port=use.port, to_port=use.port,
                referenced_security_group_id=alb, description=use.description,
            )

    def _intra_group_rules(self, ecs: str) -> None:
        """Service to service inside the ECS group."""
        cfg = self.config
        for use in intra_group_ports(cfg):
            VpcSecurityGroupIngressRule(
                self, f"ecs-ingress-intra-{use.protocol}-{use.port}", security_group_id=ecs,
                ip_protocol=use.protocol, from_port=use.port, to_port=use.port,
                referenced_security_group_id=ecs, description=use.description,
            )
            VpcSecurityGroupEgressRule(
                self, f"ecs-egress-intra-{use.protocol}-{use.port}", security_group_id=ecs,
                ip_protocol=use.protocol, from_port=use.port, to_port=use.port,
                referenced_security_group_id=ecs, description=use.description,
            )

    def _task_rules(self, ecs: str, *, efs: str, vpc_cidr: str) -> None:
        """OTLP from the VPC to Alloy, HTTPS out to AWS, NFS to EFS."""
        cfg = self.config
        # Applications elsewhere in the VPC send OTLP to Alloy (alloy.<namespace>); nothing
        # outside the VPC can: OTLP from the internet arrives only via the ALB's /v1/traces.
        for transport, port in (("grpc", cfg.ports.otlp_grpc), ("http", cfg.ports.otlp_http)):
            VpcSecurityGroupIngressRule(
                self, f"ecs-ingress-otlp-{transport}-from-vpc", security_group_id=ecs,
                ip_protocol=TCP, from_port=port, to_port=port, cidr_ipv4=vpc_cidr,
                description=f"OTLP {transport} to Alloy from applications inside the VPC",
            )
        VpcSecurityGroupEgressRule(
            self, "ecs-egress-https", security_group_id=ecs,
            ip_protocol=TCP, from_port=AWS_API_PORT, to_port=AWS_API_PORT, cidr_ipv4=ANYWHERE_IPV4,
            description="HTTPS from tasks: image pulls, S3 (gateway endpoint), SSM, CloudWatch Logs, AWS APIs",
        )
        VpcSecurityGroupEgressRule(
            self, "ecs-egress-nfs", security_group_id=ecs,
            ip_protocol=TCP, from_port=cfg.ports.nfs, to_port=cfg.ports.nfs, referenced_security_group_id=efs,
            description="NFS from tasks to the EFS mount targets (Grafana state)",
        )
        VpcSecurityGroupIngressRule(
            self, "efs-ingress-nfs-from-ecs", security_group_id=efs,
            ip_protocol=TCP, from_port=cfg.ports.nfs, to_port=cfg.ports.nfs, referenced_security_group_id=ecs,
            description="NFS to the EFS mount targets from the ECS tasks only",
        )
