"""60-ecs: the cluster, Cloud Map namespace, log groups, and one task definition + service per service.

Config without custom images: every task has a `config` volume. A non-essential init
container (`ecs.init_image`, busybox) decodes the files rendered by
`components.service_configs` (carried base64 in its environment) into the volume, and
copies its static busybox binary there too. The service container waits for it
(`dependsOn` SUCCESS), mounts the volume read-only at `CONFIG_MOUNT`, starts with its
rendered config, and health-checks its readiness path with that busybox: several
upstream images (Mimir, Loki, Tempo, Pyroscope) are distroless and have no shell,
curl or wget of their own, so a container health check would otherwise be impossible. The
init image's busybox is the static (musl) build: it must execute in images without a loader
(docs/runtime-facts.md).

A service with a `prefix_proxy` (Pyroscope) gets a third container, an nginx that serves it
under its public prefix (`components/service_configs/prefix_proxy.py`); the ALB target of that
port registers the proxy container (`container_for_port`).

Grafana keeps its state on its EFS access point (TLS in transit, IAM authorization) and
gets its admin password from an SSM SecureString through `secrets`, never `environment`.

Every container's root filesystem is read-only (`ServiceConfig.read_only_root_filesystem`).
What a service writes, /tmp and its renderer's `SCRATCH_DIRS`, are task scratch volumes
(Fargate ephemeral storage, like the container layer they replace); Fargate creates them
root-owned, so the init container (root, it exits before the service starts) makes /tmp
1777 and hands each data directory to `ServiceConfig.user`, the non-root user the service
container runs as (None keeps the image's user: Alloy's root).
"""

from __future__ import annotations

import base64
import json
import shlex
from typing import Any

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
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
from cdktf_cdktf_provider_aws.service_discovery_private_dns_namespace import ServiceDiscoveryPrivateDnsNamespace
from cdktf_cdktf_provider_aws.service_discovery_service import (
    ServiceDiscoveryService,
    ServiceDiscoveryServiceDnsConfig,
    ServiceDiscoveryServiceDnsConfigDnsRecords,
    ServiceDiscoveryServiceHealthCheckCustomConfig,
)
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from components.alb import AlbStack
from components.iam import IamStack
from components.network import NetworkStack
from components.security_groups import SecurityGroupsStack
from components.service_configs import RENDERERS, grafana, prefix_proxy
from components.service_configs.common import CONFIG_MOUNT, TOOLS_DIR, config_path
from components.shared.stack import LgtmStack
from components.storage import StorageStack
from config.common import Config, ServiceConfig

CONFIG_VOLUME = "config"
INIT_CONTAINER = "config-init"
INIT_MOUNT = "/config"
"""Where the init container sees the config volume (read-write, for it only)."""
TMP_DIR = "/tmp"
SCRATCH_MOUNT_ROOT = "/scratch"
"""Where the init container sees the task's scratch volumes, to hand them to the service's user."""
TMP_MODE = "1777"
DATA_DIR_MODE = "0750"
BUSYBOX_IN_VOLUME = f"{TOOLS_DIR}/busybox"
FILE_VARIABLE_PREFIX = "LGTM_FILE_"
ADMIN_PASSWORD_LENGTH = 32
# Container health checks: Mimir, Loki and Tempo report ready only after joining their
# rings, so failures during the first two minutes do not count.
HEALTH_CHECK_INTERVAL_SECONDS = 30
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTH_CHECK_RETRIES = 3
HEALTH_CHECK_START_PERIOD_SECONDS = 120
DNS_TTL_SECONDS = 10


def capacity_provider(cfg: Config) -> str:
    return "FARGATE_SPOT" if cfg.ecs.fargate_spot else "FARGATE"


def scratch_dirs(svc: ServiceConfig) -> list[str]:
    """Where the service container writes outside EFS: /tmp and its renderer's data directories.

    Each is a task scratch volume (Fargate ephemeral storage, as the container's own layer was),
    so the root filesystem can be read-only. A directory under /tmp lives on /tmp's volume.
    """
    dirs = [TMP_DIR]
    for path in RENDERERS[svc.service_kind].SCRATCH_DIRS:
        if not (path == TMP_DIR or path.startswith(f"{TMP_DIR}/")) and path not in dirs:
            dirs.append(path)
    return dirs


def scratch_volume_name(path: str) -> str:
    return "scratch-" + path.strip("/").replace("/", "-")


def scratch_init_mount(path: str) -> str:
    """Where the init container mounts the scratch volume of `path` (e.g. /scratch/var-tempo)."""
    return f"{SCRATCH_MOUNT_ROOT}/{scratch_volume_name(path).removeprefix('scratch-')}"


def scratch_steps(svc: ServiceConfig) -> list[str]:
    """Shell steps that hand the scratch volumes (root-owned on Fargate) to the service's user."""
    steps = []
    for path in scratch_dirs(svc):
        mount = scratch_init_mount(path)
        if path == TMP_DIR:
            steps.append(f"chmod {TMP_MODE} {mount}")
        elif svc.user is not None:
            steps.append(f"chown {svc.user} {mount}")
            steps.append(f"chmod {DATA_DIR_MODE} {mount}")
    return steps


def init_script(files: dict[str, str], *, scratch: list[str] | None = None) -> str:
    """The init container's shell script: decode each file from its variable, copy busybox,
    then run the `scratch` steps (see `scratch_steps`)."""
    steps = ["set -eu", f"mkdir -p {INIT_MOUNT}/{TOOLS_DIR}"]
    for index, filename in enumerate(sorted(files)):
        target = shlex.quote(f"{INIT_MOUNT}/{filename}")
        steps.append(f"mkdir -p \"$(dirname {target})\"")
        steps.append(f"printf '%s' \"${FILE_VARIABLE_PREFIX}{index}\" | base64 -d > {target}")
    # The upstream images without a shell get a static busybox for their health checks.
    steps.append(f"cp /bin/busybox {INIT_MOUNT}/{BUSYBOX_IN_VOLUME}")
    steps.append(f"chmod 0755 {INIT_MOUNT}/{BUSYBOX_IN_VOLUME}")
    steps.extend(scratch or [])
    return " && ".join(steps)


def init_environment(files: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": f"{FILE_VARIABLE_PREFIX}{index}",
             "value": base64.b64encode(files[filename].encode()).decode()}
            for index, filename in enumerate(sorted(files))]


def health_check_command(port: int, path: str) -> list[str]:
    url = f"http://127.0.0.1:{port}{path}"
    return ["CMD", f"{CONFIG_MOUNT}/{BUSYBOX_IN_VOLUME}", "wget", "-q", "-O", "/dev/null", url]


def health_check(port: int, path: str) -> dict[str, Any]:
    return {
        "command": health_check_command(port, path),
        "interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "timeout": HEALTH_CHECK_TIMEOUT_SECONDS,
        "retries": HEALTH_CHECK_RETRIES,
        "startPeriod": HEALTH_CHECK_START_PERIOD_SECONDS,
    }


def task_files(cfg: Config, svc: ServiceConfig) -> dict[str, str]:
    """Every file the init container writes: the service's rendered config and its proxy's."""
    files: dict[str, str] = RENDERERS[svc.service_kind].render(cfg)
    if svc.prefix_proxy is not None:
        files.update(prefix_proxy.render(svc))
    return files


def proxy_container(cfg: Config, svc: ServiceConfig, *, log_group: str) -> dict[str, Any]:
    """The path-stripping proxy in front of `svc` (components/service_configs/prefix_proxy.py)."""
    proxy = prefix_proxy.proxy_of(svc)
    name = prefix_proxy.container_name(svc)
    return {
        "name": name,
        "image": proxy.image_ref,
        "essential": True,
        # The binary itself: the image's entrypoint script would try to edit files under /etc/nginx.
        "entryPoint": [prefix_proxy.BINARY],
        "command": prefix_proxy.command(config_path(prefix_proxy.FILE)),
        "user": proxy.user,
        "portMappings": [{"containerPort": proxy.port, "protocol": "tcp"}],
        "mountPoints": [
            {"sourceVolume": CONFIG_VOLUME, "containerPath": CONFIG_MOUNT, "readOnly": True},
            {"sourceVolume": scratch_volume_name(TMP_DIR), "containerPath": TMP_DIR, "readOnly": False},
        ],
        "dependsOn": [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}],
        "healthCheck": health_check(proxy.port, proxy.prefix + svc.readiness_path),
        # In-flight pushes finish while the service behind it flushes.
        "stopTimeout": cfg.ecs.stop_timeout_seconds,
        "readonlyRootFilesystem": True,
        "logConfiguration": log_configuration(cfg, log_group, name),
    }


def container_for_port(definitions: list[dict[str, Any]], port: int) -> str:
    """The container of a task that maps `port` (an ALB target's container)."""
    for container in definitions:
        if any(mapping["containerPort"] == port for mapping in container.get("portMappings", [])):
            return str(container["name"])
    raise ValueError(f"no container of task {[c['name'] for c in definitions]} maps port {port}")


def log_configuration(cfg: Config, log_group: str, stream_prefix: str) -> dict[str, Any]:
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": log_group, "awslogs-region": cfg.aws_region, "awslogs-stream-prefix": stream_prefix}}


def container_definitions(cfg: Config, svc: ServiceConfig, *, log_group: str,
                          environment: dict[str, str] | None = None,
                          secrets: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The init container, the service container and its proxy (if any) of one task (parsed JSON)."""
    renderer = RENDERERS[svc.service_kind]
    files = task_files(cfg, svc)
    init = {
        "name": INIT_CONTAINER,
        "image": cfg.ecs.init_image,
        "essential": False,
        "entryPoint": ["sh", "-c"],
        "command": [init_script(files, scratch=scratch_steps(svc))],
        "environment": init_environment(files),
        "mountPoints": [
            {"sourceVolume": CONFIG_VOLUME, "containerPath": INIT_MOUNT, "readOnly": False},
            *({"sourceVolume": scratch_volume_name(path),
               "containerPath": scratch_init_mount(path), "readOnly": False}
              for path in scratch_dirs(svc)),
        ],
        # It writes only to its volumes. It stays root: handing the scratch volumes over takes chown.
        "readonlyRootFilesystem": True,
        "logConfiguration": log_configuration(cfg, log_group, INIT_CONTAINER),
    }
    mounts = [{"sourceVolume": CONFIG_VOLUME, "containerPath": CONFIG_MOUNT, "readOnly": True}]
    mounts.extend({"sourceVolume": scratch_volume_name(path), "containerPath": path, "readOnly": False}
                  for path in scratch_dirs(svc))
    if svc.efs is not None:
        mounts.append({"sourceVolume": efs_volume_name(svc), "containerPath": svc.efs.container_path,
                       "readOnly": False})
    service: dict[str, Any] = {
        "name": svc.name,
        "image": svc.image_ref,
        "essential": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp"} for port in renderer.ports(cfg)],
        "mountPoints": mounts,
        "dependsOn": [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}],
        "healthCheck": health_check(svc.http_port, svc.readiness_path),
        # SIGTERM to SIGKILL: the time the backend has to drain requests and flush to S3.
        "stopTimeout": cfg.ecs.stop_timeout_seconds,
        "environment": [{"name": name, "value": value} for name, value in sorted((environment or {}).items())],
        "secrets": [{"name": name, "valueFrom": arn} for name, arn in sorted((secrets or {}).items())],
        "logConfiguration": log_configuration(cfg, log_group, svc.name),
    }
    if svc.read_only_root_filesystem:
        service["readonlyRootFilesystem"] = True
    if svc.user is not None:
        service["user"] = svc.user
    command = renderer.command(cfg)
    if command:
        service["command"] = command
    if svc.prefix_proxy is None:
        return [init, service]
    return [init, service, proxy_container(cfg, svc, log_group=log_group)]


def efs_volume_name(svc: ServiceConfig) -> str:
    return f"{svc.name}-efs"


class EcsStack(LgtmStack):
    cluster_name: str
    namespace_id: str
    service_names: dict[str, str]

    def __init__(self, scope: Construct, stack_id: str, *, config: Config, network: NetworkStack,
                 security_groups: SecurityGroupsStack, storage: StorageStack, iam: IamStack,
                 alb: AlbStack) -> None:
        super().__init__(scope, stack_id, config=config)
        cfg = config
        provider = capacity_provider(cfg)

        self.cluster = EcsCluster(
            self, "cluster", name=cfg.cluster_name,
            setting=[EcsClusterSetting(name="containerInsights",
                                       value="enabled" if cfg.ecs.container_insights else "disabled")],
        )
        capacity = EcsClusterCapacityProviders(
            self, "capacity-providers", cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=provider, weight=1, base=0)],
        )
        self.namespace = ServiceDiscoveryPrivateDnsNamespace(
            self, "namespace", name=cfg.ecs.namespace, vpc=network.vpc_id,
            description=f"{cfg.resource_name('services')}: services reach each other as <name>.{cfg.ecs.namespace}",
        )

        password = DataAwsSecretsmanagerRandomPassword(
            self, "grafana-admin-password-generator",
            password_length=ADMIN_PASSWORD_LENGTH, exclude_punctuation=True, require_each_included_type=True,
        )
        self.grafana_admin_password = SsmParameter(
            self, "grafana-admin-password",
            name=f"{cfg.ssm_prefix}/grafana/admin-password",
            type="SecureString",
            # None: the account's aws/ssm key; a customer-managed key when config names one.
            key_id=cfg.ecs.secrets_kms_key_arn,
            value=password.random_password,
            description="Grafana admin password (generated once; rotate by editing the parameter)",
            # The generator yields a new value on every plan: keep the first one.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )

        self.log_groups: dict[str, CloudwatchLogGroup] = {}
        self.task_definitions: dict[str, EcsTaskDefinition] = {}
        self.services: dict[str, EcsService] = {}
        for svc in cfg.services:
            log_group = CloudwatchLogGroup(
                self, f"log-group-{svc.name}", name=cfg.log_group(svc.name),
                retention_in_days=cfg.ecs.log_retention_days, kms_key_id=cfg.ecs.log_kms_key_arn,
            )
            self.log_groups[svc.name] = log_group
            environment: dict[str, str] = {}
            secrets: dict[str, str] = {}
            if svc.name == grafana.NAME:
                environment = grafana.environment(cfg, root_url=f"{alb.base_url}/")
                secrets = {grafana.ADMIN_PASSWORD_VARIABLE: self.grafana_admin_password.arn}
            definitions = container_definitions(cfg, svc, log_group=log_group.name,
                                                environment=environment, secrets=secrets)
            volumes = [EcsTaskDefinitionVolume(name=CONFIG_VOLUME)]
            volumes.extend(EcsTaskDefinitionVolume(name=scratch_volume_name(path)) for path in scratch_dirs(svc))
            if svc.efs is not None:
                volumes.append(EcsTaskDefinitionVolume(
                    name=efs_volume_name(svc),
                    efs_volume_configuration=EcsTaskDefinitionVolumeEfsVolumeConfiguration(
                        file_system_id=storage.file_system_id,
                        transit_encryption="ENABLED",
                        authorization_config=EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig(
                            access_point_id=storage.access_point_ids[svc.name], iam="ENABLED"),
                    ),
                ))
            task_definition = EcsTaskDefinition(
                self, f"task-{svc.name}",
                family=cfg.resource_name(svc.name),
                requires_compatibilities=["FARGATE"],
                network_mode="awsvpc",
                cpu=str(svc.cpu),
                memory=str(svc.memory),
                execution_role_arn=iam.execution_role_arn,
                task_role_arn=iam.task_role_arns[svc.name],
                runtime_platform=EcsTaskDefinitionRuntimePlatform(
                    operating_system_family="LINUX", cpu_architecture="X86_64"),
                volume=volumes,
                container_definitions=json.dumps(definitions),
            )
            self.task_definitions[svc.name] = task_definition

            registry = ServiceDiscoveryService(
                self, f"discovery-{svc.name}", name=svc.name,
                dns_config=ServiceDiscoveryServiceDnsConfig(
                    namespace_id=self.namespace.id, routing_policy="MULTIVALUE",
                    dns_records=[ServiceDiscoveryServiceDnsConfigDnsRecords(ttl=DNS_TTL_SECONDS, type="A")]),
                # ECS reports task health to Cloud Map, so unhealthy tasks leave DNS.
                health_check_custom_config=ServiceDiscoveryServiceHealthCheckCustomConfig(failure_threshold=1),
            )
            load_balancers = [
                EcsServiceLoadBalancer(target_group_arn=alb.target_group_arns[target.name],
                                       container_name=container_for_port(definitions, target.port),
                                       container_port=target.port)
                for target in svc.targets
            ]
            self.services[svc.name] = EcsService(
                self, f"service-{svc.name}",
                name=svc.name,
                cluster=self.cluster.arn,
                task_definition=task_definition.arn,
                desired_count=svc.desired_count,
                capacity_provider_strategy=[EcsServiceCapacityProviderStrategy(capacity_provider=provider,
                                                                              weight=1)],
                platform_version="LATEST",
                network_configuration=EcsServiceNetworkConfiguration(
                    subnets=network.private_subnet_ids,
                    security_groups=[security_groups.ecs_security_group_id],
                    assign_public_ip=False,
                ),
                service_registries=EcsServiceServiceRegistries(registry_arn=registry.arn),
                load_balancer=load_balancers or None,
                health_check_grace_period_seconds=cfg.ecs.health_check_grace_period_seconds
                if load_balancers else None,
                deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
                # A stateful single replica stops before its replacement starts: two tasks
                # never share its data directory (or its ring identity).
                deployment_minimum_healthy_percent=0 if svc.stateful else 100,
                deployment_maximum_percent=100 if svc.stateful else 200,
                propagate_tags="SERVICE",
                enable_ecs_managed_tags=True,
                depends_on=[capacity],
            )

        self.cluster_name = self.cluster.name
        self.namespace_id = self.namespace.id
        self.service_names = {name: service.name for name, service in self.services.items()}
        TerraformOutput(self, "cluster_name", value=self.cluster.name)
        TerraformOutput(self, "grafana_admin_password_parameter", value=self.grafana_admin_password.name)
