"""What Terraform needs from IAM for each resource and data source type the app uses.

The seed's deploy failed half-way because the GitHub Actions role lacked DynamoDB
actions that only showed up at apply time. This table writes those needs down, per
Terraform type, from the terraform-provider-aws (hashicorp/aws 5.100.0) source and
the AWS Service Authorization Reference: the API calls its create, read (refresh,
also during plan), update, tagging and delete functions make, as IAM actions.

`tests/test_deploy_permissions.py` synthesizes the app, collects every type of every
stack, and checks each against this table and the deploy policy that 00-bootstrap
writes (`components/github_deploy_access.py`). That policy is written by hand,
grouped by service and scoped to this project's resources; it is never generated
from this table, so the check compares two independent statements of the need.

A new type fails the check until it has an entry here, and then until the policy
grants its actions.

Granting an action is not enough when the policy scopes it: `NAMED_SCOPES` gives the
ARN of each resource whose name the stack sets (a log group, a bucket, a role, ...) and
`ROLE_PASSES` the roles a resource hands to a service, so the test can also evaluate
the policy (resources and conditions included) for the very ARNs the stacks create.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.helpers import as_list

DATA_PREFIX = "data."
"""Data sources are keyed `data.<type>`, resources `<type>` (as Terraform addresses them)."""


@dataclass(frozen=True)
class Needs:
    """IAM actions per lifecycle step of one Terraform type (service:Action, exact names)."""

    create: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    """Refresh: runs on every plan, so a missing read action fails even `terraform plan`."""
    update: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    """Tagging on create (IAM authorizes tags in a create call separately) and on change."""
    delete: tuple[str, ...] = ()
    note: str = ""

    @property
    def actions(self) -> frozenset[str]:
        return frozenset((*self.create, *self.read, *self.update, *self.tag, *self.delete))


# Reused groups (each still written out in full where used below, through these names).
_EC2_TAGS = ("ec2:CreateTags", "ec2:DeleteTags")
_ELB_TAGS = ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
             "elasticloadbalancing:DescribeTags")
_ECS_TAGS = ("ecs:TagResource", "ecs:UntagResource")
_EFS_TAGS = ("elasticfilesystem:TagResource", "elasticfilesystem:UntagResource",
             "elasticfilesystem:ListTagsForResource")
_CLOUD_MAP_TAGS = ("servicediscovery:TagResource", "servicediscovery:UntagResource",
                   "servicediscovery:ListTagsForResource")
_S3_BUCKET_READ = (
    # aws_s3_bucket's read refreshes every bucket sub-configuration it still exposes.
    "s3:ListBucket",  # HeadBucket
    "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
    "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
    "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging",
)

REQUIRED_ACTIONS: Mapping[str, Needs] = {
    # --- S3 ------------------------------------------------------------------
    "aws_s3_bucket": Needs(
        create=("s3:CreateBucket",), read=_S3_BUCKET_READ,
        tag=("s3:PutBucketTagging",), delete=("s3:DeleteBucket",)),
    "aws_s3_bucket_logging": Needs(
        create=("s3:PutBucketLogging",), read=("s3:GetBucketLogging",),
        note="delete is PutBucketLogging with an empty status; the target bucket's own policy "
             "admits logging.s3.amazonaws.com"),
    "aws_s3_bucket_versioning": Needs(
        create=("s3:PutBucketVersioning",), read=("s3:GetBucketVersioning",),
        note="delete suspends versioning: PutBucketVersioning again"),
    "aws_s3_bucket_server_side_encryption_configuration": Needs(
        create=("s3:PutEncryptionConfiguration",), read=("s3:GetEncryptionConfiguration",),
        note="DeleteBucketEncryption is authorized as s3:PutEncryptionConfiguration"),
    "aws_s3_bucket_public_access_block": Needs(
        create=("s3:PutBucketPublicAccessBlock",), read=("s3:GetBucketPublicAccessBlock",),
        note="DeletePublicAccessBlock is authorized as s3:PutBucketPublicAccessBlock"),
    "aws_s3_bucket_ownership_controls": Needs(
        create=("s3:PutBucketOwnershipControls",), read=("s3:GetBucketOwnershipControls",),
        note="DeleteBucketOwnershipControls is authorized as s3:PutBucketOwnershipControls"),
    "aws_s3_bucket_policy": Needs(
        create=("s3:PutBucketPolicy",), read=("s3:GetBucketPolicy",),
        delete=("s3:DeleteBucketPolicy",)),
    "aws_s3_bucket_lifecycle_configuration": Needs(
        create=("s3:PutLifecycleConfiguration",), read=("s3:GetLifecycleConfiguration",),
        note="DeleteBucketLifecycle is authorized as s3:PutLifecycleConfiguration"),
    # --- DynamoDB (the lock table: what the seed added by hand) -------------
    "aws_dynamodb_table": Needs(
        create=("dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTimeToLive"),
        read=("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
              "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource",
              "kms:DescribeKey"),  # resolves the aws/dynamodb default key to compare SSE settings
        update=("dynamodb:UpdateTable",),
        tag=("dynamodb:TagResource", "dynamodb:UntagResource"),
        delete=("dynamodb:DeleteTable",)),
    # --- IAM -----------------------------------------------------------------
    "aws_iam_openid_connect_provider": Needs(
        create=("iam:CreateOpenIDConnectProvider",), read=("iam:GetOpenIDConnectProvider",),
        update=("iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
                "iam:RemoveClientIDFromOpenIDConnectProvider"),
        tag=("iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider"),
        delete=("iam:DeleteOpenIDConnectProvider",)),
    "aws_iam_role": Needs(
        create=("iam:CreateRole",),
        read=("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"),
        update=("iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy"),
        tag=("iam:TagRole", "iam:UntagRole"),
        delete=("iam:DeleteRole", "iam:ListInstanceProfilesForRole")),
    "aws_iam_role_policy": Needs(
        create=("iam:PutRolePolicy",), read=("iam:GetRolePolicy",), delete=("iam:DeleteRolePolicy",)),
    "aws_iam_policy": Needs(
        create=("iam:CreatePolicy",),
        read=("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"),
        update=("iam:CreatePolicyVersion", "iam:ListPolicyVersions", "iam:DeletePolicyVersion"),
        tag=("iam:TagPolicy", "iam:UntagPolicy"),
        delete=("iam:DeletePolicy",)),
    "aws_iam_role_policy_attachment": Needs(
        create=("iam:AttachRolePolicy",), read=("iam:ListAttachedRolePolicies",),
        delete=("iam:DetachRolePolicy",)),
    # --- EC2 / VPC -----------------------------------------------------------
    "aws_vpc": Needs(
        create=("ec2:CreateVpc", "ec2:ModifyVpcAttribute"),
        read=("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSecurityGroups",
              "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls"),  # default SG, main route table, default ACL
        tag=_EC2_TAGS, delete=("ec2:DeleteVpc",)),
    "aws_subnet": Needs(
        create=("ec2:CreateSubnet", "ec2:ModifySubnetAttribute"), read=("ec2:DescribeSubnets",),
        tag=_EC2_TAGS,
        delete=("ec2:DeleteSubnet", "ec2:DescribeNetworkInterfaces")),  # waits out lingering ENIs
    "aws_internet_gateway": Needs(
        create=("ec2:CreateInternetGateway", "ec2:AttachInternetGateway"),
        read=("ec2:DescribeInternetGateways",), tag=_EC2_TAGS,
        delete=("ec2:DetachInternetGateway", "ec2:DeleteInternetGateway")),
    "aws_eip": Needs(
        create=("ec2:AllocateAddress",), read=("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"),
        tag=_EC2_TAGS, delete=("ec2:DisassociateAddress", "ec2:ReleaseAddress")),
    "aws_nat_gateway": Needs(
        create=("ec2:CreateNatGateway",), read=("ec2:DescribeNatGateways",), tag=_EC2_TAGS,
        delete=("ec2:DeleteNatGateway",)),
    "aws_route_table": Needs(
        create=("ec2:CreateRouteTable",), read=("ec2:DescribeRouteTables",), tag=_EC2_TAGS,
        delete=("ec2:DeleteRouteTable",)),
    "aws_route": Needs(
        create=("ec2:CreateRoute",), read=("ec2:DescribeRouteTables",), update=("ec2:ReplaceRoute",),
        delete=("ec2:DeleteRoute",)),
    "aws_route_table_association": Needs(
        create=("ec2:AssociateRouteTable",), read=("ec2:DescribeRouteTables",),
        update=("ec2:ReplaceRouteTableAssociation",), delete=("ec2:DisassociateRouteTable",)),
    "aws_vpc_endpoint": Needs(
        create=("ec2:CreateVpcEndpoint",),
        read=("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),  # a gateway endpoint's prefix list
        update=("ec2:ModifyVpcEndpoint",), tag=_EC2_TAGS, delete=("ec2:DeleteVpcEndpoints",)),
    "aws_default_security_group": Needs(
        read=("ec2:DescribeSecurityGroups",),
        update=("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"),
        tag=_EC2_TAGS, note="adopts the VPC's default group; delete only forgets it"),
    "aws_security_group": Needs(
        create=("ec2:CreateSecurityGroup",
                "ec2:RevokeSecurityGroupEgress"),  # drops AWS's default allow-all egress rule
        read=("ec2:DescribeSecurityGroups",), tag=_EC2_TAGS,
        delete=("ec2:DeleteSecurityGroup", "ec2:DescribeNetworkInterfaces")),
    "aws_vpc_security_group_ingress_rule": Needs(
        create=("ec2:AuthorizeSecurityGroupIngress",), read=("ec2:DescribeSecurityGroupRules",),
        update=("ec2:ModifySecurityGroupRules",), tag=_EC2_TAGS,
        delete=("ec2:RevokeSecurityGroupIngress",)),
    "aws_vpc_security_group_egress_rule": Needs(
        create=("ec2:AuthorizeSecurityGroupEgress",), read=("ec2:DescribeSecurityGroupRules",),
        update=("ec2:ModifySecurityGroupRules",), tag=_EC2_TAGS,
        delete=("ec2:RevokeSecurityGroupEgress",)),
    "aws_flow_log": Needs(
        create=("ec2:CreateFlowLogs", "iam:PassRole"), read=("ec2:DescribeFlowLogs",), tag=_EC2_TAGS,
        delete=("ec2:DeleteFlowLogs",)),
    # --- EFS -----------------------------------------------------------------
    "aws_efs_file_system": Needs(
        create=("elasticfilesystem:CreateFileSystem", "elasticfilesystem:PutLifecycleConfiguration",
                "iam:CreateServiceLinkedRole"),  # AWSServiceRoleForAmazonElasticFileSystem, once per account
        read=("elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeLifecycleConfiguration"),
        update=("elasticfilesystem:UpdateFileSystem",), tag=_EFS_TAGS,
        delete=("elasticfilesystem:DeleteFileSystem",)),
    "aws_efs_mount_target": Needs(
        # EFS creates the mount target's network interface with the caller's permissions.
        create=("elasticfilesystem:CreateMountTarget", "ec2:DescribeSubnets",
                "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface"),
        read=("elasticfilesystem:DescribeMountTargets", "elasticfilesystem:DescribeMountTargetSecurityGroups",
              "ec2:DescribeNetworkInterfaceAttribute"),
        update=("elasticfilesystem:ModifyMountTargetSecurityGroups", "ec2:ModifyNetworkInterfaceAttribute"),
        delete=("elasticfilesystem:DeleteMountTarget", "ec2:DeleteNetworkInterface")),
    "aws_efs_access_point": Needs(
        create=("elasticfilesystem:CreateAccessPoint",), read=("elasticfilesystem:DescribeAccessPoints",),
        tag=_EFS_TAGS, delete=("elasticfilesystem:DeleteAccessPoint",)),
    "aws_efs_backup_policy": Needs(
        create=("elasticfilesystem:PutBackupPolicy",
                "iam:CreateServiceLinkedRole"),  # AWSServiceRoleForBackup, if the account has none yet
        read=("elasticfilesystem:DescribeBackupPolicy",)),
    "aws_efs_file_system_policy": Needs(
        create=("elasticfilesystem:PutFileSystemPolicy",), read=("elasticfilesystem:DescribeFileSystemPolicy",),
        delete=("elasticfilesystem:DeleteFileSystemPolicy",)),
    # --- Elastic Load Balancing ---------------------------------------------
    "aws_lb": Needs(
        create=("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "iam:CreateServiceLinkedRole"),  # AWSServiceRoleForElasticLoadBalancing, once per account
        # The read also fetches the capacity reservation (found by the e2e plan under the plan role).
        read=("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
              "elasticloadbalancing:DescribeCapacityReservation"),
        update=("elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:SetIpAddressType"),
        tag=_ELB_TAGS,
        delete=("elasticloadbalancing:DeleteLoadBalancer", "ec2:DescribeNetworkInterfaces")),
    "aws_lb_target_group": Needs(
        create=("elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes"),
        read=("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes"),
        update=("elasticloadbalancing:ModifyTargetGroup",), tag=_ELB_TAGS,
        delete=("elasticloadbalancing:DeleteTargetGroup",)),
    "aws_wafv2_web_acl_association": Needs(
        create=("wafv2:AssociateWebACL", "elasticloadbalancing:SetWebAcl"),
        read=("wafv2:GetWebACLForResource",),
        delete=("wafv2:DisassociateWebACL", "elasticloadbalancing:SetWebAcl")),
    "aws_lb_listener": Needs(
        create=("elasticloadbalancing:CreateListener",),
        read=("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes"),
        update=("elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes"),
        tag=_ELB_TAGS, delete=("elasticloadbalancing:DeleteListener",)),
    "aws_lb_listener_rule": Needs(
        create=("elasticloadbalancing:CreateRule",), read=("elasticloadbalancing:DescribeRules",),
        update=("elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"),
        tag=_ELB_TAGS, delete=("elasticloadbalancing:DeleteRule",)),
    # --- ECS -----------------------------------------------------------------
    "aws_ecs_cluster": Needs(
        create=("ecs:CreateCluster",), read=("ecs:DescribeClusters",),
        update=("ecs:UpdateCluster", "ecs:UpdateClusterSettings"), tag=_ECS_TAGS,
        delete=("ecs:DeleteCluster",)),
    "aws_ecs_cluster_capacity_providers": Needs(
        create=("ecs:PutClusterCapacityProviders",), read=("ecs:DescribeClusters",),
        note="delete puts an empty capacity provider list"),
    "aws_ecs_task_definition": Needs(
        create=("ecs:RegisterTaskDefinition", "iam:PassRole"),  # the task and execution roles
        read=("ecs:DescribeTaskDefinition",), tag=_ECS_TAGS,
        delete=("ecs:DeregisterTaskDefinition",)),
    "aws_ecs_service": Needs(
        create=("ecs:CreateService", "iam:CreateServiceLinkedRole"),  # AWSServiceRoleForECS, once per account
        read=("ecs:DescribeServices",), update=("ecs:UpdateService",), tag=_ECS_TAGS,
        delete=("ecs:DeleteService",), note="delete first scales the service to zero (UpdateService)"),
    # --- Cloud Map -------------------------------------------------------------
    "aws_service_discovery_private_dns_namespace": Needs(
        # Cloud Map creates the private hosted zone with the caller's permissions.
        create=("servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:GetOperation",
                "route53:CreateHostedZone", "route53:GetHostedZone", "route53:ListHostedZonesByName",
                "ec2:DescribeVpcs", "ec2:DescribeRegions"),
        read=("servicediscovery:GetNamespace",),
        update=("servicediscovery:UpdatePrivateDnsNamespace",), tag=_CLOUD_MAP_TAGS,
        delete=("servicediscovery:DeleteNamespace", "route53:DeleteHostedZone")),
    "aws_service_discovery_service": Needs(
        create=("servicediscovery:CreateService",), read=("servicediscovery:GetService",),
        update=("servicediscovery:UpdateService",), tag=_CLOUD_MAP_TAGS,
        delete=("servicediscovery:DeleteService",)),
    # --- CloudWatch Logs, SSM, Secrets Manager ---------------------------------
    "aws_cloudwatch_log_group": Needs(
        create=("logs:CreateLogGroup", "logs:PutRetentionPolicy"),
        read=("logs:DescribeLogGroups", "logs:ListTagsForResource"),
        update=("logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey"),
        tag=("logs:TagResource", "logs:UntagResource"), delete=("logs:DeleteLogGroup",)),
    "aws_ssm_parameter": Needs(
        create=("ssm:PutParameter",),
        read=("ssm:GetParameter", "ssm:DescribeParameters", "ssm:ListTagsForResource"),
        tag=("ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"), delete=("ssm:DeleteParameter",)),
    # --- data sources --------------------------------------------------------
    "data.aws_caller_identity": Needs(note="sts:GetCallerIdentity needs no permission"),
    "data.aws_partition": Needs(note="computed by the provider, no API call"),
    "data.aws_iam_openid_connect_provider": Needs(
        read=("iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider")),  # looked up by URL
    "data.aws_vpc": Needs(read=("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute")),
    "data.aws_subnet": Needs(read=("ec2:DescribeSubnets",)),
    "data.aws_secretsmanager_random_password": Needs(read=("secretsmanager:GetRandomPassword",)),
    "data.terraform_remote_state": Needs(
        read=("s3:GetObject", "s3:ListBucket"),
        note="cdktf's cross-stack references read the other stack's state from the state bucket"),
}

BACKEND_ACTIONS: Mapping[str, tuple[str, ...]] = {
    # Terraform's S3 backend, for every stack (github.com/hashicorp/terraform, backend/remote-state/s3).
    "state objects": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    "state buckets": ("s3:ListBucket",),
    "lock table": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"),
}


@dataclass(frozen=True)
class Gap:
    """A required action no Allow statement of the deploy policy grants."""

    terraform_type: str
    action: str

    def __str__(self) -> str:
        return f"{self.terraform_type} needs {self.action}, which the deploy policy does not grant"


def stack_types(stack: Mapping[str, Any]) -> set[str]:
    """Every resource type (`aws_vpc`) and data source type (`data.aws_vpc`) in one stack's JSON."""
    return set(stack.get("resource", {})) | {DATA_PREFIX + t for t in stack.get("data", {})}


def unmapped_types(types: Iterable[str], table: Mapping[str, Needs] = REQUIRED_ACTIONS) -> list[str]:
    return sorted(t for t in set(types) if t not in table)


def allowed_action_patterns(policy_documents: Iterable[str | Mapping[str, Any]]) -> list[str]:
    """The Action patterns of every Allow statement (lower-cased: IAM actions ignore case)."""
    patterns: list[str] = []
    for document in policy_documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        statements = parsed["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if "NotAction" in statement:
                raise ValueError(f"statement {statement.get('Sid')!r} uses NotAction: grants cannot be checked")
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"]
            patterns.extend(a.lower() for a in as_list(actions))
    return patterns


def is_granted(action: str, patterns: Iterable[str]) -> bool:
    """Whether an action matches a policy Action pattern (`*` and `?` wildcards, as IAM does)."""
    return any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in patterns)


def missing_actions(types: Iterable[str], policy_documents: Iterable[str | Mapping[str, Any]],
                    table: Mapping[str, Needs] = REQUIRED_ACTIONS) -> list[Gap]:
    """Every (type, action) the table requires and no Allow statement grants.

    Types without an entry are reported by `unmapped_types`, not here.
    """
    patterns = allowed_action_patterns(policy_documents)
    return [Gap(t, action) for t in sorted(set(types)) if t in table
            for action in sorted(table[t].actions) if not is_granted(action, patterns)]


# --- scope: the ARNs the stacks' named resources will have ----------------------------

@dataclass(frozen=True)
class NamedScope:
    """A type whose ARN follows from a name set in the stack's JSON.

    `arn` is a template over {partition}, {region}, {account} and {name} (the value of
    `name_attribute`); `actions` are the ones IAM authorizes against that ARN.
    """

    name_attribute: str
    arn: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class RolePass:
    """A role ARN attribute that Terraform hands to an AWS service (iam:PassRole)."""

    attribute: str
    service: str


_REGIONAL = "arn:{partition}:%s:{region}:{account}:%s"
_ELB_ID = "0123456789abcdef"  # the random suffix AWS appends to ELB ARNs
NAMED_SCOPES: Mapping[str, NamedScope] = {
    "aws_s3_bucket": NamedScope("bucket", "arn:{partition}:s3:::{name}",
                                ("s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketTagging",
                                 "s3:PutBucketTagging", "s3:PutBucketPolicy")),
    "aws_dynamodb_table": NamedScope("name", _REGIONAL % ("dynamodb", "table/{name}"),
                                     ("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
                                      "dynamodb:TagResource", "dynamodb:UpdateContinuousBackups")),
    "aws_iam_role": NamedScope("name", "arn:{partition}:iam::{account}:role/{name}",
                               ("iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:TagRole",
                                "iam:PutRolePolicy", "iam:DeleteRolePolicy")),
    "aws_iam_policy": NamedScope("name", "arn:{partition}:iam::{account}:policy/{name}",
                                 ("iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy",
                                  "iam:CreatePolicyVersion", "iam:TagPolicy")),
    "aws_cloudwatch_log_group": NamedScope("name", _REGIONAL % ("logs", "log-group:{name}"),
                                           ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                                            "logs:TagResource", "logs:ListTagsForResource")),
    "aws_ssm_parameter": NamedScope("name", _REGIONAL % ("ssm", "parameter{name}"),
                                    ("ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter",
                                     "ssm:AddTagsToResource", "ssm:ListTagsForResource")),
    "aws_ecs_cluster": NamedScope("name", _REGIONAL % ("ecs", "cluster/{name}"),
                                  ("ecs:DescribeClusters", "ecs:UpdateCluster", "ecs:DeleteCluster",
                                   "ecs:TagResource")),
    "aws_ecs_task_definition": NamedScope("family", _REGIONAL % ("ecs", "task-definition/{name}:1"),
                                          ("ecs:TagResource",)),
    "aws_lb": NamedScope("name", _REGIONAL % ("elasticloadbalancing", "loadbalancer/app/{name}/" + _ELB_ID),
                         ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
                          "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:AddTags")),
    "aws_lb_target_group": NamedScope("name", _REGIONAL % ("elasticloadbalancing", "targetgroup/{name}/" + _ELB_ID),
                                      ("elasticloadbalancing:CreateTargetGroup",
                                       "elasticloadbalancing:DeleteTargetGroup",
                                       "elasticloadbalancing:ModifyTargetGroupAttributes",
                                       "elasticloadbalancing:AddTags")),
}

ROLE_PASSES: Mapping[str, tuple[RolePass, ...]] = {
    "aws_ecs_task_definition": (RolePass("execution_role_arn", "ecs-tasks.amazonaws.com"),
                                RolePass("task_role_arn", "ecs-tasks.amazonaws.com")),
    "aws_flow_log": (RolePass("iam_role_arn", "vpc-flow-logs.amazonaws.com"),),
}


@dataclass(frozen=True)
class ScopeGap:
    """An action the policy does not allow on the ARN a stack's resource will have."""

    address: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.address}: {self.action} on {self.resource} is not allowed by the deploy policy"


_CONDITION_MATCHERS = {
    "StringEquals": lambda actual, expected: actual == expected,
    "StringLike": fnmatch.fnmatchcase,
    "ArnEquals": lambda actual, expected: actual == expected,
    "ArnLike": fnmatch.fnmatchcase,
}


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    """IAM's reading: every operator and key must match; a key absent from the request fails."""
    for operator, keys in conditions.items():
        if operator not in _CONDITION_MATCHERS:
            raise ValueError(f"condition operator {operator} is not evaluated here: add it to _CONDITION_MATCHERS")
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None or not any(_CONDITION_MATCHERS[operator](actual, e) for e in as_list(expected)):
                return False
    return True


def _statement_matches(statement: Mapping[str, Any], action: str, resource: str,
                       context: Mapping[str, str]) -> bool:
    return (is_granted(action, [a.lower() for a in as_list(statement["Action"])])
            and any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"]))
            and _conditions_hold(statement.get("Condition", {}), context))


def policy_allows(policy_documents: Iterable[Mapping[str, Any]], action: str, resource: str,
                  context: Mapping[str, str]) -> bool:
    """Whether the documents allow `action` on `resource` in a request with `context` (no explicit deny)."""
    statements = [s for d in policy_documents for s in as_list(d["Statement"])]
    if any(s["Effect"] == "Deny" and _statement_matches(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _statement_matches(s, action, resource, context) for s in statements)


_ROLE_ARN = re.compile(r"^\$\{aws_iam_role\.(?P<id>[^.}]+)\.arn\}$")
_REMOTE_OUTPUT = re.compile(r"^\$\{data\.terraform_remote_state\.(?P<id>[^.}]+)\.outputs\.(?P<output>[^}]+)\}$")


def _role_name(reference: str, stack_id: str, stacks: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The role name behind a role ARN reference, following cdktf's cross-stack outputs."""
    stack = stacks[stack_id]
    if match := _ROLE_ARN.match(reference):
        return stack["resource"]["aws_iam_role"][match["id"]].get("name")
    if match := _REMOTE_OUTPUT.match(reference):
        key = stack["data"]["terraform_remote_state"][match["id"]]["config"]["key"]
        producer = next((sid for sid, s in stacks.items()
                         if s.get("terraform", {}).get("backend", {}).get("s3", {}).get("key") == key), None)
        if producer is not None and match["output"] in stacks[producer].get("output", {}):
            return _role_name(stacks[producer]["output"][match["output"]]["value"], producer, stacks)
    return None


def _request_context(stack: Mapping[str, Any], region: str) -> dict[str, str]:
    """What IAM sees when Terraform acts on this stack's resources: region and default tags."""
    context = {"aws:RequestedRegion": region}
    for provider in stack.get("provider", {}).get("aws", []):
        for default_tags in provider.get("default_tags", []):
            for key, value in default_tags.get("tags", {}).items():
                context[f"aws:ResourceTag/{key}"] = value
                context[f"aws:RequestTag/{key}"] = value
    return context


def scope_gaps(stacks: Mapping[str, Mapping[str, Any]], policy_documents: Iterable[Mapping[str, Any]], *,
               partition: str, region: str, account_id: str,
               scopes: Mapping[str, NamedScope] = NAMED_SCOPES,
               passes: Mapping[str, tuple[RolePass, ...]] = ROLE_PASSES) -> tuple[list[ScopeGap], list[str]]:
    """Evaluate the policy for every named resource, role pass and remote state read of the app.

    Returns the gaps and the addresses that could not be checked (a name or role not
    known at synth), so a test can insist that list stays empty.
    """
    documents = list(policy_documents)
    gaps: list[ScopeGap] = []
    unresolved: list[str] = []
    for stack_id, stack in sorted(stacks.items()):
        context = _request_context(stack, region)
        for terraform_type, instances in sorted(stack.get("resource", {}).items()):
            for logical_id, config in sorted(instances.items()):
                address = f"{stack_id}: {terraform_type}.{logical_id}"
                scope = scopes.get(terraform_type)
                if scope is not None:
                    name = config.get(scope.name_attribute)
                    if not isinstance(name, str) or "${" in name:
                        unresolved.append(address)
                    else:
                        arn = scope.arn.format(partition=partition, region=region, account=account_id, name=name)
                        gaps.extend(ScopeGap(address, action, arn) for action in scope.actions
                                    if not policy_allows(documents, action, arn, context))
                for role_pass in passes.get(terraform_type, ()):
                    reference = config.get(role_pass.attribute)
                    if reference is None:
                        continue
                    role = _role_name(reference, stack_id, stacks)
                    if role is None or "${" in role:
                        unresolved.append(f"{address}.{role_pass.attribute}")
                        continue
                    arn = f"arn:{partition}:iam::{account_id}:role/{role}"
                    if not policy_allows(documents, "iam:PassRole", arn,
                                         {**context, "iam:PassedToService": role_pass.service}):
                        gaps.append(ScopeGap(f"{address}.{role_pass.attribute}", "iam:PassRole", arn))
        for logical_id, remote in sorted(stack.get("data", {}).get("terraform_remote_state", {}).items()):
            bucket, key = remote["config"]["bucket"], remote["config"]["key"]
            address = f"{stack_id}: data.terraform_remote_state.{logical_id}"
            for action, arn in (("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}"),
                                ("s3:ListBucket", f"arn:{partition}:s3:::{bucket}")):
                if not policy_allows(documents, action, arn, context):
                    gaps.append(ScopeGap(address, action, arn))
    return gaps, unresolved
