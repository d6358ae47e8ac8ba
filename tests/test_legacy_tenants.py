"""Legacy tenants: readable from Grafana through federation, while every writer keeps one tenant."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.service_configs import RENDERERS, render_all
from config.common import Config, LegacyReadTenants, load_config
from config.validation import ConfigError
from tests.test_truth import OLD_TENANTS, tenant_carriers
from tests.upstream_facts import lookup

# The HCL project's tenants, built from parts (no file in the repo holds their names).
LOGS_TENANT, METRICS_TENANT = (name for name in OLD_TENANTS if not name.endswith("ecs"))
WORK_LOG = LegacyReadTenants(metrics=(METRICS_TENANT,), logs=(LOGS_TENANT,))
FEDERATION_KEYS = {
    "mimir": "tenant_federation.enabled",
    "loki": "querier.multi_tenant_queries_enabled",
    "tempo": "query_frontend.multi_tenant_queries_enabled",
}


def document(cfg: Config, service: str) -> dict[str, Any]:
    return yaml.safe_load(render_all(cfg)[service][RENDERERS[service].FILE])


def datasources(cfg: Config) -> dict[str, dict[str, Any]]:
    (text,) = render_all(cfg)["grafana"].values()
    return {ds["name"]: ds for ds in yaml.safe_load(text)["datasources"]}


def header(datasource: dict[str, Any]) -> str:
    return str(datasource["secureJsonData"]["httpHeaderValue1"])


def test_federation_is_off_and_no_history_datasource_by_default() -> None:
    cfg = load_config()
    for service, key in FEDERATION_KEYS.items():
        assert lookup(document(cfg, service), key) is None, service
    assert sorted(datasources(cfg)) == ["Loki", "Mimir", "Pyroscope", "Tempo"]


def test_the_work_logs_two_tenants_become_readable_history() -> None:
    assert METRICS_TENANT.endswith("ec2") and LOGS_TENANT.endswith("cloudwatch")
    cfg = load_config(legacy_read_tenants=WORK_LOG)
    assert lookup(document(cfg, "mimir"), FEDERATION_KEYS["mimir"]) is True
    assert lookup(document(cfg, "loki"), FEDERATION_KEYS["loki"]) is True
    assert lookup(document(cfg, "tempo"), FEDERATION_KEYS["tempo"]) is None  # no legacy traces
    found = datasources(cfg)
    assert header(found["Mimir (with history)"]) == f"{cfg.tenant_id}|{METRICS_TENANT}"
    assert header(found["Loki (with history)"]) == f"{cfg.tenant_id}|{LOGS_TENANT}"
    assert "Tempo (with history)" not in found
    # The twins query the same backend; the primaries keep the one tenant and stay the default.
    assert found["Mimir (with history)"]["url"] == found["Mimir"]["url"]
    assert found["Mimir (with history)"]["uid"] == "mimir-history" and not found["Mimir (with history)"]["isDefault"]
    assert {header(found[name]) for name in ("Mimir", "Loki", "Tempo", "Pyroscope")} == {cfg.tenant_id}
    assert all(ds["editable"] is False for ds in found.values())


def test_traces_federate_when_listed() -> None:
    cfg = load_config(legacy_read_tenants=LegacyReadTenants(traces=("old-traces", "older-traces")))
    assert lookup(document(cfg, "tempo"), FEDERATION_KEYS["tempo"]) is True
    assert header(datasources(cfg)["Tempo (with history)"]) == f"{cfg.tenant_id}|old-traces|older-traces"


@pytest.mark.parametrize("legacy", [LegacyReadTenants(), WORK_LOG,
                                    LegacyReadTenants(metrics=("a", "b"), logs=("c",), traces=("d",))])
def test_no_writer_ever_carries_more_than_one_tenant(legacy: LegacyReadTenants) -> None:
    cfg = load_config(legacy_read_tenants=legacy, pyroscope_legacy_anonymous=True)
    writers = {where: value for where, value in tenant_carriers(render_all(cfg)).items()
               if where.startswith("alloy ")}
    assert len(writers) == 4
    assert all("|" not in value and value == cfg.tenant_id for value in writers.values()), writers


def test_changing_the_tenant_moves_writers_primaries_and_the_head_of_history() -> None:
    cfg = load_config(tenant_id="moved-tenant", legacy_read_tenants=WORK_LOG)
    carriers = tenant_carriers(render_all(cfg))
    primaries = {where: v for where, v in carriers.items() if "history" not in where and "anonymous" not in where}
    assert set(primaries.values()) == {"moved-tenant"}
    assert header(datasources(cfg)["Mimir (with history)"]).split("|") == ["moved-tenant", METRICS_TENANT]


def test_pyroscope_history_is_a_separate_anonymous_datasource() -> None:
    assert "Pyroscope (anonymous, before the tenant)" not in datasources(load_config())
    found = datasources(load_config(pyroscope_legacy_anonymous=True))
    anonymous = found["Pyroscope (anonymous, before the tenant)"]
    assert header(anonymous) == "anonymous" and anonymous["url"] == found["Pyroscope"]["url"]
    assert header(found["Pyroscope"]) == load_config().tenant_id


@pytest.mark.parametrize(("legacy", "field"), [
    (LegacyReadTenants(logs=("jsj-lgtm-header",)), "legacy_read_tenants.logs[0]"),
    (LegacyReadTenants(metrics=("old", "old")), "legacy_read_tenants.metrics[1]"),
    (LegacyReadTenants(traces=("a|b",)), "legacy_read_tenants.traces[0]"),
    (LegacyReadTenants(logs=("old\n",)), "legacy_read_tenants.logs[0]"),
    (LegacyReadTenants(logs=("",)), "legacy_read_tenants.logs[0]"),
    (LegacyReadTenants(metrics="old"), "legacy_read_tenants.metrics"),  # type: ignore[arg-type]
])
def test_a_bad_legacy_tenant_stops_synth_naming_the_field(legacy: LegacyReadTenants, field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(legacy_read_tenants=legacy)
    assert [v.field for v in raised.value.violations] == [field]


def test_the_longest_legacy_tenant_is_accepted() -> None:
    longest = "x" * 150
    assert load_config(legacy_read_tenants=LegacyReadTenants(logs=(longest,))).read_tenants("loki").endswith(longest)
