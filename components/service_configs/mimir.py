"""Mimir (metrics), monolithic: one process runs every component, state in its own S3 bucket."""

from __future__ import annotations

from typing import Any

from components.service_configs.common import (
    LOOPBACK,
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
from config.names import MIMIR
from config.service_kinds import KINDS
from config.service_kinds import MIMIR_DATA_DIR as DATA_DIR

NAME = MIMIR
FILE = "mimir.yaml"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs


def _single_replica_ring(*, replication_factor: int | None = None) -> dict[str, Any]:
    # One task runs every component: an in-process ring, advertised on loopback so
    # the ring never picks Fargate's link-local eth0 address.
    ring: dict[str, Any] = {"instance_addr": LOOPBACK, "kvstore": {"store": "inmemory"}}
    if replication_factor is not None:
        ring["replication_factor"] = replication_factor
    return ring


def document(cfg: Config) -> dict[str, Any]:
    svc = cfg.service(NAME)
    prefixes = cfg.storage.mimir_prefixes
    return {
        "target": "all",
        "multitenancy_enabled": True,
        "server": {
            "http_listen_port": svc.http_port,
            "grpc_listen_port": cfg.ports.grpc,
            "graceful_shutdown_timeout": graceful_shutdown_timeout(cfg),
            **({"http_path_prefix": svc.path_prefix} if svc.path_prefix else {}),
        },
        "common": {
            "storage": {
                "backend": "s3",
                "s3": {
                    "endpoint": s3_endpoint(cfg),
                    "region": cfg.aws_region,
                    "bucket_name": cfg.data_bucket(NAME),
                },
            },
        },
        # One bucket, three stores: distinct prefixes, or Mimir refuses to start.
        "blocks_storage": {
            "storage_prefix": prefixes.blocks,
            # Cut and upload the head on SIGTERM: otherwise a deploy loses up to two hours of samples.
            "tsdb": {"dir": f"{DATA_DIR}/tsdb", "flush_blocks_on_shutdown": True},
            "bucket_store": {"sync_dir": f"{DATA_DIR}/tsdb-sync"},
        },
        "ruler_storage": {"storage_prefix": prefixes.ruler},
        "alertmanager_storage": {"storage_prefix": prefixes.alertmanager},
        "distributor": {"ring": _single_replica_ring()},
        "ingester": {"ring": _single_replica_ring(replication_factor=1)},
        "store_gateway": {"sharding_ring": _single_replica_ring(replication_factor=1)},
        "compactor": {"data_dir": f"{DATA_DIR}/compactor", "sharding_ring": _single_replica_ring()},
        "ruler": {"rule_path": f"{DATA_DIR}/ruler", "ring": _single_replica_ring()},
        "alertmanager": {"data_dir": f"{DATA_DIR}/alertmanager",
                         "sharding_ring": _single_replica_ring(replication_factor=1)},
        # Only with legacy read tenants: a query for "a|b" reads both (Grafana's "(with history)").
        **({"tenant_federation": {"enabled": True}} if cfg.legacy_read_tenants.metrics else {}),
        # The compactor deletes blocks past retention and updates the bucket index with them.
        "limits": {"compactor_blocks_retention_period": retention_duration(cfg, NAME)},
        # Default ./metrics-activity.log is in the working directory (/): read-only, and not the user's.
        "activity_tracker": {"filepath": f"{DATA_DIR}/metrics-activity.log"},
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
