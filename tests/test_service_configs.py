"""The rendered service configs, parsed (YAML, and Alloy syntax with tests/alloy_parser.py).

Pure Python: no stack, no jsii. Each test checks one requirement from docs/architecture.md
("Routing", "Tenancy", "Running upstream images unchanged") against the parsed document.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from components.service_configs import RENDERERS, render_all
from config.common import Config, Ports, load_config
from config.service_kinds import CONFIG_MOUNT
from tests.alloy_parser import AlloySyntaxError, Reference, components, parse, references, walk

TENANT_HEADER = "X-Scope-OrgID"


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def rendered(cfg: Config) -> dict[str, dict[str, str]]:
    return render_all(cfg)


def yaml_of(rendered: dict[str, dict[str, str]], service: str) -> dict[str, Any]:
    (text,) = rendered[service].values()
    return yaml.safe_load(text)


def alloy_of(rendered: dict[str, dict[str, str]]) -> list:
    return parse(rendered["alloy"]["config.alloy"])


def test_every_service_has_a_renderer_and_files(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    assert set(rendered) == {svc.name for svc in cfg.services}
    for service, files in rendered.items():
        assert files, service
        for name, text in files.items():
            assert not name.startswith("/") and ".." not in name, name
            assert text.strip(), (service, name)


@pytest.mark.parametrize("service", ["mimir", "loki", "tempo", "pyroscope", "grafana"])
def test_yaml_files_parse_to_mappings(rendered: dict[str, dict[str, str]], service: str) -> None:
    for text in rendered[service].values():
        assert isinstance(yaml.safe_load(text), dict)


def test_mimir_is_multitenant_monolithic_on_its_port(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    mimir = yaml_of(rendered, "mimir")
    assert mimir["multitenancy_enabled"] is True
    assert mimir["target"] == "all"
    assert mimir["server"]["http_listen_port"] == cfg.service("mimir").http_port == 8080
    assert mimir["server"]["grpc_listen_port"] == cfg.ports.grpc


def test_mimir_stores_blocks_ruler_alertmanager_under_distinct_prefixes_of_its_bucket(
        cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    mimir = yaml_of(rendered, "mimir")
    storage = mimir["common"]["storage"]
    assert storage["backend"] == "s3"
    assert storage["s3"]["bucket_name"] == cfg.data_bucket("mimir") == "jsj-lgtm-mimir-prod"
    assert storage["s3"]["region"] == cfg.aws_region
    assert storage["s3"]["endpoint"] == f"s3.{cfg.aws_region}.amazonaws.com"
    prefixes = [mimir[key]["storage_prefix"] for key in ("blocks_storage", "ruler_storage", "alertmanager_storage")]
    assert prefixes == [cfg.storage.mimir_prefixes.blocks, cfg.storage.mimir_prefixes.ruler,
                        cfg.storage.mimir_prefixes.alertmanager]
    assert len(set(prefixes)) == 3
    for prefix in prefixes:
        assert prefix.isalnum(), prefix  # Mimir accepts letters and digits only


def test_mimir_rings_fit_one_replica(rendered: dict[str, dict[str, str]]) -> None:
    mimir = yaml_of(rendered, "mimir")
    rings = [mimir["distributor"]["ring"], mimir["ingester"]["ring"], mimir["store_gateway"]["sharding_ring"],
             mimir["compactor"]["sharding_ring"], mimir["ruler"]["ring"], mimir["alertmanager"]["sharding_ring"]]
    for ring in rings:
        assert ring["kvstore"]["store"] in ("inmemory", "memberlist")
        assert ring.get("replication_factor", 1) == 1
    assert mimir["ingester"]["ring"]["replication_factor"] == 1


def test_loki_has_auth_on_and_its_own_bucket(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    loki = yaml_of(rendered, "loki")
    assert loki["auth_enabled"] is True
    assert loki["server"]["http_listen_port"] == cfg.service("loki").http_port == 3100
    s3 = loki["common"]["storage"]["s3"]
    assert s3["bucketnames"] == cfg.data_bucket("loki")
    assert s3["region"] == cfg.aws_region
    assert loki["common"]["replication_factor"] == 1
    assert loki["common"]["ring"]["kvstore"]["store"] == "inmemory"
    (period,) = loki["schema_config"]["configs"]
    assert (period["store"], period["object_store"], period["schema"]) == ("tsdb", "s3", "v13")
    assert "http_path_prefix" not in loki["server"]  # Loki's APIs already live under /loki


def test_tempo_multitenancy_ports_and_api_prefix(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    tempo = yaml_of(rendered, "tempo")
    assert tempo["multitenancy_enabled"] is True
    assert tempo["server"]["http_listen_port"] == 3200 == cfg.service("tempo").http_port
    # Tempo's http_api_prefix is a top-level key; under `server` Tempo would reject the file.
    assert tempo["http_api_prefix"] == "/tempo" == cfg.service("tempo").path_prefix
    assert "http_api_prefix" not in tempo["server"]


def test_tempo_otlp_receivers_listen_on_all_interfaces(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    protocols = yaml_of(rendered, "tempo")["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == f"0.0.0.0:{cfg.ports.otlp_grpc}" == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == f"0.0.0.0:{cfg.ports.otlp_http}" == "0.0.0.0:4318"


def test_tempo_stores_traces_in_its_bucket(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    trace = yaml_of(rendered, "tempo")["storage"]["trace"]
    assert trace["backend"] == "s3"
    assert trace["s3"]["bucket"] == cfg.data_bucket("tempo")
    assert trace["s3"]["region"] == cfg.aws_region
    assert trace["wal"]["path"] and trace["local"]["path"]


def test_pyroscope_multitenant_and_unprefixed(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    pyroscope = yaml_of(rendered, "pyroscope")
    assert pyroscope["multitenancy_enabled"] is True
    # Its distributor pushes to the ingester at an unprefixed path: a prefix would 404 it.
    assert "http_path_prefix" not in pyroscope["server"]
    assert cfg.service("pyroscope").path_prefix == ""
    assert pyroscope["server"]["http_listen_port"] == 4041 == cfg.service("pyroscope").http_port
    assert pyroscope["storage"]["backend"] == "s3"
    assert pyroscope["storage"]["s3"]["bucket_name"] == cfg.data_bucket("pyroscope")
    assert pyroscope["storage"]["s3"]["region"] == cfg.aws_region


def test_each_backend_has_its_own_bucket(rendered: dict[str, dict[str, str]]) -> None:
    buckets = [
        yaml_of(rendered, "mimir")["common"]["storage"]["s3"]["bucket_name"],
        yaml_of(rendered, "loki")["common"]["storage"]["s3"]["bucketnames"],
        yaml_of(rendered, "tempo")["storage"]["trace"]["s3"]["bucket"],
        yaml_of(rendered, "pyroscope")["storage"]["s3"]["bucket_name"],
    ]
    assert len(set(buckets)) == 4, buckets


def test_grafana_provisions_four_datasources_over_cloud_map(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    document = yaml_of(rendered, "grafana")
    assert document["apiVersion"] == 1
    by_type = {ds["type"]: ds for ds in document["datasources"]}
    assert sorted(by_type) == ["grafana-pyroscope-datasource", "loki", "prometheus", "tempo"]
    ns = cfg.ecs.namespace
    assert by_type["prometheus"]["url"] == f"http://mimir.{ns}:8080/prometheus"
    assert by_type["loki"]["url"] == f"http://loki.{ns}:3100"
    assert by_type["tempo"]["url"] == f"http://tempo.{ns}:3200/tempo"
    assert by_type["grafana-pyroscope-datasource"]["url"] == f"http://pyroscope.{ns}:4041"
    assert sum(1 for ds in document["datasources"] if ds.get("isDefault")) == 1


def test_no_service_map_without_a_metrics_generator(rendered: dict[str, dict[str, str]]) -> None:
    # Grafana's service map reads series that only Tempo's metrics-generator writes, and the
    # generator idles unless metrics_generator.storage.path is set (tests/upstream/runtime.yaml).
    tempo_datasource = next(ds for ds in yaml_of(rendered, "grafana")["datasources"] if ds["type"] == "tempo")
    generator_on = bool(yaml_of(rendered, "tempo").get("metrics_generator", {}).get("storage", {}).get("path"))
    assert ("serviceMap" in tempo_datasource["jsonData"]) == generator_on


def test_every_datasource_sends_the_tenant_header(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    for ds in yaml_of(rendered, "grafana")["datasources"]:
        assert ds["jsonData"]["httpHeaderName1"] == TENANT_HEADER, ds["name"]
        assert ds["secureJsonData"]["httpHeaderValue1"] == cfg.tenant_id, ds["name"]
        # The value is secure data, never plain jsonData.
        assert cfg.tenant_id not in yaml.safe_dump(ds["jsonData"]), ds["name"]


def test_alloy_config_parses_and_every_reference_resolves(rendered: dict[str, dict[str, str]]) -> None:
    declared = components(alloy_of(rendered))
    seen = 0
    for component in declared.values():
        for block in walk(component):
            for ref in [r for value in block.attributes.values() for r in references(value)]:
                owner = ref.expression.rsplit(".", 1)[0]
                assert owner in declared, f"{ref.expression} refers to an undeclared component"
                seen += 1
    assert seen >= 8


def test_alloy_parser_rejects_broken_syntax() -> None:
    with pytest.raises(AlloySyntaxError):
        parse('loki.write "x" {\n  endpoint {\n    url = "http://a"\n  }\n')
    with pytest.raises(AlloySyntaxError):
        parse('loki.write "x" { url = }')


def test_alloy_receives_otlp_grpc_and_http_on_all_interfaces(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    receiver = components(alloy_of(rendered))["otelcol.receiver.otlp.default"]
    assert receiver.block("grpc").attributes["endpoint"] == f"0.0.0.0:{cfg.ports.otlp_grpc}"
    assert receiver.block("http").attributes["endpoint"] == f"0.0.0.0:{cfg.ports.otlp_http}"
    outputs = receiver.block("output").attributes
    assert set(outputs) == {"metrics", "logs", "traces"}


def test_alloy_forwards_each_signal_to_its_backend(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    declared = components(alloy_of(rendered))
    ns = cfg.ecs.namespace
    batch = declared["otelcol.processor.batch.default"].block("output").attributes
    assert batch["traces"] == [Reference("otelcol.exporter.otlp.tempo.input")]
    assert batch["metrics"] == [Reference("otelcol.exporter.prometheus.mimir.input")]
    assert batch["logs"] == [Reference("otelcol.exporter.loki.loki.input")]
    client = declared["otelcol.exporter.otlp.tempo"].block("client").attributes
    assert client["endpoint"] == f"tempo.{ns}:{cfg.ports.otlp_grpc}"
    assert declared["prometheus.remote_write.mimir"].block("endpoint").attributes["url"] == \
        f"http://mimir.{ns}:8080/api/v1/push"
    assert declared["loki.write.loki"].block("endpoint").attributes["url"] == \
        f"http://loki.{ns}:3100/loki/api/v1/push"
    assert declared["pyroscope.write.pyroscope"].block("endpoint").attributes["url"] == \
        f"http://pyroscope.{ns}:4041"


def test_alloy_scrapes_the_stacks_own_metrics_into_mimir(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    scrape = components(alloy_of(rendered))["prometheus.scrape.stack"].attributes
    assert scrape["forward_to"] == [Reference("prometheus.remote_write.mimir.receiver")]
    targets = {t["job"]: t for t in scrape["targets"]}
    assert set(targets) == {svc.name for svc in cfg.services}
    assert targets["pyroscope"]["__metrics_path__"] == "/metrics"  # unprefixed, behind its proxy
    assert targets["tempo"]["__metrics_path__"] == "/metrics"  # http_api_prefix does not move /metrics
    assert targets["mimir"]["__address__"] == f"mimir.{cfg.ecs.namespace}:8080"


def test_alloy_scrapes_go_profiles_into_pyroscope(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    scrape = components(alloy_of(rendered))["pyroscope.scrape.stack"].attributes
    assert scrape["forward_to"] == [Reference("pyroscope.write.pyroscope.receiver")]
    names = {t["service_name"] for t in scrape["targets"]}
    assert names == {"mimir", "loki", "tempo", "pyroscope"}  # Pyroscope runs unprefixed now


def test_a_dskit_prefixed_service_is_not_profiled(cfg: Config) -> None:
    # pyroscope.scrape in Alloy 1.5 ignores `path_prefix` (grafana/alloy#2605): prefixed pprof 404s.
    services = tuple(replace(svc, path_prefix="/mimir") if svc.name == "mimir" else svc for svc in cfg.services)
    alloy = components(parse(RENDERERS["alloy"].render(replace(cfg, services=services))["config.alloy"]))
    names = {t["service_name"] for t in alloy["pyroscope.scrape.stack"].attributes["targets"]}
    assert names == {"loki", "tempo", "pyroscope"}


def test_ports_follow_config(cfg: Config) -> None:
    # Tempo's OTLP target moves with its receiver: an ALB target on the old port reaches nothing.
    services = tuple(replace(svc, targets=tuple(replace(t, port=14318) if t.port == 4318 else t for t in svc.targets))
                     for svc in cfg.services)
    moved = replace(cfg, ports=Ports(otlp_grpc=14317, otlp_http=14318, grpc=19095), services=services)
    tempo = yaml.safe_load(RENDERERS["tempo"].render(moved)["tempo.yaml"])
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert (protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]) == ("0.0.0.0:14317", "0.0.0.0:14318")
    assert tempo["server"]["grpc_listen_port"] == 19095
    alloy = components(parse(RENDERERS["alloy"].render(moved)["config.alloy"]))
    assert alloy["otelcol.exporter.otlp.tempo"].block("client").attributes["endpoint"].endswith(":14317")
    assert RENDERERS["tempo"].ports(moved) == [3200, 14317, 14318]


def test_staging_renders_staging_buckets() -> None:
    staging = render_all(load_config("staging"))
    assert yaml_of(staging, "tempo")["storage"]["trace"]["s3"]["bucket"] == "jsj-lgtm-tempo-staging"
    assert yaml_of(staging, "mimir")["common"]["storage"]["s3"]["bucket_name"] == "jsj-lgtm-mimir-staging"


def test_commands_load_the_rendered_files(cfg: Config, rendered: dict[str, dict[str, str]]) -> None:
    for service in ("mimir", "loki", "tempo", "pyroscope"):
        (filename,) = rendered[service]
        assert RENDERERS[service].command(cfg) == [f"-config.file={CONFIG_MOUNT}/{filename}"]
    alloy_command = RENDERERS["alloy"].command(cfg)
    assert alloy_command[0] == "run" and alloy_command[-1] == f"{CONFIG_MOUNT}/config.alloy"
    assert f"--server.http.listen-addr=0.0.0.0:{cfg.service('alloy').http_port}" in alloy_command


def test_every_tempo_ring_advertises_loopback(rendered: dict[str, dict[str, str]]) -> None:
    """Each ring Tempo 2.7.1 runs looks up eth0 unless its address is set (tests/upstream/runtime.yaml)."""
    from tests.upstream_facts import lookup, runtime

    tempo = yaml_of(rendered, "tempo")
    # The rings that pick an address from network interfaces (the query workers and memberlist do not).
    rings = [ring for ring in runtime()["tempo"]["ring_addresses"]["rings"] if "interfaces_key" in ring]
    assert {ring["ring"] for ring in rings} >= {"ingester", "metrics-generator"}
    for ring in rings:
        assert lookup(tempo, ring["address_key"]) == "127.0.0.1", ring["address_key"]


def test_pyroscope_does_not_push_its_own_profiles_without_a_tenant(rendered: dict[str, dict[str, str]]) -> None:
    from tests.upstream_facts import lookup, runtime

    key = runtime()["pyroscope"]["self_profiling"]["key"]
    assert key == "self_profiling.disable_push"
    assert lookup(yaml_of(rendered, "pyroscope"), key) is True
