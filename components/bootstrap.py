"""00-bootstrap: the state bucket and lock table every other stack's backend uses.

Applied first, by an administrator, with its own state in the hand-made bootstrap
bucket (`make bootstrap-bucket`). Both resources are `prevent_destroy`: losing them
loses every other stack's state. Both keep the addresses the HCL project's 00-bootstrap
gave them (`aws_s3_bucket.terraform_state`, `aws_dynamodb_table.terraform_lock`), so its
state carries over as it is; what hardens them here is additional resources.
It also holds the GitHub Actions deploy access (`components/github_deploy_access.py`).
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from constructs import Construct

from components.github_deploy_access import GitHubDeployAccess
from components.shared.secure_bucket import SecureBucket
from components.shared.stack import LgtmStack
from config.common import Config

LOCK_HASH_KEY = "LockID"
# The HCL project's resource names: every existing bootstrap state holds these addresses.
STATE_BUCKET_LOGICAL_ID = "terraform_state"
LOCK_TABLE_LOGICAL_ID = "terraform_lock"


class BootstrapStack(LgtmStack):
    def __init__(self, scope: Construct, stack_id: str, *, config: Config) -> None:
        super().__init__(scope, stack_id, config=config)
        state = config.state

        self.state_bucket = SecureBucket(
            self, "state-bucket",
            bucket_name=state.state_bucket,
            noncurrent_version_expiration_days=state.noncurrent_version_expiration_days,
            prevent_destroy=True,
            kms_key_arn=state.kms_key_arn,
            access_log_bucket=config.storage.access_log_bucket,
            bucket_logical_id=STATE_BUCKET_LOGICAL_ID,
        )
        self.lock_table = DynamodbTable(
            self, "lock-table",
            name=state.lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key=LOCK_HASH_KEY,
            attribute=[DynamodbTableAttribute(name=LOCK_HASH_KEY, type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            # Always encrypted; with state.kms_key_arn by that customer-managed key.
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=state.kms_key_arn),
            deletion_protection_enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.lock_table.override_logical_id(LOCK_TABLE_LOGICAL_ID)

        TerraformOutput(self, "state_bucket_name", value=self.state_bucket.bucket)
        TerraformOutput(self, "state_bucket_arn", value=self.state_bucket.arn)
        TerraformOutput(self, "lock_table_name", value=self.lock_table.name)
        TerraformOutput(self, "lock_table_arn", value=self.lock_table.arn)

        # The OIDC provider, role and policy GitHub Actions deploys every stack with.
        self.deploy_access = GitHubDeployAccess(self, "github-deploy-access", config=config)
