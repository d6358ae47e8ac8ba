"""The plan role's policy: read what the stacks refresh, take and release the state lock, no more.

A plan refreshes every resource and data source (`Needs.read` in
`tests/deploy_permissions.py`), reads its own and the other stacks' state objects and
writes and deletes only its lock: the DynamoDB lock item, or the `.tflock` file with
`StateConfig.use_lockfile`. It never writes a state object, and no statement here names an
action that creates, changes, tags or deletes anything. `tests/test_plan_permissions.py`
checks that against the table's mutating actions, and that every read the table lists is
granted (and allowed on the ARNs the stacks create).

Written by hand, like the deploy policy, and never generated from the table: the test then
compares two statements of the need. Reads are scoped where the service has resource-level
permissions and the name is ours (buckets, the lock table, roles, policies, log groups,
parameters); describe/list calls that have none are on `*`, limited to the region.
Object reads: only the state keys, never a data bucket's objects. SSM: `GetParameter` returns a
SecureString's value (the Grafana admin password) because the provider reads it with
decryption; it is scoped to this project's parameter path.
"""

from __future__ import annotations

from typing import Any

from components.shared.deploy_scope import DeployScope, hcp_role_name, plan_role_names
from config.common import Config

__all__ = ["LOCK_FILE_SUFFIX", "hcp_role_name", "plan_policy_statements", "plan_role_names"]

Statement = dict[str, Any]

LOCK_FILE_SUFFIX = ".tflock"
"""Terraform's S3-native lock file: `<state key>.tflock` (StateConfig.use_lockfile)."""


def _state_statements(at: DeployScope) -> list[Statement]:
    """Read every state object, write and delete only the lock."""
    state, s3, arn = at.state, at.s3, at.arn
    state_keys = [f"{state.state_bucket}/{state.state_key_prefix}/*/terraform.tfstate",
                  f"{state.bootstrap_bucket}/{state.bootstrap_state_key}"]
    return [
        {"Sid": "StateBuckets", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": [s3(state.state_bucket), s3(state.bootstrap_bucket)]},
        # Its own state and the states cross-stack references read; never written by a plan.
        {"Sid": "StateObjects", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": [s3(key) for key in state_keys]},
        # The S3-native lock: created at the start of a plan, deleted at its end.
        {"Sid": "LockFiles", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [s3(key + LOCK_FILE_SUFFIX) for key in state_keys]},
        # The DynamoDB lock: the lock item is put and deleted; the state's digest item is only read.
        {"Sid": "LockTable", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
         "Resource": arn("dynamodb", f"table/{state.lock_table}")},
    ]


def _configuration_reads(at: DeployScope) -> list[Statement]:
    """The buckets' and the lock table's configuration (never a data object), key metadata."""
    s3, arn = at.s3, at.arn
    return [
        {"Sid": "Buckets", "Effect": "Allow",
         "Action": ["s3:ListBucket", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
                    "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
                    "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
                    "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
                    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging",
                    "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock"],
         "Resource": [s3(name) for name in at.managed_buckets]},
        {"Sid": "LockTableConfig", "Effect": "Allow",
         "Action": ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
                    "dynamodb:ListTagsOfResource"],
         "Resource": arn("dynamodb", f"table/{at.state.lock_table}")},
        {"Sid": "KmsKeys", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": arn("kms", "key/*")},
    ]


def _iam_reads(at: DeployScope) -> list[Statement]:
    """This project's roles, the deploy roles and policies, the OIDC providers."""
    arn = at.arn
    return [
        {"Sid": "Roles", "Effect": "Allow",
         "Action": ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
         "Resource": [at.project_roles, *at.deploy_roles]},
        {"Sid": "DeployPolicies", "Effect": "Allow",
         "Action": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"], "Resource": at.deploy_policies},
        {"Sid": "OidcProviders", "Effect": "Allow", "Action": "iam:GetOpenIDConnectProvider",
         "Resource": [arn("iam", f"oidc-provider/{host}", regional=False) for host in at.oidc_hosts]},
        # Listing has no resource-level permissions.
        {"Sid": "ListOidc", "Effect": "Allow", "Action": "iam:ListOpenIDConnectProviders", "Resource": "*"},
    ]


def _describes(at: DeployScope) -> list[Statement]:
    """Describe calls have no resource-level permissions: on `*`, in this region."""
    in_region = at.in_region
    return [
        {"Sid": "Ec2", "Effect": "Allow",
         "Action": ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets",
                    "ec2:DescribeRouteTables", "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways",
                    "ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeNetworkAcls",
                    "ec2:DescribeNetworkInterfaceAttribute", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists",
                    "ec2:DescribeFlowLogs"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "Efs", "Effect": "Allow",
         "Action": ["elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeFileSystemPolicy",
                    "elasticfilesystem:DescribeBackupPolicy", "elasticfilesystem:DescribeLifecycleConfiguration",
                    "elasticfilesystem:DescribeMountTargets", "elasticfilesystem:DescribeMountTargetSecurityGroups",
                    "elasticfilesystem:DescribeAccessPoints", "elasticfilesystem:ListTagsForResource"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "Elb", "Effect": "Allow",
         "Action": ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DescribeCapacityReservation",
                    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
                    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes",
                    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags",
                    "wafv2:GetWebACLForResource"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "Ecs", "Effect": "Allow",
         "Action": ["ecs:DescribeClusters", "ecs:DescribeServices", "ecs:DescribeTaskDefinition",
                    "servicediscovery:GetNamespace", "servicediscovery:GetService",
                    "servicediscovery:ListTagsForResource"],
         "Resource": "*", "Condition": in_region},
    ]


def _logs_and_parameters(at: DeployScope) -> list[Statement]:
    """This project's log groups and SSM parameters; the random-password data source."""
    arn, flow_log_group = at.arn, at.flow_log_group
    return [
        {"Sid": "LogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": arn("logs", "log-group:*")},
        {"Sid": "ProjectLogGroups", "Effect": "Allow", "Action": "logs:ListTagsForResource",
         "Resource": [arn("logs", f"log-group:{at.cfg.log_group_prefix}*"), arn("logs", f"log-group:{flow_log_group}"),
                      arn("logs", f"log-group:{flow_log_group}:*")]},
        {"Sid": "Parameters", "Effect": "Allow", "Action": "ssm:DescribeParameters",
         "Resource": "*", "Condition": at.in_region},
        {"Sid": "ProjectParameters", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:ListTagsForResource"],
         "Resource": arn("ssm", f"parameter{at.cfg.ssm_prefix}/*")},
        # A data source the stacks evaluate at plan time; it returns a random string, changes nothing.
        {"Sid": "RandomPasswords", "Effect": "Allow", "Action": "secretsmanager:GetRandomPassword",
         "Resource": "*", "Condition": at.in_region},
    ]


def plan_policy_statements(config: Config, *, partition: str, account_id: str) -> list[Statement]:
    """What a plan of every stack needs. `partition`/`account_id` may be Terraform tokens."""
    at = DeployScope(config, partition, account_id)
    return [*_state_statements(at), *_configuration_reads(at), *_iam_reads(at), *_describes(at),
            *_logs_and_parameters(at)]
