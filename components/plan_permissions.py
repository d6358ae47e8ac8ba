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

from config.common import Config

Statement = dict[str, Any]

LOCK_FILE_SUFFIX = ".tflock"
"""Terraform's S3-native lock file: `<state key>.tflock` (StateConfig.use_lockfile)."""


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


def _state_statements(config: Config, s3: Any, arn: Any) -> list[Statement]:
    state = config.state
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


def plan_policy_statements(config: Config, *, partition: str, account_id: str) -> list[Statement]:
    """What a plan of every stack needs. `partition`/`account_id` may be Terraform tokens."""
    cfg = config
    state = cfg.state
    region = cfg.aws_region

    def arn(service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:{partition}:{service}:{region if regional else ''}:{account_id}:{resource}"

    def s3(resource: str) -> str:
        return f"arn:{partition}:s3:::{resource}"

    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    managed_buckets = [state.state_bucket, *(cfg.data_bucket(svc.name) for svc in cfg.object_storage_services)]
    roles = [arn("iam", f"role/{cfg.resource_name('*')}", regional=False),
             *(arn("iam", f"role/{name}", regional=False) for name in plan_role_names(cfg))]
    policies = [arn("iam", f"policy/{cfg.github.deploy_policy_name}*", regional=False),
                arn("iam", f"policy/{cfg.github.plan_policy_name}*", regional=False)]
    hosts = ["token.actions.githubusercontent.com", *([state.hcp_hostname] if state.backend == "hcp" else [])]
    oidc_providers = [arn("iam", f"oidc-provider/{host}", regional=False) for host in hosts]
    flow_log_group = cfg.flow_log_group

    return [
        *_state_statements(cfg, s3, arn),
        {"Sid": "Buckets", "Effect": "Allow",
         "Action": ["s3:ListBucket", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
                    "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
                    "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
                    "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
                    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging",
                    "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock"],
         "Resource": [s3(name) for name in managed_buckets]},
        {"Sid": "LockTableConfig", "Effect": "Allow",
         "Action": ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
                    "dynamodb:ListTagsOfResource"],
         "Resource": arn("dynamodb", f"table/{state.lock_table}")},
        {"Sid": "KmsKeys", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": arn("kms", "key/*")},
        {"Sid": "Roles", "Effect": "Allow",
         "Action": ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
         "Resource": roles},
        {"Sid": "DeployPolicies", "Effect": "Allow",
         "Action": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"], "Resource": policies},
        {"Sid": "OidcProviders", "Effect": "Allow", "Action": "iam:GetOpenIDConnectProvider",
         "Resource": oidc_providers},
        # Listing has no resource-level permissions.
        {"Sid": "ListOidc", "Effect": "Allow", "Action": "iam:ListOpenIDConnectProviders", "Resource": "*"},
        # Describe calls have no resource-level permissions.
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
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies", "application-autoscaling:ListTagsForResource",
                    "cloudwatch:DescribeAlarms", "servicediscovery:GetNamespace", "servicediscovery:GetService",
                    "servicediscovery:ListTagsForResource"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "LogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": arn("logs", "log-group:*")},
        {"Sid": "ProjectLogGroups", "Effect": "Allow", "Action": "logs:ListTagsForResource",
         "Resource": [arn("logs", f"log-group:{cfg.log_group_prefix}*"), arn("logs", f"log-group:{flow_log_group}"),
                      arn("logs", f"log-group:{flow_log_group}:*")]},
        {"Sid": "Parameters", "Effect": "Allow", "Action": "ssm:DescribeParameters",
         "Resource": "*", "Condition": in_region},
        {"Sid": "ProjectParameters", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:ListTagsForResource"],
         "Resource": arn("ssm", f"parameter{cfg.ssm_prefix}/*")},
        # A data source the stacks evaluate at plan time; it returns a random string, changes nothing.
        {"Sid": "RandomPasswords", "Effect": "Allow", "Action": "secretsmanager:GetRandomPassword",
         "Resource": "*", "Condition": in_region},
    ]
