"""Pyroscope (profiles), monolithic, its blocks in its own S3 bucket, unprefixed.

The ALB's /pyroscope/* route reaches it through the task's path-stripping proxy
(`prefix_proxy.py`): Pyroscope's own components call each other without a prefix.
"""

from __future__ import annotations

from typing import Any

from components.service_configs.common import (
    NO_TASK_SETTINGS,
    TaskContext,
    TaskSettings,
    config_path,
    graceful_shutdown_timeout,
    retention_duration,
    s3_endpoint,
    task_ports,
    to_yaml,
)
from config.common import Config
from config.names import PYROSCOPE
from config.service_kinds import KINDS
from config.service_kinds import PYROSCOPE_DATA_DIR as DATA_DIR

NAME = PYROSCOPE
FILE = "pyroscope.yaml"
COMPACTOR_DIR = f"{DATA_DIR}/compactor"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs


def document(cfg: Config) -> dict[str, Any]:
    svc = cfg.service(NAME)
    # No http_path_prefix, ever: the distributor would push to the ingester at an unprefixed
    # path and get 404 (docs/runtime-facts.md). The prefix lives in the proxy.
    server: dict[str, Any] = {"http_listen_port": svc.http_port, "grpc_listen_port": cfg.ports.grpc,
                              "graceful_shutdown_timeout": graceful_shutdown_timeout(cfg)}
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
        # Default ./data-compactor is relative to the working directory: the read-only root.
        "compactor": {"data_dir": COMPACTOR_DIR},
        # Otherwise it pushes its own profiles to localhost without a tenant: every push rejected.
        # Alloy scrapes its profiles with the tenant instead.
        "self_profiling": {"disable_push": True},
        "limits": {"compactor_blocks_retention_period": retention_duration(cfg, NAME)},
    }


def render(cfg: Config) -> dict[str, str]:
    return {FILE: to_yaml(document(cfg))}


def command(cfg: Config) -> list[str]:
    return [f"-config.file={config_path(FILE)}"]


def ports(cfg: Config) -> list[int]:
    """Container ports the rendered config listens on (ECS port mappings)."""
    return task_ports(cfg, NAME)


def task_settings(cfg: Config, task: TaskContext) -> TaskSettings:
    """Everything is in the rendered file: no environment, no secrets."""
    return NO_TASK_SETTINGS
