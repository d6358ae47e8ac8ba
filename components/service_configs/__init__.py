"""Service configs rendered from `config.common.Config`: one module per service.

`render_all(cfg)` maps service name -> {file name: text}; `RENDERERS` maps service name ->
the module (with `render(cfg)` and `command(cfg)`). 60-ecs delivers the files through an
init container into a read-only task volume; tests parse them.
"""

from __future__ import annotations

from types import ModuleType

from components.service_configs import alloy, grafana, loki, mimir, pyroscope, tempo
from config.common import Config

RENDERERS: dict[str, ModuleType] = {
    "grafana": grafana,
    "mimir": mimir,
    "loki": loki,
    "tempo": tempo,
    "pyroscope": pyroscope,
    "alloy": alloy,
}


def render_all(cfg: Config) -> dict[str, dict[str, str]]:
    return {name: module.render(cfg) for name, module in RENDERERS.items()}
