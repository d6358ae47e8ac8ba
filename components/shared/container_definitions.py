"""The containers of one service's task, as the JSON ECS takes (`container_definitions`).

Config without custom images: every task has a `config` volume. A non-essential init
container (`ecs.init_image`, busybox) decodes the files its renderer
(`components.service_configs`) produced, carried base64 in its environment, into the volume,
and copies its static busybox binary there too. The service container waits for it
(`dependsOn` SUCCESS), mounts the volume read-only at `CONFIG_MOUNT`, starts with its rendered
config, and health-checks its readiness path with that busybox: several upstream images
(Mimir, Loki, Tempo, Pyroscope) are distroless and have no shell, curl or wget of their own.
The busybox is the static (musl) build: it must execute in images without a loader
(docs/runtime-facts.md).

A service with a `prefix_proxy` (Pyroscope) gets a third container, an nginx that serves it
under its public prefix (`components/service_configs/prefix_proxy.py`); the ALB target of that
port registers the proxy container (`container_for_port`).

Every container's root filesystem is read-only (`ServiceConfig.read_only_root_filesystem`).
What a service writes, /tmp and its renderer's `SCRATCH_DIRS`, are task scratch volumes
(Fargate ephemeral storage, like the container layer they replace); Fargate creates them
root-owned, so the init container (root, it exits before the service starts) makes /tmp
1777 and hands each data directory to `ServiceConfig.user`, the non-root user the service
container runs as (None keeps the image's user: Alloy's root).
"""

from __future__ import annotations

import base64
import shlex
from typing import Any

from components.service_configs import RENDERERS, prefix_proxy
from components.service_configs.common import (
    LOOPBACK,
    NO_TASK_SETTINGS,
    TOOLS_DIR,
    TaskSettings,
    config_path,
)
from config.common import Config, ServiceConfig
from config.service_kinds import CONFIG_MOUNT, TMP_DIR

CONFIG_VOLUME = "config"
INIT_CONTAINER = "config-init"
INIT_MOUNT = "/config"
"""Where the init container sees the config volume (read-write, for it only)."""
SCRATCH_MOUNT_ROOT = "/scratch"
"""Where the init container sees the task's scratch volumes, to hand them to the service's user."""
TMP_MODE = "1777"
DATA_DIR_MODE = "0750"
BUSYBOX_IN_VOLUME = f"{TOOLS_DIR}/busybox"
FILE_VARIABLE_PREFIX = "LGTM_FILE_"
# Container health checks (ECS, inside the task; the ALB's target health checks are 50-alb's):
# Mimir, Loki and Tempo report ready only after joining their rings, so failures during the
# first two minutes do not count.
CONTAINER_HEALTH_INTERVAL_SECONDS = 30
CONTAINER_HEALTH_TIMEOUT_SECONDS = 5
CONTAINER_HEALTH_RETRIES = 3
CONTAINER_HEALTH_START_PERIOD_SECONDS = 120


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
    url = f"http://{LOOPBACK}:{port}{path}"
    return ["CMD", f"{CONFIG_MOUNT}/{BUSYBOX_IN_VOLUME}", "wget", "-q", "-O", "/dev/null", url]


def health_check(port: int, path: str) -> dict[str, Any]:
    return {
        "command": health_check_command(port, path),
        "interval": CONTAINER_HEALTH_INTERVAL_SECONDS,
        "timeout": CONTAINER_HEALTH_TIMEOUT_SECONDS,
        "retries": CONTAINER_HEALTH_RETRIES,
        "startPeriod": CONTAINER_HEALTH_START_PERIOD_SECONDS,
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


def init_container(cfg: Config, svc: ServiceConfig, *, log_group: str) -> dict[str, Any]:
    """Writes the rendered files and busybox into the config volume, hands the scratch volumes over."""
    files = task_files(cfg, svc)
    return {
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


def service_mounts(svc: ServiceConfig) -> list[dict[str, Any]]:
    """The config volume (read-only), the scratch volumes and the EFS volume (if any)."""
    mounts = [{"sourceVolume": CONFIG_VOLUME, "containerPath": CONFIG_MOUNT, "readOnly": True}]
    mounts.extend({"sourceVolume": scratch_volume_name(path), "containerPath": path, "readOnly": False}
                  for path in scratch_dirs(svc))
    if svc.efs is not None:
        mounts.append({"sourceVolume": efs_volume_name(svc), "containerPath": svc.efs.container_path,
                       "readOnly": False})
    return mounts


def service_container(cfg: Config, svc: ServiceConfig, *, log_group: str,
                      settings: TaskSettings) -> dict[str, Any]:
    """The upstream image itself, started with its rendered config."""
    renderer = RENDERERS[svc.service_kind]
    service: dict[str, Any] = {
        "name": svc.name,
        "image": svc.image_ref,
        "essential": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp"} for port in renderer.ports(cfg)],
        "mountPoints": service_mounts(svc),
        "dependsOn": [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}],
        "healthCheck": health_check(svc.http_port, svc.readiness_path),
        # SIGTERM to SIGKILL: the time the backend has to drain requests and flush to S3.
        "stopTimeout": cfg.ecs.stop_timeout_seconds,
        "environment": [{"name": name, "value": value} for name, value in sorted(settings.environment.items())],
        "secrets": [{"name": name, "valueFrom": arn} for name, arn in sorted(settings.secrets.items())],
        "logConfiguration": log_configuration(cfg, log_group, svc.name),
    }
    if svc.read_only_root_filesystem:
        service["readonlyRootFilesystem"] = True
    if svc.user is not None:
        service["user"] = svc.user
    command = renderer.command(cfg)
    if command:
        service["command"] = command
    return service


def container_definitions(cfg: Config, svc: ServiceConfig, *, log_group: str,
                          settings: TaskSettings = NO_TASK_SETTINGS) -> list[dict[str, Any]]:
    """The init container, the service container and its proxy (if any) of one task (parsed JSON)."""
    containers = [init_container(cfg, svc, log_group=log_group),
                  service_container(cfg, svc, log_group=log_group, settings=settings)]
    if svc.prefix_proxy is not None:
        containers.append(proxy_container(cfg, svc, log_group=log_group))
    return containers


def efs_volume_name(svc: ServiceConfig) -> str:
    return f"{svc.name}-efs"
