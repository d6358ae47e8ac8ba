"""What each service kind's task must provide, whatever the rest of its config says.

The directories its binary writes (each becomes a task scratch volume, so the root filesystem
can stay read-only) and the ports it listens on. The renderers in `components/service_configs/`
write these directories into the rendered files, 60-ecs builds the task from them, and
`config.validation` checks targets and EFS volumes against them, all from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.names import ALLOY, GRAFANA, LOKI, MIMIR, PYROSCOPE, TEMPO

CONFIG_MOUNT = "/etc/lgtm"
"""Where the service container mounts its rendered files (the task's config volume, read-only)."""
TMP_DIR = "/tmp"
"""Every task's own /tmp: a scratch volume too."""


@dataclass(frozen=True)
class ServiceKind:
    scratch_dirs: tuple[str, ...]
    """Written at run time besides /tmp; 60-ecs mounts each on a task scratch volume."""
    receives_otlp: bool = False
    """Listens on `Ports.otlp_grpc` and `Ports.otlp_http` besides its HTTP port."""

    def ports(self, *, http_port: int, otlp_grpc: int, otlp_http: int) -> list[int]:
        """The container ports its rendered config listens on: HTTP, then OTLP (if it receives it)."""
        return [http_port, otlp_grpc, otlp_http] if self.receives_otlp else [http_port]


MIMIR_DATA_DIR = "/tmp/mimir"
"""Local scratch (TSDB head, WAL, compactor work); the blocks themselves live in S3. Under /tmp
because it is writable for any user in both the Alpine and distroless bases Mimir's images have
used (Fargate task storage is ephemeral either way)."""
LOKI_DATA_DIR = "/loki"
"""Owned by the image's loki user (uid 10001): WAL, TSDB index cache, compactor work."""
TEMPO_DATA_DIR = "/var/tempo"
"""Owned by the image's tempo user (uid 10001): WAL and local blocks before upload."""
PYROSCOPE_DATA_DIR = "/data"
"""Owned by the image's pyroscope user (uid 10001): the local head before upload."""
ALLOY_STORAGE_PATH = "/var/lib/alloy/data"
"""The upstream image's data directory (write-ahead log of remote_write)."""

KINDS: dict[str, ServiceKind] = {
    # Nothing beyond /tmp: Grafana's data directory is its EFS volume, its logs go to the console.
    GRAFANA: ServiceKind(scratch_dirs=()),
    MIMIR: ServiceKind(scratch_dirs=(MIMIR_DATA_DIR,)),
    LOKI: ServiceKind(scratch_dirs=(LOKI_DATA_DIR,)),
    TEMPO: ServiceKind(scratch_dirs=(TEMPO_DATA_DIR,), receives_otlp=True),
    PYROSCOPE: ServiceKind(scratch_dirs=(PYROSCOPE_DATA_DIR,)),
    ALLOY: ServiceKind(scratch_dirs=(ALLOY_STORAGE_PATH,), receives_otlp=True),
}
