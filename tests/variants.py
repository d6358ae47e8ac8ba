"""One non-default configuration shared by the 50-alb, 60-ecs and truth tests.

Every option those stacks branch on is flipped here at once, so the session pays
for one extra full-app synth (`synthesized("prod", **VARIANT)`, cached) instead of
one per option.
"""

from __future__ import annotations

from config.common import AlbConfig, EcsConfig, IngressRule

VARIANT_TENANT = "variant-tenant-7"
CERTIFICATE_ARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
ACCESS_LOGS_BUCKET = "jsj-lgtm-alb-logs-prod"

VARIANT: dict[str, object] = {
    "tenant_id": VARIANT_TENANT,
    "alb": AlbConfig(certificate_arn=CERTIFICATE_ARN, deletion_protection=True,
                     access_logs_bucket=ACCESS_LOGS_BUCKET, desync_mitigation_mode="defensive"),
    "alb_ingress_rules": (
        IngressRule(name="http", port=80, cidr_blocks=("0.0.0.0/0",), description="HTTP, redirected to HTTPS"),
        IngressRule(name="https", port=443, cidr_blocks=("0.0.0.0/0",), description="HTTPS from clients"),
    ),
    "ecs": EcsConfig(fargate_spot=True, container_insights=False, log_retention_days=90,
                     health_check_grace_period_seconds=240),
}
