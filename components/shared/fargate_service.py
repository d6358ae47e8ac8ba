"""One ECS service of 60-ecs: its log group, task definition, Cloud Map entry and service.

The counterpart of terraform-aws-ecs's `modules/service`: 60-ecs builds the cluster and the
namespace once and composes one `FargateService` per `Config.services` entry. Each resource
keeps the Terraform name it had when 60-ecs created it directly (`log-group-<service>`,
`task-<service>`, `discovery-<service>`, `service-<service>`): those addresses are in every
existing state file (tests/addresses/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResource
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
    EcsServiceServiceRegistries,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
    EcsTaskDefinitionVolumeEfsVolumeConfiguration,
    EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig,
)
from cdktf_cdktf_provider_aws.service_discovery_service import (
    ServiceDiscoveryService,
    ServiceDiscoveryServiceDnsConfig,
    ServiceDiscoveryServiceDnsConfigDnsRecords,
    ServiceDiscoveryServiceHealthCheckCustomConfig,
)
from constructs import Construct

from components.service_configs import RENDERERS
from components.service_configs.common import TaskContext
from components.shared.container_definitions import (
    CONFIG_VOLUME,
    container_definitions,
    container_for_port,
    efs_volume_name,
    scratch_dirs,
    scratch_volume_name,
)
from components.shared.json_document import json_document
from config.common import Config, ServiceConfig

DNS_TTL_SECONDS = 10


@dataclass(frozen=True)
class ServicePlacement:
    """What the earlier stacks and 60-ecs's shared resources give every service."""

    cluster_arn: str
    namespace_id: str
    capacity_provider: str
    capacity_providers: ITerraformDependable
    """The cluster's capacity providers: a service can only start once they are attached."""
    subnet_ids: Sequence[str]
    security_group_id: str
    execution_role_arn: str
    task_role_arns: dict[str, str]
    file_system_id: str
    access_point_ids: dict[str, str]
    target_group_arns: dict[str, str]


def keep_address(resource: TerraformResource, name: str) -> TerraformResource:
    """Give a resource inside this construct the Terraform name it had at the stack's top level."""
    resource.override_logical_id(name)
    return resource


class FargateService(Construct):
    """Exposes `log_group`, `task_definition`, `discovery` and `service` for the stack's outputs."""

    def __init__(self, scope: Construct, svc: ServiceConfig, *, config: Config,
                 placement: ServicePlacement, task: TaskContext) -> None:
        super().__init__(scope, svc.name)
        self.log_group = CloudwatchLogGroup(
            self, "log-group", name=config.log_group(svc.name),
            retention_in_days=config.ecs.log_retention_days, kms_key_id=config.ecs.log_kms_key_arn,
        )
        keep_address(self.log_group, f"log-group-{svc.name}")
        settings = RENDERERS[svc.service_kind].task_settings(config, task)
        self.definitions = container_definitions(config, svc, log_group=self.log_group.name, settings=settings)
        self.task_definition = self._task_definition(config, svc, placement)
        self.discovery = self._discovery(svc, placement)
        self.service = self._service(config, svc, placement)

    def _volumes(self, svc: ServiceConfig, placement: ServicePlacement) -> list[EcsTaskDefinitionVolume]:
        volumes = [EcsTaskDefinitionVolume(name=CONFIG_VOLUME)]
        volumes.extend(EcsTaskDefinitionVolume(name=scratch_volume_name(path)) for path in scratch_dirs(svc))
        if svc.efs is not None:
            volumes.append(EcsTaskDefinitionVolume(
                name=efs_volume_name(svc),
                efs_volume_configuration=EcsTaskDefinitionVolumeEfsVolumeConfiguration(
                    file_system_id=placement.file_system_id,
                    transit_encryption="ENABLED",
                    authorization_config=EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig(
                        access_point_id=placement.access_point_ids[svc.name], iam="ENABLED"),
                ),
            ))
        return volumes

    def _task_definition(self, config: Config, svc: ServiceConfig,
                         placement: ServicePlacement) -> EcsTaskDefinition:
        task_definition = EcsTaskDefinition(
            self, "task",
            family=config.resource_name(svc.name),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(svc.cpu),
            memory=str(svc.memory),
            execution_role_arn=placement.execution_role_arn,
            task_role_arn=placement.task_role_arns[svc.name],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"),
            volume=self._volumes(svc, placement),
            container_definitions=json_document(self.definitions),
        )
        keep_address(task_definition, f"task-{svc.name}")
        return task_definition

    def _discovery(self, svc: ServiceConfig, placement: ServicePlacement) -> ServiceDiscoveryService:
        discovery = ServiceDiscoveryService(
            self, "discovery", name=svc.name,
            dns_config=ServiceDiscoveryServiceDnsConfig(
                namespace_id=placement.namespace_id, routing_policy="MULTIVALUE",
                dns_records=[ServiceDiscoveryServiceDnsConfigDnsRecords(ttl=DNS_TTL_SECONDS, type="A")]),
            # ECS reports task health to Cloud Map, so unhealthy tasks leave DNS.
            health_check_custom_config=ServiceDiscoveryServiceHealthCheckCustomConfig(failure_threshold=1),
        )
        keep_address(discovery, f"discovery-{svc.name}")
        return discovery

    def _load_balancers(self, svc: ServiceConfig, placement: ServicePlacement) -> list[EcsServiceLoadBalancer]:
        return [EcsServiceLoadBalancer(target_group_arn=placement.target_group_arns[target.name],
                                       container_name=container_for_port(self.definitions, target.port),
                                       container_port=target.port)
                for target in svc.targets]

    def _service(self, config: Config, svc: ServiceConfig, placement: ServicePlacement) -> EcsService:
        load_balancers = self._load_balancers(svc, placement)
        service = EcsService(
            self, "service",
            name=svc.name,
            cluster=placement.cluster_arn,
            task_definition=self.task_definition.arn,
            desired_count=svc.desired_count,
            capacity_provider_strategy=[EcsServiceCapacityProviderStrategy(
                capacity_provider=placement.capacity_provider, weight=1)],
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(placement.subnet_ids),
                security_groups=[placement.security_group_id],
                assign_public_ip=False,
            ),
            service_registries=EcsServiceServiceRegistries(registry_arn=self.discovery.arn),
            load_balancer=load_balancers or None,
            health_check_grace_period_seconds=config.ecs.health_check_grace_period_seconds
            if load_balancers else None,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # A stateful single replica stops before its replacement starts: two tasks
            # never share its data directory (or its ring identity).
            deployment_minimum_healthy_percent=0 if svc.stateful else 100,
            deployment_maximum_percent=100 if svc.stateful else 200,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            depends_on=[placement.capacity_providers],
        )
        keep_address(service, f"service-{svc.name}")
        return service


