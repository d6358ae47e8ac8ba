"""Grafana Alloy: OTLP in (gRPC and HTTP), every signal out to its backend with the tenant,
and the stack's own metrics and profiles scraped into Mimir and Pyroscope."""

from __future__ import annotations

from components.service_configs import loki, mimir, pyroscope, tempo
from components.service_configs.alloy_syntax import Block, Ref, render_document
from components.service_configs.common import (
    LOOPBACK,
    NO_TASK_SETTINGS,
    TENANT_HEADER,
    TaskContext,
    TaskSettings,
    config_path,
    host,
    service_url,
    task_ports,
)
from config.common import Config
from config.names import ALLOY, LOKI, MIMIR, MIMIR_PUSH_PATH, PYROSCOPE, TEMPO
from config.service_kinds import ALLOY_STORAGE_PATH as STORAGE_PATH
from config.service_kinds import KINDS

NAME = ALLOY
FILE = "config.alloy"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs
# Go services whose pprof endpoints Alloy scrapes. A service under a path prefix is skipped:
# pyroscope.scrape in Alloy 1.5 ignores its `path_prefix` argument (grafana/alloy#2605), so
# those scrapes would 404.
PROFILED_SERVICES = (MIMIR, LOKI, TEMPO, PYROSCOPE)
DSKIT_PREFIXED = (mimir.NAME, loki.NAME, pyroscope.NAME)
"""Services whose `path_prefix` is dskit's `server.http_path_prefix`: every route moves under it,
/metrics and /debug/pprof included. (Tempo's `http_api_prefix` moves only its query API.)"""


def _tenant_headers(cfg: Config) -> dict[str, str]:
    return {TENANT_HEADER: cfg.tenant_id}


def metrics_path(cfg: Config, service: str) -> str:
    """Where a service serves Prometheus metrics.

    dskit's `server.http_path_prefix` (Mimir, Loki, Pyroscope) moves /metrics under the
    prefix; Tempo's `http_api_prefix` moves only its query API. Grafana serves /metrics.
    """
    prefix = cfg.service(service).path_prefix
    if service in DSKIT_PREFIXED:
        return f"{prefix}/metrics"
    return "/metrics"


def scrape_targets(cfg: Config) -> list[dict[str, str]]:
    targets = []
    for svc in cfg.services:
        address = f"{LOOPBACK}:{svc.http_port}" if svc.name == NAME else f"{host(cfg, svc.name)}:{svc.http_port}"
        targets.append({"__address__": address, "__metrics_path__": metrics_path(cfg, svc.name),
                        "job": svc.name})
    return targets


def profile_targets(cfg: Config) -> list[dict[str, str]]:
    names = [name for name in PROFILED_SERVICES if not (name in DSKIT_PREFIXED and cfg.service(name).path_prefix)]
    return [{"__address__": f"{host(cfg, name)}:{cfg.service(name).http_port}", "service_name": name}
            for name in names]


def otlp_pipeline(cfg: Config) -> list[Block]:
    """OTLP in on every interface, batched, out to Mimir, Loki and Tempo."""
    ports = cfg.ports
    return [
        Block("otelcol.receiver.otlp", "default", [
            # Listen on every interface: applications elsewhere in the VPC send here.
            Block("grpc", None, [("endpoint", f"0.0.0.0:{ports.otlp_grpc}")]),
            Block("http", None, [("endpoint", f"0.0.0.0:{ports.otlp_http}")]),
            Block("output", None, [
                ("metrics", [Ref("otelcol.processor.batch.default.input")]),
                ("logs", [Ref("otelcol.processor.batch.default.input")]),
                ("traces", [Ref("otelcol.processor.batch.default.input")]),
            ]),
        ]),
        Block("otelcol.processor.batch", "default", [
            Block("output", None, [
                ("metrics", [Ref("otelcol.exporter.prometheus.mimir.input")]),
                ("logs", [Ref("otelcol.exporter.loki.loki.input")]),
                ("traces", [Ref("otelcol.exporter.otlp.tempo.input")]),
            ]),
        ]),
    ]


def otlp_exporters(cfg: Config) -> list[Block]:
    """Traces to Tempo (with the tenant), metrics and logs handed to their writers."""
    ports = cfg.ports
    buffers = cfg.collector_buffers
    tenant_headers = _tenant_headers(cfg)
    return [
        Block("otelcol.exporter.otlp", "tempo", [
            Block("client", None, [
                ("endpoint", f"{host(cfg, tempo.NAME)}:{ports.otlp_grpc}"),
                ("headers", tenant_headers),
                # Plain gRPC inside the VPC, like every other hop behind the ALB.
                Block("tls", None, [("insecure", True)]),
            ]),
            # Spans wait here while Tempo restarts (a deploy stops it before its replacement starts).
            Block("sending_queue", None, [("queue_size", buffers.traces_queue_batches)]),
        ]),
        Block("otelcol.exporter.prometheus", "mimir", [
            ("forward_to", [Ref("prometheus.remote_write.mimir.receiver")]),
        ]),
        Block("otelcol.exporter.loki", "loki", [
            ("forward_to", [Ref("loki.write.loki.receiver")]),
        ]),
    ]


def writers(cfg: Config) -> list[Block]:
    """The one writer per backend, each sending the tenant, each buffering across a restart."""
    buffers = cfg.collector_buffers
    tenant_headers = _tenant_headers(cfg)
    pyroscope_svc = cfg.service(pyroscope.NAME)
    return [
        Block("prometheus.remote_write", "mimir", [
            Block("endpoint", None, [
                ("url", service_url(cfg, mimir.NAME, path=cfg.service(mimir.NAME).path_prefix + MIMIR_PUSH_PATH)),
                ("headers", tenant_headers),
            ]),
            # The WAL lives under --storage.path (a task volume): unsent samples survive Mimir's restart.
            Block("wal", None, [("max_keepalive_time", f"{buffers.metrics_wal_keepalive_minutes}m")]),
        ]),
        Block("loki.write", "loki", [
            Block("endpoint", None, [
                ("url", service_url(cfg, loki.NAME,
                                    path=cfg.service(loki.NAME).path_prefix + loki.PUSH_PATH)),
                ("tenant_id", cfg.tenant_id),
                ("max_backoff_retries", buffers.logs_max_backoff_retries),
            ]),
        ]),
        Block("pyroscope.write", "pyroscope", [
            Block("endpoint", None, [
                ("url", service_url(cfg, pyroscope.NAME, path=pyroscope_svc.path_prefix)),
                ("headers", tenant_headers),
            ]),
        ]),
    ]


def self_monitoring(cfg: Config) -> list[Block]:
    return [
        # The stack monitors itself: every service's metrics into Mimir...
        Block("prometheus.scrape", "stack", [
            ("targets", scrape_targets(cfg)),
            ("forward_to", [Ref("prometheus.remote_write.mimir.receiver")]),
        ]),
        # ...and the Go services' profiles into Pyroscope.
        Block("pyroscope.scrape", "stack", [
            ("targets", profile_targets(cfg)),
            ("forward_to", [Ref("pyroscope.write.pyroscope.receiver")]),
        ]),
    ]


def blocks(cfg: Config) -> list[Block]:
    return [*otlp_pipeline(cfg), *otlp_exporters(cfg), *writers(cfg), *self_monitoring(cfg)]


def render(cfg: Config) -> dict[str, str]:
    return {FILE: render_document(blocks(cfg), header_comment=(
        f"Rendered by components/service_configs/alloy.py for tenant {cfg.tenant_id}; do not edit."))}


def command(cfg: Config) -> list[str]:
    svc = cfg.service(NAME)
    return ["run", f"--server.http.listen-addr=0.0.0.0:{svc.http_port}",
            f"--storage.path={STORAGE_PATH}", config_path(FILE)]


def ports(cfg: Config) -> list[int]:
    """Container ports the rendered config listens on (ECS port mappings): HTTP, then OTLP."""
    return task_ports(cfg, NAME)


def task_settings(cfg: Config, task: TaskContext) -> TaskSettings:
    """Everything is in the rendered file: no environment, no secrets."""
    return NO_TASK_SETTINGS
