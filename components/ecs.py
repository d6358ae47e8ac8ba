"""60-ecs: the cluster, Cloud Map namespace and Grafana's admin password, and one service per
`Config.services` entry (`components/shared/fargate_service.py`; its containers are
`components/shared/container_definitions.py`).

Grafana keeps its state on its EFS access point (TLS in transit, IAM authorization) and
gets its admin password from an SSM SecureString through `secrets`, never `environment`.
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.service_discovery_private_dns_namespace import ServiceDiscoveryPrivateDnsNamespace
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from components.alb import AlbStack
from components.iam import IamStack
from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.service_configs.common import TaskContext
from components.shared.fargate_service import FargateService, ServicePlacement
from components.shared.stack import LgtmStack
from components.storage import StorageStack
from config.common import Config

ADMIN_PASSWORD_LENGTH = 32


def capacity_provider(cfg: Config) -> str:
    return "FARGATE_SPOT" if cfg.ecs.fargate_spot else "FARGATE"


class EcsStack(LgtmStack):
    """Exposes `cluster_name` and `services` (by service name) for outputs and tests."""

    cluster_name: str

    def __init__(self, scope: Construct, stack_id: str, *, config: Config, network: NetworkStack,
                 security_groups: SecurityGroupsStack, storage: StorageStack, iam: IamStack,
                 alb: AlbStack) -> None:
        super().__init__(scope, stack_id, config=config)
        provider = capacity_provider(config)
        self.cluster = EcsCluster(
            self, "cluster", name=config.cluster_name,
            setting=[EcsClusterSetting(name="containerInsights",
                                       value="enabled" if config.ecs.container_insights else "disabled")],
        )
        capacity = EcsClusterCapacityProviders(
            self, "capacity-providers", cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=provider, weight=1, base=0)],
        )
        self.namespace = ServiceDiscoveryPrivateDnsNamespace(
            self, "namespace", name=config.ecs.namespace, vpc=network.vpc_id,
            description=f"{config.resource_name('services')}: services reach each other as "
                        f"<name>.{config.ecs.namespace}",
        )
        self.grafana_admin_password = self._admin_password(config)
        placement = ServicePlacement(
            cluster_arn=self.cluster.arn, namespace_id=self.namespace.id,
            capacity_provider=provider, capacity_providers=capacity,
            subnet_ids=network.private_subnet_ids, security_group_id=security_groups.ecs_security_group_id,
            execution_role_arn=iam.execution_role_arn, task_role_arns=iam.task_role_arns,
            file_system_id=storage.file_system_id, access_point_ids=storage.access_point_ids,
            target_group_arns=alb.target_group_arns,
        )
        task = TaskContext(base_url=alb.base_url, admin_password_arn=self.grafana_admin_password.arn)
        self.services = {svc.name: FargateService(self, svc, config=config, placement=placement, task=task)
                         for svc in config.services}
        self.cluster_name = self.cluster.name
        TerraformOutput(self, "cluster_name", value=self.cluster.name)
        TerraformOutput(self, "grafana_admin_password_parameter", value=self.grafana_admin_password.name)

    def _admin_password(self, config: Config) -> SsmParameter:
        password = DataAwsSecretsmanagerRandomPassword(
            self, "grafana-admin-password-generator",
            password_length=ADMIN_PASSWORD_LENGTH, exclude_punctuation=True, require_each_included_type=True,
        )
        return SsmParameter(
            self, "grafana-admin-password",
            name=f"{config.ssm_prefix}/grafana/admin-password",
            type="SecureString",
            # None: the account's aws/ssm key; a customer-managed key when config names one.
            key_id=config.ecs.secrets_kms_key_arn,
            value=password.random_password,
            description="Grafana admin password (generated once; rotate by editing the parameter)",
            # The generator yields a new value on every plan: keep the first one.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )
