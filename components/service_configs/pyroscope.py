"""Pyroscope (profiles), monolithic, its blocks in its own S3 bucket, served under its path prefix."""

from __future__ import annotations

from typing import Any

from components.service_configs.common import config_path, s3_endpoint, to_yaml
from config.common import Config

NAME = "pyroscope"
FILE = "pyroscope.yaml"
DATA_DIR = "/data"
"""Owned by the image's pyroscope user (uid 10001): the local head before upload."""
SCRATCH_DIRS = (DATA_DIR,)
"""Written at run time (60-ecs mounts each on a task scratch volume; the root filesystem is read-only)."""


def document(cfg: Config) -> dict[str, Any]:
    svc = cfg.service(NAME)
    server: dict[str, Any] = {"http_listen_port": svc.http_port, "grpc_listen_port": cfg.ports.grpc}
    if svc.path_prefix:
        # dskit's prefix: the API, /ready and /metrics all move under it, so the ALB's
        # /pyroscope/* rule reaches real endpoints (the built-in UI does not follow it,
        # grafana/pyroscope#3113: Grafana is the UI for profiles).
        # Open risk, from upstream source: Pyroscope's ring clients (distributor and
        # querier to ingester) call "http://<addr>/ingester.v1.IngesterService/..."
        # without the prefix. If a deploy shows 404s there, set path_prefix "" in
        # config: Pyroscope's own /pyroscope/ingest and /pyroscope/render still match
        # the /pyroscope/* rule, and the health checks move to /ready.
        server["http_path_prefix"] = svc.path_prefix
    return {
        "target": "all",
        # Off by default upstream: every profile would land under `anonymous`.
        "multitenancy_enabled": True,
        "server": server,
        "storage": {
            "backend": "s3",
            "s3": {
                "bucket_name": cfg.data_bucket(NAME),
                "endpoint": s3_endpoint(cfg),
                "region": cfg.aws_region,
            },
        },
        "pyroscopedb": {"data_path": DATA_DIR},
    }


def render(cfg: Config) -> dict[str, str]:
    return {FILE: to_yaml(document(cfg))}


def command(cfg: Config) -> list[str]:
    return [f"-config.file={config_path(FILE)}"]


def ports(cfg: Config) -> list[int]:
    """Container ports the rendered config listens on (ECS port mappings)."""
    return [cfg.service(NAME).http_port]
