"""Deploy access, managed by 00-bootstrap: a read-only plan role and a writing apply role.

- The account's GitHub OIDC identity provider: created here, or looked up when
  `GitHubConfig.create_oidc_provider` is False (an account has at most one per URL: only
  prod creates it by default, `config.common.default_github`).
- The apply role `GitHubConfig.deploy_role_name` (the seed's `jsj-github-action-lgtm`, at its
  old address, so an existing state keeps it): only jobs in the GitHub environment
  `Config.apply_environment` may assume it (`sub` = `repo:<owner>/<repo>:environment:prod`,
  audience `sts.amazonaws.com`), and that environment's required reviewers guard every write.
- The plan role `GitHubConfig.plan_role_name`: only runs on `plan_branch` (main) and pull
  requests may assume it (`repo:<owner>/<repo>:ref:refs/heads/main`, `repo:<owner>/<repo>:pull_request`);
  its policy reads and locks (`components/plan_permissions.py`) and writes nothing.
- With `GitHubConfig.existing_role_name`, single-role mode: the deploy policy is attached to
  that role (its trust policy stays yours), and no provider or plan role is made.
- With `StateConfig.backend == "hcp"`: HCP Terraform's OIDC provider (`https://<hcp_hostname>`,
  audience `aws.workload.identity`) and two more roles, trusted per run phase of this
  environment's workspaces (`organization:<org>:project:<project>:workspace:<workspace>:run_phase:plan|apply`).
- The customer-managed policies `GitHubConfig.deploy_policy_name` (apply) and
  `plan_policy_name` (plan): written by hand and grouped by AWS service, each statement
  scoped to this project's names where the service has resource-level permissions; `*`
  only for actions that have none (describe/list calls, random passwords), and never for
  actions on data. Managed policies are limited to 6144 characters (whitespace not counted),
  so the statements are packed, in order, into as few policies as fit: `<name>`, `<name>-2`, ...

`tests/deploy_permissions.py` lists, independently, what each Terraform type
needs; `tests/test_deploy_permissions.py` and `tests/test_plan_permissions.py` check both
policies against it. The apply role can update both policies (00-bootstrap is deployable
from the workflow), which is why only a reviewed environment's jobs may assume it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from components.plan_permissions import plan_policy_statements
from components.shared.deploy_scope import GITHUB_OIDC_HOST, DeployScope, hcp_role_name
from components.shared.policy import Statement, policy_document, policy_json
from config.common import Config

GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
# HCP Terraform dynamic provider credentials: the audience its workload identity tokens carry
# by default (TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE), docs/deploy-access.md "HCP Terraform".
HCP_OIDC_AUDIENCE = "aws.workload.identity"
HCP_RUN_PHASES = ("plan", "apply")
MANAGED_POLICY_MAX_CHARS = 6144
"""IAM's limit for a customer-managed policy document, whitespace not counted."""
# Sizes are measured with the longest values the tokens below can take, so a policy
# that fits here fits in every partition and account.
SIZING_PARTITION = "aws-us-gov"
SIZING_ACCOUNT_ID = "123456789012"
# Services that create their service-linked role the first time an account uses them.
SERVICE_LINKED_ROLE_SERVICES = (
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "elasticfilesystem.amazonaws.com",
    "backup.amazonaws.com",  # EFS automatic backups run through AWS Backup's role
)
# Services the stacks hand project roles to: ECS tasks (40-iam's roles), VPC flow logs.
ROLE_RECEIVING_SERVICES = ("ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com")


def policy_size(document: str) -> int:
    """Characters IAM counts against the managed-policy limit (whitespace is free)."""
    return sum(1 for char in document if not char.isspace())


def pack_statements(statements: Sequence[Statement], *, limit: int = MANAGED_POLICY_MAX_CHARS) -> list[list[int]]:
    """Indexes of `statements` per policy, each policy document within `limit`.

    First fit, in order: a statement goes into the first policy it still fits in, so a policy
    left with room takes a later, smaller statement instead of a new policy being made (each new
    part is another attachment on the role the apply runs as).
    """
    packs: list[list[int]] = []
    for index, statement in enumerate(statements):
        if policy_size(policy_json([statement], compact=True)) > limit:
            raise ValueError(f"statement {statement.get('Sid')!r} alone exceeds {limit} characters: split it")
        for pack in packs:
            if policy_size(policy_json([*(statements[i] for i in pack), statement], compact=True)) <= limit:
                pack.append(index)
                break
        else:
            packs.append([index])
    return packs


def policy_names(base_name: str, count: int) -> list[str]:
    """`jsj_github_action_LGTM`, then `jsj_github_action_LGTM-2`, ... as the policy grows."""
    return [base_name if n == 1 else f"{base_name}-{n}" for n in range(1, count + 1)]


def _web_identity_trust(sid: str, provider_arn: str, host: str, audience: str,
                        subject: Mapping[str, str | list[str]]) -> str:
    return policy_document([{
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": _claims(host, audience, subject),
    }])


def _claims(host: str, audience: str, subject: Mapping[str, str | list[str]]) -> dict[str, dict[str, Any]]:
    """`aud` compared exactly; `sub` with the given operator (StringEquals, or StringLike for a pattern)."""
    conditions: dict[str, dict[str, Any]] = {"StringEquals": {f"{host}:aud": audience}}
    for operator, value in subject.items():
        conditions.setdefault(operator, {})[f"{host}:sub"] = value
    return conditions


def apply_trust_policy(*, provider_arn: str, repository: str, environment: str) -> str:
    """Only jobs of this repository running in the GitHub environment (its reviewers approved them)."""
    return _web_identity_trust("GitHubEnvironmentOfThisRepository", provider_arn, GITHUB_OIDC_HOST,
                               GITHUB_OIDC_AUDIENCE, {"StringEquals": f"repo:{repository}:environment:{environment}"})


def plan_trust_policy(*, provider_arn: str, repository: str, branch: str) -> str:
    """Runs on the branch (main: dispatches, the schedule) and pull requests of this repository."""
    subjects = [f"repo:{repository}:ref:refs/heads/{branch}", f"repo:{repository}:pull_request"]
    return _web_identity_trust("GitHubMainAndPullRequestsOfThisRepository", provider_arn, GITHUB_OIDC_HOST,
                               GITHUB_OIDC_AUDIENCE, {"StringEquals": subjects})


def hcp_trust_policy(*, provider_arn: str, config: Config, run_phase: str) -> str:
    """Runs of one phase in this environment's HCP Terraform workspaces (`lgtm-ecs-prod-*`)."""
    state = config.state
    workspaces = config.hcp_workspace("*")
    subject = (f"organization:{state.hcp_organization}:project:{state.hcp_project}:"
               f"workspace:{workspaces}:run_phase:{run_phase}")
    return _web_identity_trust(f"HcpTerraform{run_phase.capitalize()}Runs", provider_arn, state.hcp_hostname,
                               HCP_OIDC_AUDIENCE, {"StringLike": subject})


def _state_statements(at: DeployScope) -> list[Statement]:
    """Terraform state: every stack's backend."""
    state, arn, s3, state_key_patterns = at.state, at.arn, at.s3, at.state_key_patterns
    return [
        {"Sid": "TerraformStateBuckets", "Effect": "Allow",
         "Action": "s3:ListBucket",
         "Resource": [s3(state.state_bucket), s3(state.bootstrap_bucket)]},
        {"Sid": "TerraformStateObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [*(s3(f"{state.state_bucket}/{key}") for key in state_key_patterns),
                      s3(f"{state.bootstrap_bucket}/{state.bootstrap_state_key}"),
                      s3(f"{state.bootstrap_bucket}/{state.bootstrap_state_key}.tflock")]},
        {"Sid": "TerraformLockTable", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
         "Resource": arn("dynamodb", f"table/{state.lock_table}")},
    ]


def _lock_table_statements(at: DeployScope) -> list[Statement]:
    """00-bootstrap: the lock table's own lifecycle (the seed added these by hand)."""
    state, arn = at.state, at.arn
    return [
        {"Sid": "LockTableLifecycle", "Effect": "Allow",
         "Action": ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable",
                    "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
                    "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
                    "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource"],
         "Resource": arn("dynamodb", f"table/{state.lock_table}")},
        # DynamoDB's read resolves the aws/dynamodb key's ARN (metadata only).
        {"Sid": "KmsKeyMetadata", "Effect": "Allow", "Action": "kms:DescribeKey",
         "Resource": arn("kms", "key/*")},
    ]


def _bucket_statements(at: DeployScope) -> list[Statement]:
    """S3: the state bucket and the data buckets (configuration, never objects)."""
    s3, managed_buckets = at.s3, at.managed_buckets
    return [
        {"Sid": "ProjectBucketsConfiguration", "Effect": "Allow",
         "Action": ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucket*",
                    "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration",
                    "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
                    "s3:PutBucketTagging", "s3:PutBucketVersioning", "s3:PutBucketPolicy",
                    "s3:DeleteBucketPolicy", "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketOwnershipControls", "s3:PutEncryptionConfiguration",
                    "s3:PutLifecycleConfiguration", "s3:PutBucketLogging"],
         "Resource": [s3(name) for name in managed_buckets]},
    ]


def _iam_statements(at: DeployScope) -> list[Statement]:
    """IAM."""
    arn, project_roles, deploy_roles = at.arn, at.project_roles, at.deploy_roles
    oidc_hosts, deploy_policies = at.oidc_hosts, at.deploy_policies
    return [
        {"Sid": "ProjectAndDeployRoles", "Effect": "Allow",
         "Action": ["iam:CreateRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
                    "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole",
                    "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                    "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
         "Resource": [project_roles, *deploy_roles]},
        {"Sid": "AttachOnlyTheDeployPolicies", "Effect": "Allow",
         "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
         "Resource": [project_roles, *deploy_roles],
         "Condition": {"ArnLike": {"iam:PolicyARN": deploy_policies}}},
        {"Sid": "DeployPolicies", "Effect": "Allow",
         "Action": ["iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
                    "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
                    "iam:ListPolicyTags", "iam:TagPolicy", "iam:UntagPolicy"],
         "Resource": deploy_policies},
        {"Sid": "GitHubOidcProvider", "Effect": "Allow",
         "Action": ["iam:CreateOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
                    "iam:DeleteOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
                    "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
                    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider"],
         "Resource": [arn("iam", f"oidc-provider/{host}", regional=False) for host in oidc_hosts]},
        # Listing has no resource-level permissions.
        {"Sid": "FindOidcProviders", "Effect": "Allow", "Action": "iam:ListOpenIDConnectProviders",
         "Resource": "*"},
        {"Sid": "PassProjectRoles", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": project_roles,
         "Condition": {"StringEquals": {"iam:PassedToService": list(ROLE_RECEIVING_SERVICES)}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": arn("iam", "role/aws-service-role/*", regional=False),
         "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)}}},
    ]


def _network_statements(at: DeployScope) -> list[Statement]:
    """EC2 / VPC."""
    in_region, ours = at.in_region, at.ours
    return [
        # Describe calls have no resource-level permissions.
        {"Sid": "Ec2Describe", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
         "Condition": in_region},
        # Created with the project's tags; IDs are random, so this region is the scope.
        {"Sid": "Ec2BuildNetwork", "Effect": "Allow",
         "Action": ["ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:ModifySubnetAttribute",
                    "ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
                    "ec2:AllocateAddress", "ec2:DisassociateAddress", "ec2:CreateNatGateway",
                    "ec2:CreateRouteTable", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute",
                    "ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable",
                    "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:CreateSecurityGroup",
                    "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                    "ec2:ModifySecurityGroupRules", "ec2:CreateTags", "ec2:DeleteTags", "ec2:CreateFlowLogs",
                    # EFS mount targets' interfaces, created and removed with the caller's rights.
                    "ec2:CreateNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
                    "ec2:DeleteNetworkInterface"],
         "Resource": "*", "Condition": in_region},
        # Deletes only what carries this project's and environment's tags.
        {"Sid": "Ec2DeleteOnlyOurs", "Effect": "Allow",
         "Action": ["ec2:DeleteVpc", "ec2:DeleteSubnet", "ec2:DeleteInternetGateway", "ec2:ReleaseAddress",
                    "ec2:DeleteNatGateway", "ec2:DeleteRouteTable", "ec2:DeleteVpcEndpoints",
                    "ec2:DeleteSecurityGroup", "ec2:DeleteFlowLogs"],
         "Resource": "*", "Condition": ours},
    ]


def _efs_statements(at: DeployScope) -> list[Statement]:
    """EFS (IDs are random: this account's file systems in this region)."""
    arn, in_region = at.arn, at.in_region
    return [
        {"Sid": "EfsDescribe", "Effect": "Allow",
         "Action": ["elasticfilesystem:Describe*", "elasticfilesystem:ListTagsForResource"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "EfsManage", "Effect": "Allow",
         "Action": ["elasticfilesystem:CreateFileSystem", "elasticfilesystem:UpdateFileSystem",
                    "elasticfilesystem:DeleteFileSystem", "elasticfilesystem:PutLifecycleConfiguration",
                    "elasticfilesystem:PutBackupPolicy", "elasticfilesystem:PutFileSystemPolicy",
                    "elasticfilesystem:DeleteFileSystemPolicy", "elasticfilesystem:CreateMountTarget",
                    "elasticfilesystem:DeleteMountTarget", "elasticfilesystem:ModifyMountTargetSecurityGroups",
                    "elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DeleteAccessPoint",
                    "elasticfilesystem:TagResource", "elasticfilesystem:UntagResource"],
         "Resource": [arn("elasticfilesystem", "file-system/*"), arn("elasticfilesystem", "access-point/*")]},
    ]


def _load_balancer_statements(at: DeployScope) -> list[Statement]:
    """Elastic Load Balancing (names `lgtm-<env>-*`)."""
    arn, in_region, elb_name = at.arn, at.in_region, at.elb_name
    return [
        {"Sid": "ElbDescribe", "Effect": "Allow", "Action": "elasticloadbalancing:Describe*",
         "Resource": "*", "Condition": in_region},
        {"Sid": "ElbManageOurs", "Effect": "Allow",
         "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities",
                    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
                    "elasticloadbalancing:SetWebAcl"],
         "Resource": [arn("elasticloadbalancing", f"loadbalancer/app/{elb_name}/*"),
                      arn("elasticloadbalancing", f"targetgroup/{elb_name}/*"),
                      arn("elasticloadbalancing", f"listener/app/{elb_name}/*"),
                      arn("elasticloadbalancing", f"listener-rule/app/{elb_name}/*")]},
        # Only with alb.web_acl_arn: associate the user's web ACL with our ALB.
        {"Sid": "WafOnOurAlb", "Effect": "Allow",
         "Action": ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"],
         "Resource": [arn("wafv2", "regional/webacl/*/*"),
                      arn("elasticloadbalancing", f"loadbalancer/app/{elb_name}/*")]},
    ]


def _ecs_statements(at: DeployScope) -> list[Statement]:
    """ECS."""
    cfg, arn, in_region = at.cfg, at.arn, at.in_region
    return [
        # Describe calls, creating a cluster and (de)registering task definitions have no
        # resource-level permissions.
        {"Sid": "EcsUnscoped", "Effect": "Allow",
         "Action": ["ecs:DescribeClusters", "ecs:DescribeServices", "ecs:DescribeTaskDefinition",
                    "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "EcsManageOurs", "Effect": "Allow",
         "Action": ["ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:DeleteCluster",
                    "ecs:PutClusterCapacityProviders", "ecs:CreateService", "ecs:UpdateService",
                    "ecs:DeleteService", "ecs:TagResource", "ecs:UntagResource"],
         "Resource": [arn("ecs", f"cluster/{cfg.cluster_name}"),
                      arn("ecs", f"service/{cfg.cluster_name}/*"),
                      arn("ecs", f"task-definition/{cfg.resource_name('*')}:*")]},
    ]


def _cloud_map_statements(at: DeployScope) -> list[Statement]:
    """Cloud Map and the private hosted zone it creates (IDs are random)."""
    in_region, partition = at.in_region, at.partition
    return [
        {"Sid": "CloudMap", "Effect": "Allow",
         "Action": ["servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:UpdatePrivateDnsNamespace",
                    "servicediscovery:DeleteNamespace", "servicediscovery:GetNamespace",
                    "servicediscovery:GetOperation", "servicediscovery:CreateService",
                    "servicediscovery:UpdateService", "servicediscovery:DeleteService",
                    "servicediscovery:GetService", "servicediscovery:TagResource",
                    "servicediscovery:UntagResource", "servicediscovery:ListTagsForResource"],
         "Resource": "*", "Condition": in_region},
        # Creating and listing zones has no resource-level permission; the rest is per zone.
        {"Sid": "CloudMapHostedZoneCreate", "Effect": "Allow",
         "Action": ["route53:CreateHostedZone", "route53:ListHostedZonesByName"],
         "Resource": "*"},
        {"Sid": "CloudMapHostedZone", "Effect": "Allow",
         "Action": ["route53:GetHostedZone", "route53:DeleteHostedZone"],
         "Resource": f"arn:{partition}:route53:::hostedzone/*"},
    ]


def _log_statements(at: DeployScope) -> list[Statement]:
    """CloudWatch Logs (the services' groups and the VPC flow log group)."""
    cfg, arn, flow_log_group = at.cfg, at.arn, at.flow_log_group
    return [
        {"Sid": "LogsDescribe", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": arn("logs", "log-group:*")},
        {"Sid": "ProjectLogGroups", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                    "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
                    "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource"],
         "Resource": [arn("logs", f"log-group:{cfg.log_group_prefix}*"),
                      arn("logs", f"log-group:{flow_log_group}"), arn("logs", f"log-group:{flow_log_group}:*")]},
    ]


def _parameter_statements(at: DeployScope) -> list[Statement]:
    """SSM parameters under this project's path; random passwords."""
    cfg, arn, in_region = at.cfg, at.arn, at.in_region
    return [
        {"Sid": "DescribeParameters", "Effect": "Allow", "Action": "ssm:DescribeParameters",
         "Resource": "*", "Condition": in_region},
        {"Sid": "ProjectParameters", "Effect": "Allow",
         "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:DeleteParameter",
                    "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"],
         "Resource": arn("ssm", f"parameter{cfg.ssm_prefix}/*")},
        {"Sid": "RandomPasswords", "Effect": "Allow", "Action": "secretsmanager:GetRandomPassword",
         "Resource": "*", "Condition": in_region},
    ]


def deploy_policy_statements(config: Config, *, partition: str, account_id: str) -> list[Statement]:
    """What the stacks need, by service. `partition`/`account_id` may be Terraform tokens."""
    at = DeployScope(config, partition, account_id)
    return [
        *_state_statements(at),
        *_lock_table_statements(at),
        *_bucket_statements(at),
        *_iam_statements(at),
        *_network_statements(at),
        *_efs_statements(at),
        *_load_balancer_statements(at),
        *_ecs_statements(at),
        *_cloud_map_statements(at),
        *_log_statements(at),
        *_parameter_statements(at),
    ]


def _packed_policies(scope: Construct, id_prefix: str, base_name: str, description: str,
                     statements: Sequence[Statement], sizing: Sequence[Statement]) -> list[IamPolicy]:
    """`<base_name>`, `<base_name>-2`, ...: the statements in as few managed policies as fit.

    The description names the part only: changing a description replaces the policy, which would
    detach it from the role that may be running this very apply. For the same reason a policy
    taken over (`make adopt` imports the hand-made `jsj_github_action_LGTM`) keeps the description
    it has: it is ignored after creation.
    """
    packs = pack_statements(sizing)
    return [
        IamPolicy(scope, f"{id_prefix}-{number}", name=name, description=f"{description}, part {number}",
                  policy=policy_document([statements[i] for i in pack]),
                  lifecycle=TerraformResourceLifecycle(ignore_changes=["description"]))
        for number, (name, pack) in enumerate(zip(policy_names(base_name, len(packs)), packs, strict=True),
                                              start=1)
    ]


def _attach(scope: Construct, id_prefix: str, role_name: str, policies: Sequence[IamPolicy]) -> None:
    for number, policy in enumerate(policies, start=1):
        IamRolePolicyAttachment(scope, f"{id_prefix}-{number}", role=role_name, policy_arn=policy.arn)


class GitHubDeployAccess(Construct):
    """The OIDC providers, the apply and plan roles (or an existing role) and their policies."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config) -> None:
        super().__init__(scope, construct_id)
        github = config.github
        partition = DataAwsPartition(self, "partition").partition
        account_id = DataAwsCallerIdentity(self, "account").account_id
        where = f"{config.project} {config.environment}"

        # Construct ids `policy-N`, `role`, `attachment-N`, `oidc-provider` are the seed's single
        # role's addresses: that role is the apply role now, so an existing state keeps it.
        self.policies = _packed_policies(
            self, "policy", github.deploy_policy_name, f"GitHub Actions deploy of {where}",
            deploy_policy_statements(config, partition=partition, account_id=account_id),
            deploy_policy_statements(config, partition=SIZING_PARTITION, account_id=SIZING_ACCOUNT_ID))
        self.plan_policies: list[IamPolicy] = []
        self.plan_role_arn: str | None = None

        if github.existing_role_name is not None:
            # Single-role mode: plans run with this role too (docs/github-actions.md).
            self.role_name: str = github.existing_role_name
            self.role_arn: str = f"arn:{partition}:iam::{account_id}:role/{github.existing_role_name}"
        else:
            provider_arn = self._github_provider_arn(github.create_oidc_provider)
            role = self._github_role("role", github.deploy_role_name, f"deploys {where}",
                                     apply_trust_policy(provider_arn=provider_arn, repository=github.repository,
                                                        environment=config.apply_environment),
                                     github.repository)
            self.role_name, self.role_arn = role.name, role.arn
            self.plan_policies = self._plan_policies(config, partition, account_id)
            plan_role = self._github_role("plan-role", github.plan_role_name, f"plans {where} (read-only)",
                                          plan_trust_policy(provider_arn=provider_arn, repository=github.repository,
                                                            branch=github.plan_branch),
                                          github.repository)
            _attach(self, "plan-attachment", plan_role.name, self.plan_policies)
            self.plan_role_arn = plan_role.arn
            TerraformOutput(scope, "github_plan_role_arn", value=plan_role.arn,
                            description="Set as the repository variable AWS_PLAN_ROLE_ARN")

        _attach(self, "attachment", self.role_name, self.policies)
        TerraformOutput(scope, "github_deploy_role_arn", value=self.role_arn,
                        description="Set as the variable AWS_DEPLOY_ROLE_ARN (the apply role)")
        if config.state.backend == "hcp":
            self._hcp_access(scope, config, partition, account_id)

    def _github_role(self, construct_id: str, name: str, purpose: str, trust: str, repository: str) -> IamRole:
        """A role that workflows of `repository` assume (`purpose`: what their runs do)."""
        return IamRole(self, construct_id, name=name, description=f"GitHub Actions of {repository}: {purpose}",
                       assume_role_policy=trust, max_session_duration=3600)

    def _github_provider_arn(self, create: bool) -> str:
        if create:
            # No thumbprints: IAM trusts GitHub's OIDC endpoint through its own CA library.
            return IamOpenidConnectProvider(
                self, "oidc-provider", url=GITHUB_OIDC_URL, client_id_list=[GITHUB_OIDC_AUDIENCE]).arn
        return DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=GITHUB_OIDC_URL).arn

    def _plan_policies(self, config: Config, partition: str, account_id: str) -> list[IamPolicy]:
        if not self.plan_policies:
            self.plan_policies = _packed_policies(
                self, "plan-policy", config.github.plan_policy_name,
                f"Read-only plan of {config.project} {config.environment}",
                plan_policy_statements(config, partition=partition, account_id=account_id),
                plan_policy_statements(config, partition=SIZING_PARTITION, account_id=SIZING_ACCOUNT_ID))
        return self.plan_policies

    def _hcp_access(self, scope: Construct, config: Config, partition: str, account_id: str) -> None:
        """HCP Terraform dynamic provider credentials: its OIDC provider and a role per run phase."""
        state, github = config.state, config.github
        url = f"https://{state.hcp_hostname}"
        if state.hcp_create_oidc_provider:
            provider_arn = IamOpenidConnectProvider(
                self, "hcp-oidc-provider", url=url, client_id_list=[HCP_OIDC_AUDIENCE]).arn
        else:
            provider_arn = DataAwsIamOpenidConnectProvider(self, "hcp-oidc-provider", url=url).arn
        phases = {"plan": (github.plan_role_name, self._plan_policies(config, partition, account_id)),
                  "apply": (github.deploy_role_name, self.policies)}
        for phase, (github_role, policies) in phases.items():
            role = IamRole(
                self, f"hcp-{phase}-role", name=hcp_role_name(github_role),
                description=f"HCP Terraform {phase} runs of {state.hcp_organization}/{state.hcp_project}: "
                            f"{config.project} {config.environment}",
                assume_role_policy=hcp_trust_policy(provider_arn=provider_arn, config=config, run_phase=phase),
                max_session_duration=3600,
            )
            _attach(self, f"hcp-{phase}-attachment", role.name, policies)
            TerraformOutput(scope, f"hcp_{phase}_role_arn", value=role.arn,
                            description=f"Set as the workspace variable TFC_AWS_{phase.upper()}_ROLE_ARN")
