"""An S3 bucket hardened the same way everywhere: the state bucket and every data bucket."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from components.shared.policy import policy_document


def deny_insecure_transport_policy(bucket_arn: str) -> str:
    return policy_document([{
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }])


class SecureBucket(Construct):
    """Encrypted, private, TLS-only bucket with versioning and a lifecycle rule.

    Exposes `bucket` (name), `arn`, and `resource` for siblings.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        noncurrent_version_expiration_days: int,
        abort_incomplete_multipart_days: int = 7,
        prevent_destroy: bool = False,
        kms_key_arn: str | None = None,
        access_log_bucket: str | None = None,
        bucket_logical_id: str | None = None,
    ) -> None:
        """Current objects never expire here: whoever writes the bucket decides what to delete.
        `kms_key_arn` encrypts with that customer-managed key instead of SSE-S3 (AES256);
        `access_log_bucket` receives the bucket's server access logs under `<bucket name>/`.
        `bucket_logical_id` fixes the bucket's Terraform name (its address) instead of deriving it
        from the construct path: for a bucket whose address existing state files already hold."""
        super().__init__(scope, construct_id)
        lifecycle = TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None
        self.resource = S3Bucket(self, "bucket", bucket=bucket_name, lifecycle=lifecycle)
        if bucket_logical_id:
            # Before anything references the bucket: references embed the logical id.
            self.resource.override_logical_id(bucket_logical_id)
        self.bucket: str = self.resource.bucket
        self.arn: str = self.resource.arn
        bucket_id = self.resource.id

        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket_id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True,
        )
        self._encryption(bucket_id, kms_key_arn)
        if access_log_bucket:
            S3BucketLoggingA(self, "access-logging", bucket=bucket_id,
                             target_bucket=access_log_bucket, target_prefix=f"{bucket_name}/")
        # The policy waits for the public-access block: S3 rejects concurrent bucket edits.
        S3BucketPolicy(
            self, "tls-only", bucket=bucket_id,
            policy=deny_insecure_transport_policy(self.arn),
            depends_on=[self.public_access_block],
        )
        self._versioning_and_lifecycle(bucket_id, noncurrent_version_expiration_days, abort_incomplete_multipart_days)

    def _encryption(self, bucket_id: str, kms_key_arn: str | None) -> None:
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket_id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn)
                    if kms_key_arn else
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256")),
                bucket_key_enabled=True,
            )],
        )

    def _versioning_and_lifecycle(self, bucket_id: str, noncurrent_version_expiration_days: int,
                                  abort_incomplete_multipart_days: int) -> None:
        # Always versioned: an overwritten state file or block must stay recoverable.
        versioning = S3BucketVersioningA(
            self, "versioning", bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        # Only what the bucket's writers never clean up themselves: old versions, stalled uploads.
        rules = [S3BucketLifecycleConfigurationRule(
            id="clean-up",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=noncurrent_version_expiration_days)],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=abort_incomplete_multipart_days)],
        )]
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id,
            rule=rules,
            depends_on=[versioning],
        )
