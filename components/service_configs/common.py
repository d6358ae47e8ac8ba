"""What every rendered service config shares: where files live, how services find each other.

Each renderer module (`mimir.py`, `loki.py`, ...) is a `ServiceRenderer`: the contract 60-ecs
builds a task from.

60-ecs writes the files into a task volume mounted read-only at `CONFIG_MOUNT`, so the
upstream images run unchanged (no custom image, no shell needed in them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from config.common import Config
from config.service_kinds import CONFIG_MOUNT, KINDS

TOOLS_DIR = "bin"
"""Subdirectory of the config volume holding the init image's static busybox (health checks)."""
TENANT_HEADER = "X-Scope-OrgID"
"""The header Mimir, Loki, Tempo and Pyroscope read the tenant from."""
LOOPBACK = "127.0.0.1"
"""Where a task's own containers reach each other (awsvpc: one network namespace per task)."""


@dataclass(frozen=True)
class TaskContext:
    """What only 60-ecs knows when it builds a task: values of resources made by the stacks."""

    base_url: str
    """scheme://<ALB DNS name>: the public root every routed path hangs off."""
    admin_password_arn: str
    """The SSM SecureString holding Grafana's generated admin password."""


@dataclass(frozen=True)
class TaskSettings:
    """A service container's environment and secrets (name -> SSM/Secrets Manager ARN)."""

    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


NO_TASK_SETTINGS = TaskSettings()


class ServiceRenderer(Protocol):
    """The contract between a renderer module and 60-ecs (every module of this package obeys it)."""

    SCRATCH_DIRS: tuple[str, ...]
    """Directories the service writes outside EFS; 60-ecs makes each a task scratch volume."""

    def render(self, cfg: Config) -> dict[str, str]:
        """File name (relative to the config volume) -> file text."""
        ...

    def command(self, cfg: Config) -> list[str]:
        """The upstream image's arguments that load the rendered files ([]: its own defaults)."""
        ...

    def ports(self, cfg: Config) -> list[int]:
        """Container ports the rendered config listens on (the task's port mappings)."""
        ...

    def task_settings(self, cfg: Config, task: TaskContext) -> TaskSettings:
        """Environment and secrets of the service container."""
        ...


def host(cfg: Config, service: str) -> str:
    """`<service>.<namespace>`: the Cloud Map name 60-ecs registers the service under."""
    return f"{service}.{cfg.ecs.namespace}"


def service_url(cfg: Config, service: str, *, port: int | None = None, path: str = "") -> str:
    """Plain-HTTP URL of a service inside the VPC (traffic never leaves the private subnets)."""
    chosen = cfg.service(service).http_port if port is None else port
    return f"http://{host(cfg, service)}:{chosen}{path}"


def task_ports(cfg: Config, service: str) -> list[int]:
    """The container ports `service`'s rendered config listens on (config/service_kinds.py)."""
    return KINDS[cfg.service(service).service_kind].ports(
        http_port=cfg.service(service).http_port, otlp_grpc=cfg.ports.otlp_grpc, otlp_http=cfg.ports.otlp_http)


def config_path(filename: str) -> str:
    return f"{CONFIG_MOUNT}/{filename}"


def s3_endpoint(cfg: Config) -> str:
    """Regional S3 endpoint (host only): what Mimir/Tempo/Pyroscope's S3 clients take."""
    return f"s3.{cfg.aws_region}.amazonaws.com"


def to_yaml(document: dict[str, Any]) -> str:
    # sort_keys=False keeps the documents in the order upstream docs present them.
    text: str = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return text


def retention_duration(cfg: Config, service: str) -> str:
    """The service's retention as a Go duration in hours (`9600h`): every backend's parser takes it."""
    return f"{cfg.retention.by_service()[service] * 24}h"


def graceful_shutdown_timeout(cfg: Config) -> str:
    """dskit's `server.graceful_shutdown_timeout`: in-flight requests drain, the rest of the stop is the flush."""
    return f"{cfg.ecs.graceful_shutdown_seconds}s"
