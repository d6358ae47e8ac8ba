"""One non-default configuration shared by the 50-alb, 60-ecs and truth tests.

Every option those stacks branch on is flipped here at once, so the session pays
for one extra full-app synth (`synthesized("prod", **VARIANT)`, cached) instead of
one per option. `variant(environment)` builds it for any known environment: the
state settings derive from that environment's own (`default_state(environment)`),
never from prod's, which validation refuses for another environment.
"""

from __future__ import annotations

from dataclasses import replace

from config.common import AlbConfig, EcsConfig, IngressRule, NetworkConfig, StorageConfig, default_state

VARIANT_TENANT = "variant-tenant-7"
CERTIFICATE_ARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
# The opt-in hardening of .checkov.yaml's "Remove with:" entries (tests/test_security_scan.py).
KMS_KEY_ARN = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WEB_ACL_ARN = ("arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/lgtm-prod/"
               "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111")


def access_logs_bucket(environment: str) -> str:
    return f"jsj-lgtm-alb-logs-{environment}"


def s3_access_log_bucket(environment: str) -> str:
    return f"jsj-lgtm-s3-access-logs-{environment}"


def variant(environment: str = "prod") -> dict[str, object]:
    """Every option flipped, for `load_config(environment, **variant(environment))`."""
    return {
        "tenant_id": VARIANT_TENANT,
        "alb": AlbConfig(certificate_arn=CERTIFICATE_ARN, deletion_protection=True,
                         access_logs_bucket=access_logs_bucket(environment), desync_mitigation_mode="defensive",
                         web_acl_arn=WEB_ACL_ARN),
        "state": replace(default_state(environment), kms_key_arn=KMS_KEY_ARN),
        "storage": StorageConfig(kms_key_arn=KMS_KEY_ARN, access_log_bucket=s3_access_log_bucket(environment)),
        "network": NetworkConfig(flow_log_retention_days=365),
        "alb_ingress_rules": (
            IngressRule(name="http", port=80, cidr_blocks=("0.0.0.0/0",), description="HTTP, redirected to HTTPS"),
            IngressRule(name="https", port=443, cidr_blocks=("0.0.0.0/0",), description="HTTPS from clients"),
        ),
        "ecs": EcsConfig(fargate_spot=True, container_insights=False, log_retention_days=365,
                         health_check_grace_period_seconds=240, log_kms_key_arn=KMS_KEY_ARN,
                         secrets_kms_key_arn=KMS_KEY_ARN),
    }


VARIANT: dict[str, object] = variant("prod")
ACCESS_LOGS_BUCKET = access_logs_bucket("prod")
S3_ACCESS_LOG_BUCKET = s3_access_log_bucket("prod")

HCP_ORGANIZATION = "jsj-platform"
HCP_PROJECT = "lgtm-ecs"


def hcp_variant(environment: str = "prod") -> dict[str, object]:
    """State in HCP Terraform (`StateConfig.backend = "hcp"`): a `cloud` block per stack."""
    return {"state": replace(default_state(environment), backend="hcp", hcp_organization=HCP_ORGANIZATION,
                             hcp_project=HCP_PROJECT)}


HCP_VARIANT: dict[str, object] = hcp_variant("prod")
