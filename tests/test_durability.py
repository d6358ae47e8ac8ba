"""Nothing lost on a deploy, one retention per signal, enforced by the backend that owns the data.

Key names and defaults come from tests/upstream/runtime.yaml and the vendored references
(tests/test_upstream_reference.py checks every rendered key exists at the pinned tag).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from components.service_configs import RENDERERS, render_all
from config.common import Config, EcsConfig, RetentionConfig, load_config
from config.validation import ConfigError
from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value
from tests.upstream_facts import lookup, runtime

BACKENDS = ("mimir", "loki", "tempo", "pyroscope")
# Where each backend takes its retention (the list, confirmed in runtime.yaml's `retention`).
RETENTION_KEYS = {
    "mimir": "limits.compactor_blocks_retention_period",
    "loki": "limits_config.retention_period",
    "tempo": "compactor.compaction.block_retention",
    "pyroscope": "limits.compactor_blocks_retention_period",
}
# The flush-on-shutdown switch of each backend that has one (all default false upstream).
FLUSH_KEYS = {
    "mimir": "blocks_storage.tsdb.flush_blocks_on_shutdown",
    "loki": "ingester.wal.flush_on_shutdown",
    "tempo": "ingester.flush_all_on_shutdown",
}


def documents(cfg: Config) -> dict[str, dict[str, Any]]:
    rendered = render_all(cfg)
    return {name: yaml.safe_load(rendered[name][RENDERERS[name].FILE]) for name in BACKENDS}


def hours(duration: str) -> int:
    assert duration.endswith("h") and duration[:-1].isdigit(), duration
    return int(duration[:-1])


def retention_problems(cfg: Config, docs: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for service, key in RETENTION_KEYS.items():
        value = lookup(docs[service], key)
        expected = cfg.retention.by_service()[service] * 24
        if value is None or hours(str(value)) != expected:
            problems.append(f"{service}: {key} is {value!r}, config says {expected}h")
    if not lookup(docs["loki"], "compactor.retention_enabled"):
        problems.append("loki: compactor.retention_enabled is off, so retention_period deletes nothing")
    if not lookup(docs["loki"], "compactor.delete_request_store"):
        problems.append("loki: retention needs compactor.delete_request_store")
    return problems


def flush_problems(docs: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{service}: {key} is not true" for service, key in FLUSH_KEYS.items()
            if lookup(docs[service], key) is not True]


def test_the_recorded_keys_are_the_ones_checked() -> None:
    facts = runtime()
    for service, key in RETENTION_KEYS.items():
        assert key in json.dumps(facts[service]["retention"]), service
    for service, key in FLUSH_KEYS.items():
        recorded = facts[service]["flush_on_shutdown"]
        assert key in json.dumps(recorded) and "false" in json.dumps(recorded).lower(), service


@pytest.mark.parametrize("retention", [RetentionConfig(), RetentionConfig(metrics_days=30, logs_days=7,
                                                                          traces_days=3, profiles_days=90)])
def test_every_backend_enforces_the_configured_retention(retention: RetentionConfig) -> None:
    cfg = load_config(retention=retention)
    assert retention_problems(cfg, documents(cfg)) == []


def test_a_backend_left_on_its_default_retention_is_caught() -> None:
    cfg = load_config()
    docs = documents(cfg)
    del docs["tempo"]["compactor"]["compaction"]  # Tempo's default: 336h whatever the config says
    docs["loki"]["compactor"]["retention_enabled"] = False
    problems = retention_problems(cfg, docs)
    assert any(p.startswith("tempo:") for p in problems) and any("retention_enabled" in p for p in problems)


def test_no_bucket_expires_data_before_its_backend_does(prod: SynthesizedApp) -> None:
    storage = prod.stack_json("20-storage")
    buckets = {body["bucket"]: name for name, body in resources(storage, "aws_s3_bucket").items()}
    checked = 0
    for body in resources(storage, "aws_s3_bucket_lifecycle_configuration").values():
        bucket = next(name for name, ref in buckets.items() if ref in body["bucket"])
        service = next((s for s in BACKENDS if prod.config.data_bucket(s) == bucket), None)
        if service is None:
            continue
        checked += 1
        for rule in body["rule"]:
            for expiration in rule.get("expiration") or []:
                # An object-age rule would delete under the backend's live index: none at all.
                pytest.fail(f"{bucket} rule {rule['id']} expires current objects: {expiration}")
    assert checked == len(BACKENDS)


def test_every_flush_on_shutdown_is_on(prod: SynthesizedApp) -> None:
    assert flush_problems(documents(prod.config)) == []


def test_a_flush_left_at_its_default_is_caught() -> None:
    docs = documents(load_config())
    del docs["loki"]["ingester"]
    docs["mimir"]["blocks_storage"]["tsdb"]["flush_blocks_on_shutdown"] = False
    assert flush_problems(docs) == ["mimir: blocks_storage.tsdb.flush_blocks_on_shutdown is not true",
                                    "loki: ingester.wal.flush_on_shutdown is not true"]


def test_stop_timeout_leaves_the_flush_its_budget(prod: SynthesizedApp) -> None:
    cfg = prod.config
    docs = documents(cfg)
    for service in BACKENDS:
        assert lookup(docs[service], "server.graceful_shutdown_timeout") == f"{cfg.ecs.graceful_shutdown_seconds}s"
    stack = prod.stack_json("60-ecs")
    for name, body in resources(stack, "aws_ecs_task_definition").items():
        for container in json_value(body["container_definitions"]):
            if container["essential"]:
                assert container["stopTimeout"] == cfg.ecs.stop_timeout_seconds <= 120, (name, container["name"])
                assert container["stopTimeout"] - cfg.ecs.graceful_shutdown_seconds >= 30


@pytest.mark.parametrize(("ecs", "field"), [
    (EcsConfig(stop_timeout_seconds=121), "ecs.stop_timeout_seconds"),
    (EcsConfig(stop_timeout_seconds=1), "ecs.stop_timeout_seconds"),
    (EcsConfig(stop_timeout_seconds=60, graceful_shutdown_seconds=45), "ecs.graceful_shutdown_seconds"),
    (EcsConfig(graceful_shutdown_seconds=0), "ecs.graceful_shutdown_seconds"),
])
def test_a_shutdown_that_leaves_no_flush_budget_is_refused(ecs: EcsConfig, field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(ecs=ecs)
    assert [v.field for v in raised.value.violations] == [field]


def test_the_edge_of_the_shutdown_budget_is_accepted() -> None:
    cfg = load_config(ecs=EcsConfig(stop_timeout_seconds=120, graceful_shutdown_seconds=90))
    assert cfg.flush_budget_seconds == 30


@pytest.mark.parametrize("days", [0, -1, "30", True, 1.5])
def test_a_retention_that_is_not_whole_positive_days_is_refused(days: object) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(retention=RetentionConfig(logs_days=days))  # type: ignore[arg-type]
    assert "retention.logs_days" in [v.field for v in raised.value.violations]


def test_one_day_is_the_shortest_retention() -> None:
    cfg = load_config(retention=RetentionConfig(metrics_days=1, logs_days=1, traces_days=1, profiles_days=1))
    assert {lookup(doc, RETENTION_KEYS[s]) for s, doc in documents(cfg).items()} == {"24h"}


def test_alloy_buffers_for_a_restarting_backend_as_configured() -> None:
    from config.common import CollectorBufferConfig
    from tests.alloy_parser import components, parse

    cfg = load_config(collector_buffers=CollectorBufferConfig(metrics_wal_keepalive_minutes=45,
                                                              traces_queue_batches=77, logs_max_backoff_retries=9))
    alloy = components(parse(RENDERERS["alloy"].render(cfg)["config.alloy"]))
    assert alloy["prometheus.remote_write.mimir"].block("wal").attributes["max_keepalive_time"] == "45m"
    assert alloy["otelcol.exporter.otlp.tempo"].block("sending_queue").attributes["queue_size"] == 77
    assert alloy["loki.write.loki"].block("endpoint").attributes["max_backoff_retries"] == 9


def test_alloys_wal_is_on_a_writable_task_volume(prod: SynthesizedApp) -> None:
    from tests.test_image_facts import tasks

    alloy = next(c for c in tasks(prod)["alloy"] if c["name"] == "alloy")
    (storage,) = [arg.split("=", 1)[1] for arg in alloy["command"] if arg.startswith("--storage.path=")]
    assert any(m["containerPath"] == storage and not m["readOnly"] for m in alloy["mountPoints"])


def test_staging_and_prod_render_the_same_durability() -> None:
    prod_docs, staging_docs = documents(load_config()), documents(load_config("staging"))
    for service in BACKENDS:
        assert lookup(prod_docs[service], RETENTION_KEYS[service]) == \
            lookup(staging_docs[service], RETENTION_KEYS[service])
