"""The base every stack derives from: its backend (S3, or HCP Terraform), AWS provider and tags, assigned once."""

from __future__ import annotations

from cdktf import CloudBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from config.common import Config
from config.names import BOOTSTRAP_STACK_ID


def backend_settings(config: Config, stack_id: str) -> dict[str, object]:
    """The S3 backend of one stack, exactly as docs/architecture.md "Stacks and state" lays it out.

    00-bootstrap keeps its state in the hand-made bootstrap bucket without DynamoDB
    locking: the lock table is one of the things it creates.
    """
    state = config.state
    if stack_id == BOOTSTRAP_STACK_ID:
        settings: dict[str, object] = {
            "bucket": state.bootstrap_bucket,
            "key": state.bootstrap_state_key,
        }
    else:
        settings = {
            "bucket": state.state_bucket,
            "key": state.state_key(stack_id),
            "dynamodb_table": state.lock_table,
        }
    settings.update(region=config.aws_region, encrypt=True)
    return settings


def default_tags(config: Config, stack_id: str) -> dict[str, str]:
    return {
        "Project": config.project,
        "Environment": config.environment,
        "ManagedBy": "cdktf",
        "Stack": stack_id,
        **dict(config.tags),
    }


def add_cloud_backend(stack: TerraformStack, config: Config, stack_id: str) -> CloudBackend:
    """backend "hcp": one HCP Terraform workspace per stack. cdktf then reads a cross-stack
    reference through a `terraform_remote_state` of backend "remote" on the producer's workspace.

    The `cloud` block names the workspace (created in `hcp_project` on first init); Terraform
    allows either `name` or `tags` in it, not both, so workspace tags are set in HCP Terraform.
    """
    state = config.state
    return CloudBackend(
        stack,
        organization=str(state.hcp_organization),
        hostname=state.hcp_hostname,
        workspaces=NamedCloudWorkspace(config.hcp_workspace(stack_id), project=state.hcp_project),
    )


class LgtmStack(TerraformStack):
    """A numbered stack: gets its backend, provider and tags from config, nothing else to do."""

    def __init__(self, scope: Construct, stack_id: str, *, config: Config) -> None:
        super().__init__(scope, stack_id)
        self.stack_id = stack_id
        self.config = config
        if config.state.backend == "hcp":
            add_cloud_backend(self, config, stack_id)
        else:
            S3Backend(self, **backend_settings(config, stack_id))  # type: ignore[arg-type]
        if config.state.use_lockfile and config.state.backend == "s3":
            # cdktf 0.21's S3Backend predates Terraform 1.10's S3-native locking.
            self.add_override("terraform.backend.s3.use_lockfile", True)
        self.provider = AwsProvider(
            self,
            "aws",
            region=config.aws_region,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config, stack_id))],
        )
