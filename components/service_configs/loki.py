"""Loki (logs), monolithic (`target: all`), chunks and index in its own S3 bucket."""

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
    task_ports,
    to_yaml,
)
from config.common import Config
from config.names import LOKI
from config.service_kinds import KINDS
from config.service_kinds import LOKI_DATA_DIR as DATA_DIR

NAME = LOKI
FILE = "loki.yaml"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs
SCHEMA_START = "2024-01-01"
"""First day of the (only) schema period: TSDB index, schema v13, as Loki 3 recommends."""
OBJECT_STORE = "s3"
"""The object store of the schema period, and where retention keeps its delete requests."""
PUSH_PATH = "/loki/api/v1/push"
"""Loki's push API (every Loki API lives under /loki, whatever the server prefix)."""


def document(cfg: Config) -> dict[str, Any]:
    svc = cfg.service(NAME)
    return {
        "target": "all",
        # Loki's name for multitenancy: every request needs X-Scope-OrgID.
        "auth_enabled": True,
        "server": {
            "http_listen_port": svc.http_port,
            "grpc_listen_port": cfg.ports.grpc,
            "graceful_shutdown_timeout": graceful_shutdown_timeout(cfg),
            **({"http_path_prefix": svc.path_prefix} if svc.path_prefix else {}),
        },
        "common": {
            "path_prefix": DATA_DIR,
            "replication_factor": 1,
            "instance_addr": LOOPBACK,
            # One replica: an in-process ring on loopback (Fargate's eth0 is link-local).
            "ring": {"instance_addr": LOOPBACK, "kvstore": {"store": "inmemory"}},
            "storage": {
                "s3": {
                    "bucketnames": cfg.data_bucket(NAME),
                    "region": cfg.aws_region,
                },
            },
        },
        "schema_config": {
            "configs": [{
                "from": SCHEMA_START,
                "store": "tsdb",
                "object_store": OBJECT_STORE,
                "schema": "v13",
                "index": {"prefix": "index_", "period": "24h"},
            }],
        },
        # Flush the in-memory chunks on SIGTERM instead of leaving them to a WAL replay.
        "ingester": {"wal": {"flush_on_shutdown": True}},
        # Retention runs in the compactor, which deletes chunks and index entries together.
        "compactor": {
            "working_directory": f"{DATA_DIR}/compactor",
            "retention_enabled": True,
            "delete_request_store": OBJECT_STORE,
        },
        "limits_config": {"retention_period": retention_duration(cfg, NAME)},
        # Only with legacy read tenants: a query for "a|b" reads both (Grafana's "(with history)").
        **({"querier": {"multi_tenant_queries_enabled": True}} if cfg.legacy_read_tenants.logs else {}),
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
