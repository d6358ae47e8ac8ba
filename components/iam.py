"""40-iam: the ECS task execution role and one least-privilege task role per service.

- Execution role (used by the ECS agent, not the app): pull images, write to this
  project's log groups (`Config.log_group(service)`) only, read SSM parameters and
  Secrets Manager secrets under `Config.ssm_prefix` only.
- Task roles (what the containers may do), one per `Config.services` entry:
  services with `object_storage` read and write their own bucket only (Mimir: only
  under its `StorageConfig.mimir_prefixes`); services with `efs` mount their own EFS
  access point only; the collector (Alloy) gets read-only ECS task discovery in
  this project's cluster and nothing else.
- Both trust `ecs-tasks.amazonaws.com` from this account only (`aws:SourceAccount`).

No data action is granted on resource `*`; `tests/test_iam.py` walks every statement.
Policies are JSON built here (tokens resolve inside the strings), so tests parse them.

Interface: `execution_role_arn`, `task_role_arns` (by service name).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from components.shared.policy import Statement, policy_document
from components.shared.stack import LgtmStack
from components.storage import StorageStack
from config.common import Config, ServiceConfig
from config.names import COLLECTOR_KIND, MIMIR, TEMPO

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
# Tempo tags the objects it writes (its documented S3 permissions include these).
EXTRA_OBJECT_ACTIONS: dict[str, tuple[str, ...]] = {TEMPO: ("s3:GetObjectTagging", "s3:PutObjectTagging")}
DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


class IamStack(LgtmStack):
    execution_role_arn: str
    task_role_arns: dict[str, str]

    def __init__(self, scope: Construct, stack_id: str, *, config: Config, storage: StorageStack) -> None:
        super().__init__(scope, stack_id, config=config)
        self.storage = storage
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self.partition = DataAwsPartition(self, "partition").partition

        self.execution_role = self._role(
            "execution-role", config.resource_name("task-execution"),
            "ECS agent for every lgtm task: image pulls, log delivery, SSM/Secrets Manager secrets",
            self._execution_statements())
        self.task_roles: dict[str, IamRole] = {
            svc.name: self._role(
                f"{svc.name}-task-role", config.resource_name(f"{svc.name}-task"),
                f"{svc.name} containers: only what {svc.name} itself uses",
                self._task_statements(svc))
            for svc in config.services
        }

        self.execution_role_arn = self.execution_role.arn
        self.task_role_arns = {name: role.arn for name, role in self.task_roles.items()}
        TerraformOutput(self, "execution_role_arn", value=self.execution_role_arn)
        TerraformOutput(self, "task_role_arns", value=self.task_role_arns)

    # ARNs of this account and region.
    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.config.aws_region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def _trust_policy(self) -> str:
        # aws:SourceAccount stops another account's ECS from assuming the role (confused deputy).
        return policy_document([{
            "Sid": "EcsTasksOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": ECS_TASKS_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": self.account_id},
                "ArnLike": {"aws:SourceArn": self._arn("ecs", "*")},
            },
        }])

    def _role(self, construct_id: str, name: str, description: str, statements: list[Statement]) -> IamRole:
        role = IamRole(self, construct_id, name=name, description=description,
                       assume_role_policy=self._trust_policy())
        if statements:
            IamRolePolicy(self, f"{construct_id}-policy", name=f"{name}-policy", role=role.id,
                          policy=policy_document(statements))
        return role

    def _execution_statements(self) -> list[Statement]:
        cfg = self.config
        log_groups = [cfg.log_group(svc.name) for svc in cfg.services]
        return [
            # GetAuthorizationToken has no resource-level permissions: AWS only accepts "*".
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "EcrPullFromThisAccount", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS),
             "Resource": self._arn("ecr", "repository/*")},
            {"Sid": "WriteThisProjectsLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [arn for group in log_groups for arn in (
                 self._arn("logs", f"log-group:{group}"),
                 self._arn("logs", f"log-group:{group}:log-stream:*"))]},
            {"Sid": "ReadThisProjectsParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
             "Resource": self._arn("ssm", f"parameter{cfg.ssm_prefix}/*")},
            {"Sid": "ReadThisProjectsSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": self._arn("secretsmanager", f"secret:{cfg.ssm_prefix}/*")},
            # A customer-managed key on the SecureStrings: the agent decrypts them, through SSM only.
            *([{"Sid": "DecryptThisProjectsSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": cfg.ecs.secrets_kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{cfg.aws_region}.amazonaws.com"}}}]
              if cfg.ecs.secrets_kms_key_arn else []),
        ]

    def _task_statements(self, svc: ServiceConfig) -> list[Statement]:
        statements: list[Statement] = []
        if svc.object_storage:
            statements.extend(self._bucket_statements(svc))
        if svc.efs is not None:
            statements.append({
                "Sid": "MountOwnAccessPoint", "Effect": "Allow",
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": self.storage.file_system_arn,
                "Condition": {"StringEquals": {
                    "elasticfilesystem:AccessPointArn": self.storage.access_point_arns[svc.name]}},
            })
        if svc.service_kind == COLLECTOR_KIND:
            cluster = self.config.cluster_name
            statements.extend([
                # ListTasks takes no resource ARN; the condition pins it to this cluster.
                {"Sid": "ListTasksInThisCluster", "Effect": "Allow", "Action": "ecs:ListTasks", "Resource": "*",
                 "Condition": {"ArnEquals": {"ecs:cluster": self._arn("ecs", f"cluster/{cluster}")}}},
                {"Sid": "DescribeTasksInThisCluster", "Effect": "Allow", "Action": "ecs:DescribeTasks",
                 "Resource": self._arn("ecs", f"task/{cluster}/*")},
            ])
        return statements

    def _bucket_statements(self, svc: ServiceConfig) -> list[Statement]:
        bucket_arn = self.storage.buckets[svc.name].arn
        if svc.name == MIMIR:
            # Blocks, ruler and alertmanager each under their own prefix (config, shared with 60-ecs).
            prefixes = self.config.storage.mimir_prefixes.as_dict().values()
            object_arns = [f"{bucket_arn}/{prefix}/*" for prefix in prefixes]
        else:
            object_arns = [f"{bucket_arn}/*"]
        statements: list[Statement] = [
            {"Sid": "ListOwnBucket", "Effect": "Allow", "Action": list(BUCKET_ACTIONS), "Resource": bucket_arn},
            {"Sid": "ReadWriteOwnObjects", "Effect": "Allow",
             "Action": [*OBJECT_ACTIONS, *EXTRA_OBJECT_ACTIONS.get(svc.name, ())], "Resource": object_arns},
        ]
        kms_key_arn = self.config.storage.kms_key_arn
        if kms_key_arn:
            # SSE-KMS objects: S3 calls KMS on the caller's behalf, for this bucket only.
            statements.append({
                "Sid": "UseDataKeyForOwnBucket", "Effect": "Allow", "Action": list(DATA_KEY_ACTIONS),
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{self.config.aws_region}.amazonaws.com"},
                              # The bucket ARN with S3 Bucket Keys (SecureBucket turns them on), else the object's.
                              "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]}},
            })
        return statements
