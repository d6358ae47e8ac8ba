"""What every rendered service config shares: where files live, how services find each other.

Each renderer module (`mimir.py`, `loki.py`, ...) exposes:
- `render(cfg) -> dict[str, str]`: file name (relative to the config volume) -> file text;
- `command(cfg) -> list[str]`: the upstream image's arguments that load those files.

60-ecs writes the files into a task volume mounted read-only at `CONFIG_MOUNT`, so the
upstream images run unchanged (no custom image, no shell needed in them).
"""

from __future__ import annotations

from typing import Any

import yaml

from config.common import Config

CONFIG_MOUNT = "/etc/lgtm"
"""Where the service container mounts the rendered files (read-only)."""
TOOLS_DIR = "bin"
"""Subdirectory of the config volume holding the init image's static busybox (health checks)."""
TENANT_HEADER = "X-Scope-OrgID"
"""The header Mimir, Loki, Tempo and Pyroscope read the tenant from."""


def host(cfg: Config, service: str) -> str:
    """`<service>.<namespace>`: the Cloud Map name 60-ecs registers the service under."""
    return f"{service}.{cfg.ecs.namespace}"


def service_url(cfg: Config, service: str, *, port: int | None = None, path: str = "") -> str:
    """Plain-HTTP URL of a service inside the VPC (traffic never leaves the private subnets)."""
    chosen = cfg.service(service).http_port if port is None else port
    return f"http://{host(cfg, service)}:{chosen}{path}"


def config_path(filename: str) -> str:
    return f"{CONFIG_MOUNT}/{filename}"


def s3_endpoint(cfg: Config) -> str:
    """Regional S3 endpoint (host only): what Mimir/Tempo/Pyroscope's S3 clients take."""
    return f"s3.{cfg.aws_region}.amazonaws.com"


def to_yaml(document: dict[str, Any]) -> str:
    # sort_keys=False keeps the documents in the order upstream docs present them.
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def retention_duration(cfg: Config, service: str) -> str:
    """The service's retention as a Go duration in hours (`9600h`): every backend's parser takes it."""
    return f"{cfg.retention.by_service()[service] * 24}h"


def graceful_shutdown_timeout(cfg: Config) -> str:
    """dskit's `server.graceful_shutdown_timeout`: in-flight requests drain, the rest of the stop is the flush."""
    return f"{cfg.ecs.graceful_shutdown_seconds}s"
