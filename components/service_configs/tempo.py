"""Tempo (traces), monolithic: OTLP receivers for the ALB and Alloy, blocks in its own S3 bucket."""

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
from config.names import TEMPO
from config.service_kinds import KINDS
from config.service_kinds import TEMPO_DATA_DIR as DATA_DIR

NAME = TEMPO
FILE = "tempo.yaml"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs


def _loopback_ring() -> dict[str, Any]:
    return {"instance_addr": LOOPBACK, "kvstore": {"store": "inmemory"}}


def document(cfg: Config) -> dict[str, Any]:
    svc = cfg.service(NAME)
    settings: dict[str, Any] = {
        "target": "all",
        "multitenancy_enabled": True,
    }
    if svc.path_prefix:
        # A top-level Tempo setting (not under `server`): prefixes Tempo's HTTP API
        # (/tempo/api/...). Upstream registers /ready, /metrics and the OTLP receivers
        # outside it, which is why both target groups health-check port 3200 `/ready`.
        settings["http_api_prefix"] = svc.path_prefix
    settings.update({
        # Explicit: the default changed across Tempo versions (80, 3100, 3200).
        "server": {"http_listen_port": svc.http_port, "grpc_listen_port": cfg.ports.grpc,
                   "graceful_shutdown_timeout": graceful_shutdown_timeout(cfg)},
        # Every ring advertises loopback: on Fargate the task's VPC address is not on eth0, the
        # interface these rings look at by default (grafana/tempo#622), and one task is the
        # whole ring. The generator's ring runs even with no processor enabled.
        "ingester": {
            "lifecycler": {"address": LOOPBACK,
                           "ring": {"replication_factor": 1, "kvstore": {"store": "inmemory"}}},
            # Write every trace it holds to S3 on SIGTERM, not only what the WAL would replay.
            "flush_all_on_shutdown": True,
        },
        "distributor": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        # Tempo 2.7+ binds receivers to localhost unless told otherwise;
                        # the ALB and Alloy reach them from other hosts.
                        "grpc": {"endpoint": f"0.0.0.0:{cfg.ports.otlp_grpc}"},
                        "http": {"endpoint": f"0.0.0.0:{cfg.ports.otlp_http}"},
                    },
                },
            },
            "ring": _loopback_ring(),
        },
        # No storage.path: the generator stays idle (no service graphs), but its ring still runs.
        "metrics_generator": {"ring": _loopback_ring()},
        # Its ring runs only with a kvstore set (none here: one compactor); the address is pinned anyway.
        "compactor": {"ring": {"instance_addr": LOOPBACK},
                      "compaction": {"block_retention": retention_duration(cfg, NAME)}},
        # Only with legacy read tenants: a query for "a|b" reads both (Grafana's "(with history)").
        **({"query_frontend": {"multi_tenant_queries_enabled": True}} if cfg.legacy_read_tenants.traces else {}),
        "storage": {
            "trace": {
                "backend": "s3",
                "s3": {
                    "bucket": cfg.data_bucket(NAME),
                    "endpoint": s3_endpoint(cfg),
                    "region": cfg.aws_region,
                },
                "wal": {"path": f"{DATA_DIR}/wal"},
                "local": {"path": f"{DATA_DIR}/blocks"},
            },
        },
    })
    return settings


def render(cfg: Config) -> dict[str, str]:
    return {FILE: to_yaml(document(cfg))}


def command(cfg: Config) -> list[str]:
    return [f"-config.file={config_path(FILE)}"]


def ports(cfg: Config) -> list[int]:
    """Container ports the rendered config listens on (ECS port mappings): HTTP, then OTLP."""
    return task_ports(cfg, NAME)


def task_settings(cfg: Config, task: TaskContext) -> TaskSettings:
    """Everything is in the rendered file: no environment, no secrets."""
    return NO_TASK_SETTINGS
