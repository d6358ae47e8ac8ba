"""Service configs rendered from `config.common.Config`: one module per service.

`render_all(cfg)` maps service kind -> {file name: text}; `RENDERERS` maps service kind ->
its module, a `common.ServiceRenderer`. 60-ecs delivers the files through an init container
into a read-only task volume; tests parse them.
"""

from __future__ import annotations

from components.service_configs import alloy, grafana, loki, mimir, pyroscope, tempo
from components.service_configs.common import ServiceRenderer
from config.common import Config

# Listed one by one: mypy checks each module against `ServiceRenderer` (a loop over modules would not).
RENDERERS: dict[str, ServiceRenderer] = {
    grafana.NAME: grafana,
    mimir.NAME: mimir,
    loki.NAME: loki,
    tempo.NAME: tempo,
    pyroscope.NAME: pyroscope,
    alloy.NAME: alloy,
}


def render_all(cfg: Config) -> dict[str, dict[str, str]]:
    return {name: module.render(cfg) for name, module in RENDERERS.items()}
