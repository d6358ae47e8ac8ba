"""20-storage: the backends' object storage and the EFS file system for on-disk state.

- One `SecureBucket` per service with `object_storage=True` in config (Mimir, Loki,
  Tempo, Pyroscope by default), named `Config.data_bucket(name)`: encrypted, private,
  TLS-only, versioned (old versions expire after
  `StorageConfig.noncurrent_version_expiration_days`). Current objects never expire
  by age: each backend's compactor enforces `Config.retention` and its index with it.
  Mimir keeps blocks, ruler and alertmanager storage under `StorageConfig.mimir_prefixes`.
- An encrypted EFS file system with a mount target in every private subnet, guarded
  by the EFS security group (its NFS ingress from the ECS group is added by
  30-security-groups, keeping the stack order 20 -> 30 acyclic), and one access
  point per service with `efs` in config, with that service's POSIX user and root.

Interface: `buckets`, `file_system_id`, `file_system_arn`, `access_point_ids`,
`access_point_arns`, `efs_security_group_id`.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.efs_access_point import (
    EfsAccessPoint,
    EfsAccessPointPosixUser,
    EfsAccessPointRootDirectory,
    EfsAccessPointRootDirectoryCreationInfo,
)
from cdktf_cdktf_provider_aws.efs_backup_policy import EfsBackupPolicy, EfsBackupPolicyBackupPolicy
from cdktf_cdktf_provider_aws.efs_file_system import EfsFileSystem, EfsFileSystemLifecyclePolicy
from cdktf_cdktf_provider_aws.efs_file_system_policy import EfsFileSystemPolicy
from cdktf_cdktf_provider_aws.efs_mount_target import EfsMountTarget
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from components.network import NetworkStack
from components.shared.policy import policy_document
from components.shared.secure_bucket import SecureBucket
from components.shared.stack import LgtmStack
from config.common import Config, ServiceConfig


def efs_tls_only_policy(file_system_arn: str) -> str:
    """Refuse NFS clients that do not use TLS (ECS mounts with transit encryption).

    With a file-system policy in place, EFS no longer grants mounts to anonymous
    clients: tasks mount with IAM authorization and their task role's
    elasticfilesystem:ClientMount/ClientWrite (40-iam).
    """
    return policy_document([{
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "*",
        "Resource": file_system_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }])


class StorageStack(LgtmStack):
    buckets: dict[str, SecureBucket]
    file_system_id: str
    file_system_arn: str
    access_point_ids: dict[str, str]
    access_point_arns: dict[str, str]
    efs_security_group_id: str

    def __init__(self, scope: Construct, stack_id: str, *, config: Config, network: NetworkStack) -> None:
        super().__init__(scope, stack_id, config=config)
        self.buckets = {svc.name: self._data_bucket(svc) for svc in config.object_storage_services}
        self._file_system(network)

        for name, bucket in self.buckets.items():
            TerraformOutput(self, f"{name}_bucket", value=bucket.bucket)
        TerraformOutput(self, "file_system_id", value=self.file_system_id)
        TerraformOutput(self, "efs_security_group_id", value=self.efs_security_group_id)
        TerraformOutput(self, "access_point_ids", value=self.access_point_ids)

    def _data_bucket(self, svc: ServiceConfig) -> SecureBucket:
        storage = self.config.storage
        # No expiration of current objects: each backend's compactor enforces `Config.retention`
        # and keeps its index in step; an object-age rule would delete under a live index.
        return SecureBucket(
            self, f"{svc.name}-bucket",
            bucket_name=self.config.data_bucket(svc.name),
            noncurrent_version_expiration_days=storage.noncurrent_version_expiration_days,
            abort_incomplete_multipart_days=storage.abort_incomplete_multipart_days,
            kms_key_arn=storage.kms_key_arn,
            access_log_bucket=storage.access_log_bucket,
        )

    def _file_system(self, network: NetworkStack) -> None:
        cfg = self.config
        efs_group = SecurityGroup(
            self, "efs-security-group",
            name=cfg.resource_name("efs"),
            description="EFS mount targets: NFS from the ECS tasks only (rule in 30-security-groups)",
            vpc_id=network.vpc_id,
            tags={"Name": cfg.resource_name("efs")},
        )
        file_system = EfsFileSystem(
            self, "file-system",
            creation_token=cfg.resource_name("state"),
            encrypted=True,
            kms_key_id=cfg.storage.kms_key_arn,
            lifecycle_policy=[EfsFileSystemLifecyclePolicy(transition_to_ia=cfg.storage.efs_transition_to_ia)],
            tags={"Name": cfg.resource_name("state")},
        )
        # Grafana's database lives here: AWS Backup keeps daily recovery points.
        EfsBackupPolicy(self, "backup-policy", file_system_id=file_system.id,
                        backup_policy=EfsBackupPolicyBackupPolicy(status="ENABLED"))
        EfsFileSystemPolicy(self, "file-system-policy", file_system_id=file_system.id,
                            policy=efs_tls_only_policy(file_system.arn))
        for index, subnet_id in enumerate(network.private_subnet_ids):
            EfsMountTarget(self, f"mount-target-{index}", file_system_id=file_system.id,
                           subnet_id=subnet_id, security_groups=[efs_group.id])

        self.access_points: dict[str, EfsAccessPoint] = {}
        for svc in cfg.efs_services:
            volume = svc.efs
            assert volume is not None  # efs_services holds only services with a volume
            self.access_points[svc.name] = EfsAccessPoint(
                self, f"{svc.name}-access-point",
                file_system_id=file_system.id,
                # Every NFS operation through this access point runs as the service's user.
                posix_user=EfsAccessPointPosixUser(uid=volume.uid, gid=volume.gid),
                root_directory=EfsAccessPointRootDirectory(
                    path=volume.root_directory,
                    creation_info=EfsAccessPointRootDirectoryCreationInfo(
                        owner_uid=volume.uid, owner_gid=volume.gid, permissions=volume.permissions),
                ),
                tags={"Name": cfg.resource_name(svc.name), "Service": svc.name},
            )

        self.file_system_id = file_system.id
        self.file_system_arn = file_system.arn
        self.efs_security_group_id = efs_group.id
        self.access_point_ids = {name: ap.id for name, ap in self.access_points.items()}
        self.access_point_arns = {name: ap.arn for name, ap in self.access_points.items()}
