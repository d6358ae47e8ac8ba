"""Grafana: datasource provisioning for the four backends, each sending the tenant header.

With `Config.legacy_read_tenants`, each federating backend also gets a read-only
"(with history)" datasource that queries the tenant and its legacy tenants together.
"""

from __future__ import annotations

from typing import Any

from components.service_configs.common import (
    TENANT_HEADER,
    TaskContext,
    TaskSettings,
    service_url,
    task_ports,
    to_yaml,
)
from config.common import Config
from config.names import GRAFANA, LOKI, MIMIR, PYROSCOPE, TEMPO
from config.service_kinds import CONFIG_MOUNT, KINDS

NAME = GRAFANA
PROVISIONING_DIR = "provisioning"
DATASOURCES_FILE = f"{PROVISIONING_DIR}/datasources/lgtm.yaml"
PYROSCOPE_DATASOURCE_TYPE = "grafana-pyroscope-datasource"
SCRATCH_DIRS = KINDS[NAME].scratch_dirs
ADMIN_PASSWORD_VARIABLE = "GF_SECURITY_ADMIN_PASSWORD"
"""Set from 60-ecs's SSM SecureString through the task's `secrets` (`task_settings`)."""


def _with_tenant(cfg: Config, datasource: dict[str, Any], json_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every datasource sends X-Scope-OrgID: without it a multitenant backend rejects the query."""
    return {
        **datasource,
        "access": "proxy",
        "editable": False,
        "jsonData": {**(json_data or {}), "httpHeaderName1": TENANT_HEADER},
        "secureJsonData": {"httpHeaderValue1": cfg.tenant_id},
    }


HISTORY_SUFFIX = " (with history)"
ANONYMOUS_TENANT = "anonymous"
"""Where Pyroscope stores profiles that arrive with no tenant while multitenancy is off."""


def history_datasources(cfg: Config, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A read-only twin of each federating datasource whose tenant header adds the legacy tenants."""
    legacy = cfg.legacy_read_tenants.by_service()
    twins = []
    for datasource in current:
        # Each primary datasource's uid is its backend's service name.
        service = datasource["uid"]
        if not legacy.get(service):
            continue
        twins.append({**datasource, "name": datasource["name"] + HISTORY_SUFFIX, "uid": f"{service}-history",
                      "isDefault": False, "secureJsonData": {"httpHeaderValue1": cfg.read_tenants(service)}})
    if cfg.pyroscope_legacy_anonymous:
        pyroscope = next(ds for ds in current if ds["uid"] == PYROSCOPE)
        twins.append({**pyroscope, "name": "Pyroscope (anonymous, before the tenant)", "uid": "pyroscope-anonymous",
                      "secureJsonData": {"httpHeaderValue1": ANONYMOUS_TENANT}})
    return twins


def _prefixed(cfg: Config, service: str, path: str = "") -> str:
    return service_url(cfg, service, path=cfg.service(service).path_prefix + path)


def datasources(cfg: Config) -> list[dict[str, Any]]:
    return [
        _with_tenant(cfg, {"name": "Mimir", "type": "prometheus", "uid": MIMIR, "isDefault": True,
                           # Mimir serves the Prometheus query API under /prometheus.
                           "url": _prefixed(cfg, MIMIR, "/prometheus")},
                     {"httpMethod": "POST"}),
        _with_tenant(cfg, {"name": "Loki", "type": "loki", "uid": LOKI, "url": _prefixed(cfg, LOKI)}),
        _with_tenant(cfg, {"name": "Tempo", "type": "tempo", "uid": TEMPO, "url": _prefixed(cfg, TEMPO)},
                     # No serviceMap link: Tempo runs no metrics-generator here, so Mimir would hold
                     # no service-graph series and the map would stay empty.
                     {"tracesToLogsV2": {"datasourceUid": LOKI},
                      "tracesToProfiles": {"datasourceUid": PYROSCOPE}}),
        _with_tenant(cfg, {"name": "Pyroscope", "type": PYROSCOPE_DATASOURCE_TYPE, "uid": PYROSCOPE,
                           "url": _prefixed(cfg, PYROSCOPE)}),
    ]


def render(cfg: Config) -> dict[str, str]:
    current = datasources(cfg)
    return {DATASOURCES_FILE: to_yaml({"apiVersion": 1, "datasources": current + history_datasources(cfg, current)})}


def environment(cfg: Config, *, root_url: str | None = None) -> dict[str, str]:
    """Plain settings only: the admin password arrives through the task's `secrets`."""
    env = {
        "GF_PATHS_PROVISIONING": f"{CONFIG_MOUNT}/{PROVISIONING_DIR}",
        "GF_SERVER_HTTP_PORT": str(cfg.service(NAME).http_port),
        "GF_SECURITY_ADMIN_USER": cfg.ecs.grafana_admin_user,
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
    }
    if root_url is not None:
        env["GF_SERVER_ROOT_URL"] = root_url
    return env


def task_settings(cfg: Config, task: TaskContext) -> TaskSettings:
    """Grafana's settings are environment variables; its root URL is the ALB's, its password a secret."""
    return TaskSettings(environment=environment(cfg, root_url=f"{task.base_url}/"),
                        secrets={ADMIN_PASSWORD_VARIABLE: task.admin_password_arn})


def command(cfg: Config) -> list[str]:
    """The upstream image's own entrypoint and arguments; settings come from the environment."""
    return []


def ports(cfg: Config) -> list[int]:
    """Container ports the rendered config listens on (ECS port mappings)."""
    return task_ports(cfg, NAME)
