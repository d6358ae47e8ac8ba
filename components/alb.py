"""50-alb: one internet-facing ALB, one HTTP listener on port 80 (plus 443 with HTTPS).

Every route comes from config (`Config.routed_targets`): one `ip` target group per
(service, port) with the service's readiness check, one listener rule per target with
paths at its fixed priority, and the default action to the target without paths
(Grafana). There is no separate OTLP listener: traces arrive on port 80 at
/v1/traces and go to Tempo's OTLP HTTP receiver.

With `alb.certificate_arn` set, a 443 listener carries the same rules and port 80
only redirects to it.

Interface: `alb_arn`, `alb_dns_name`, `target_group_arns` (by `Target.name`).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.service_configs import loki
from components.shared.stack import LgtmStack
from config.common import Config, ServiceConfig, Target
from config.names import LOKI, MIMIR, PYROSCOPE, TEMPO

# Health-check cadence: a target is in service after 2 good checks (~30 s), out after 3 bad.
TARGET_HEALTH_INTERVAL_SECONDS = 15
TARGET_HEALTH_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
# Single-replica backends: drain quickly so a replacement task takes over without a long gap.
DEREGISTRATION_DELAY_SECONDS = 30


def default_target(cfg: Config) -> tuple[ServiceConfig, Target]:
    """The one target without paths (validated in config): the listener's default action."""
    (found,) = [(svc, tgt) for svc, tgt in cfg.routed_targets if not tgt.paths]
    return found


def path_targets(cfg: Config) -> list[tuple[ServiceConfig, Target]]:
    """Targets with paths, in priority order (the order the ALB evaluates them)."""
    routed = [(svc, tgt) for svc, tgt in cfg.routed_targets if tgt.paths]
    return sorted(routed, key=lambda pair: pair[1].priority or 0)


def routed_path(cfg: Config, service: str, *, api_port: bool) -> str:
    """First routed path of a service's target on (or, with api_port=False, off) its HTTP port."""
    svc = cfg.service(service)
    (target, *_) = [t for t in svc.targets if t.paths and (t.port == svc.http_port) == api_port]
    return target.paths[0]


def public_prefix(svc: ServiceConfig) -> str:
    """The path a service is reached under through the ALB: its proxy's prefix, or its own."""
    return svc.prefix_proxy.prefix if svc.prefix_proxy is not None else svc.path_prefix


def client_endpoints(cfg: Config, base_url: str) -> dict[str, str]:
    """What a client configures, from config's routes (`base_url` is scheme://<ALB DNS>)."""
    mimir_push = routed_path(cfg, MIMIR, api_port=True)
    # Tempo's target off its HTTP API port is its OTLP HTTP receiver.
    otlp_traces = routed_path(cfg, TEMPO, api_port=False)
    return {
        "grafana_url": f"{base_url}/",
        "otlp_traces_endpoint": f"{base_url}{otlp_traces}",
        "mimir_remote_write_url": f"{base_url}{mimir_push}",
        "loki_push_url": f"{base_url}{cfg.service(LOKI).path_prefix}{loki.PUSH_PATH}",
        "pyroscope_url": f"{base_url}{public_prefix(cfg.service(PYROSCOPE))}",
    }


class AlbStack(LgtmStack):
    alb_arn: str
    alb_dns_name: str
    target_group_arns: dict[str, str]

    def __init__(self, scope: Construct, stack_id: str, *, config: Config,
                 network: NetworkStack, security_groups: SecurityGroupsStack) -> None:
        super().__init__(scope, stack_id, config=config)
        self.alb = self._load_balancer(network, security_groups)
        self.target_groups: dict[str, LbTargetGroup] = {
            target.name: self._target_group(svc, target, network) for svc, target in config.routed_targets}
        routing_listener = self._listeners()
        for svc, target in path_targets(config):
            LbListenerRule(
                self, f"rule-{target.name}",
                listener_arn=routing_listener.arn,
                priority=target.priority,
                action=[LbListenerRuleAction(type="forward",
                                             target_group_arn=self.target_groups[target.name].arn)],
                condition=[LbListenerRuleCondition(
                    path_pattern=LbListenerRuleConditionPathPattern(values=list(target.paths)))],
                tags={"Service": svc.name},
            )

        https = config.alb.certificate_arn is not None
        self.alb_arn = self.alb.arn
        self.alb_dns_name = self.alb.dns_name
        self.target_group_arns = {name: group.arn for name, group in self.target_groups.items()}
        self.base_url = f"{'https' if https else 'http'}://{self.alb.dns_name}"

        TerraformOutput(self, "alb_arn", value=self.alb.arn)
        TerraformOutput(self, "alb_dns_name", value=self.alb.dns_name)
        for name, url in client_endpoints(config, self.base_url).items():
            TerraformOutput(self, name, value=url)

    def _load_balancer(self, network: NetworkStack, security_groups: SecurityGroupsStack) -> Lb:
        cfg = self.config
        alb_settings = cfg.alb
        access_logs = LbAccessLogs(bucket=alb_settings.access_logs_bucket, enabled=True,
                                   prefix=cfg.short_name("alb")) \
            if alb_settings.access_logs_bucket else None
        alb = Lb(
            self, "alb",
            name=cfg.short_name("alb"),
            internal=False,
            load_balancer_type="application",
            security_groups=[security_groups.alb_security_group_id],
            subnets=network.public_subnet_ids,
            idle_timeout=alb_settings.idle_timeout,
            drop_invalid_header_fields=alb_settings.drop_invalid_header_fields,
            desync_mitigation_mode=alb_settings.desync_mitigation_mode,
            enable_deletion_protection=alb_settings.deletion_protection,
            access_logs=access_logs,
        )
        if alb_settings.web_acl_arn:
            # The web ACL (rules, rate limits) is the user's: this only puts the ALB behind it.
            Wafv2WebAclAssociation(self, "web-acl-association", resource_arn=alb.arn,
                                   web_acl_arn=alb_settings.web_acl_arn)
        return alb

    def _target_group(self, svc: ServiceConfig, target: Target, network: NetworkStack) -> LbTargetGroup:
        return LbTargetGroup(
            self, f"target-group-{target.name}",
            name=self.config.short_name(target.name),
            # Fargate tasks (awsvpc) register by IP address.
            target_type="ip",
            port=target.port,
            protocol="HTTP",
            vpc_id=network.vpc_id,
            deregistration_delay=str(DEREGISTRATION_DELAY_SECONDS),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol="HTTP",
                path=target.health_check_path,
                port=str(target.health_check_port) if target.health_check_port else "traffic-port",
                matcher="200",
                interval=TARGET_HEALTH_INTERVAL_SECONDS,
                timeout=TARGET_HEALTH_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            tags={"Service": svc.name},
        )

    def _listeners(self) -> LbListener:
        """Port 80 forwards, or with a certificate redirects to 443, which forwards; returns the one with the rules."""
        cfg = self.config
        _, fallback = default_target(cfg)
        forward_to_default = LbListenerDefaultAction(
            type="forward", target_group_arn=self.target_groups[fallback.name].arn)
        if cfg.alb.certificate_arn is None:
            self.https_listener: LbListener | None = None
            self.http_listener = LbListener(
                self, "listener-http",
                load_balancer_arn=self.alb.arn, port=cfg.ports.http, protocol="HTTP",
                default_action=[forward_to_default],
            )
            return self.http_listener
        self.https_listener = LbListener(
            self, "listener-https",
            load_balancer_arn=self.alb.arn, port=cfg.ports.https, protocol="HTTPS",
            certificate_arn=cfg.alb.certificate_arn, ssl_policy=cfg.alb.ssl_policy,
            default_action=[forward_to_default],
        )
        self.http_listener = LbListener(
            self, "listener-http",
            load_balancer_arn=self.alb.arn, port=cfg.ports.http, protocol="HTTP",
            default_action=[LbListenerDefaultAction(
                type="redirect",
                redirect=LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port=str(cfg.ports.https), status_code="HTTP_301"),
            )],
        )
        return self.https_listener
