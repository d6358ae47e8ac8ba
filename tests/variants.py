"""One non-default configuration shared by the 50-alb, 60-ecs and truth tests.

Every option those stacks branch on is flipped here at once, so the session pays
for one extra full-app synth (`synthesized("prod", **VARIANT)`, cached) instead of
one per option.
"""

from __future__ import annotations

from dataclasses import replace

from config.common import AlbConfig, EcsConfig, IngressRule, NetworkConfig, StorageConfig, default_state

VARIANT_TENANT = "variant-tenant-7"
CERTIFICATE_ARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
ACCESS_LOGS_BUCKET = "jsj-lgtm-alb-logs-prod"
# The opt-in hardening of .checkov.yaml's "Remove with:" entries (tests/test_security_scan.py).
KMS_KEY_ARN = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_ACCESS_LOG_BUCKET = "jsj-lgtm-s3-access-logs-prod"
WEB_ACL_ARN = ("arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/lgtm-prod/"
               "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111")

VARIANT: dict[str, object] = {
    "tenant_id": VARIANT_TENANT,
    "alb": AlbConfig(certificate_arn=CERTIFICATE_ARN, deletion_protection=True,
                     access_logs_bucket=ACCESS_LOGS_BUCKET, desync_mitigation_mode="defensive",
                     web_acl_arn=WEB_ACL_ARN),
    "state": replace(default_state("prod"), kms_key_arn=KMS_KEY_ARN),
    "storage": StorageConfig(kms_key_arn=KMS_KEY_ARN, access_log_bucket=S3_ACCESS_LOG_BUCKET),
    "network": NetworkConfig(flow_log_retention_days=365),
    "alb_ingress_rules": (
        IngressRule(name="http", port=80, cidr_blocks=("0.0.0.0/0",), description="HTTP, redirected to HTTPS"),
        IngressRule(name="https", port=443, cidr_blocks=("0.0.0.0/0",), description="HTTPS from clients"),
    ),
    "ecs": EcsConfig(fargate_spot=True, container_insights=False, log_retention_days=365,
                     health_check_grace_period_seconds=240, log_kms_key_arn=KMS_KEY_ARN,
                     secrets_kms_key_arn=KMS_KEY_ARN),
}
