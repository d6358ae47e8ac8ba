"""What the deploy and the plan policies are scoped by: the deploy roles and the names, ARNs and
conditions every statement group of 00-bootstrap's two policies builds from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.common import Config, StateConfig

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
"""GitHub Actions' OIDC issuer (its IAM provider URL, and the prefix of its claim keys)."""


def plan_role_names(config: Config) -> list[str]:
    """Every role 00-bootstrap manages for deploys: the plan role may read each of them."""
    github = config.github
    names = [github.existing_role_name or github.deploy_role_name]
    if github.existing_role_name is None:
        names.append(github.plan_role_name)
    if config.state.backend == "hcp":
        names += [hcp_role_name(github.deploy_role_name), hcp_role_name(github.plan_role_name)]
    return names


def hcp_role_name(github_role_name: str) -> str:
    """The HCP Terraform twin of a GitHub role: `jsj-github-action-lgtm-hcp`."""
    return f"{github_role_name}-hcp"



@dataclass(frozen=True)
class DeployScope:
    """What every group of the deploy policy scopes by: names from config, ARN builders, conditions."""

    cfg: Config
    partition: str
    account_id: str

    @property
    def state(self) -> StateConfig:
        return self.cfg.state

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.cfg.aws_region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def s3(self, resource: str) -> str:
        return f"arn:{self.partition}:s3:::{resource}"

    @property
    def in_region(self) -> dict[str, Any]:
        return {"StringEquals": {"aws:RequestedRegion": self.cfg.aws_region}}

    @property
    def ours(self) -> dict[str, Any]:
        """Tags every resource of this project and environment carries (provider default tags)."""
        return {"StringEquals": {"aws:RequestedRegion": self.cfg.aws_region,
                                 "aws:ResourceTag/Project": self.cfg.project,
                                 "aws:ResourceTag/Environment": self.cfg.environment}}

    @property
    def state_key_patterns(self) -> tuple[str, str]:
        prefix = self.state.state_key_prefix
        return (f"{prefix}/*/terraform.tfstate", f"{prefix}/*/terraform.tfstate.tflock")

    @property
    def managed_buckets(self) -> list[str]:
        data_buckets = (self.cfg.data_bucket(svc.name) for svc in self.cfg.object_storage_services)
        return [self.state.state_bucket, *data_buckets]

    @property
    def project_roles(self) -> str:
        return self.arn("iam", f"role/{self.cfg.resource_name('*')}", regional=False)

    @property
    def deploy_roles(self) -> list[str]:
        """The apply role itself, the plan role and, with backend "hcp", their HCP Terraform twins."""
        return [self.arn("iam", f"role/{name}", regional=False) for name in plan_role_names(self.cfg)]

    @property
    def oidc_hosts(self) -> list[str]:
        return [GITHUB_OIDC_HOST, *([self.state.hcp_hostname] if self.state.backend == "hcp" else [])]

    @property
    def deploy_policies(self) -> list[str]:
        github = self.cfg.github
        return [self.arn("iam", f"policy/{name}*", regional=False)
                for name in (github.deploy_policy_name, github.plan_policy_name)]

    @property
    def elb_name(self) -> str:
        return self.cfg.short_name("*")

    @property
    def flow_log_group(self) -> str:
        return self.cfg.flow_log_group
