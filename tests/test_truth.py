"""Route truth, tenant truth, and the seed's removals (docs/architecture.md "Tenancy" and "Routing": the two incidents must not return).

Route truth reads the synthesized 50-alb JSON and the rendered service configs (parsed
YAML), and applies what upstream serves given those settings (`served_endpoints`):
every listener rule and health check must reach a port the service's config listens
on and a path that exists there. The same checker is run on broken variants to show it
catches a rule pointing at a port nothing listens on.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from components.service_configs import RENDERERS, prefix_proxy, render_all
from components.service_configs import grafana as grafana_renderer
from config.common import Config, ServiceConfig, load_config
from config.validation import ConfigError
from tests.alloy_parser import components, parse, walk
from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value
from tests.upstream_facts import runtime
from tests.variants import VARIANT, VARIANT_TENANT

ALB = "50-alb"
ECS = "60-ecs"
REPO = Path(__file__).resolve().parent.parent
# Built from parts so that no file in the repo, this one included, holds the old names.
OLD_TENANTS = tuple("aws-rag-" + suffix for suffix in ("cloudwatch", "ecs", "ec2"))
_TARGET_GROUP_REF = re.compile(r"^\$\{aws_lb_target_group\.([\w-]+)\.arn\}$")

Served = dict[int, list[str]]
"""Port -> HTTP paths a service answers on that port (from all network interfaces)."""


# --- what each upstream binary serves, given its rendered config ---------------------------

def _port_of(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


def served_endpoints(service: str, files: dict[str, str], cfg: Config) -> Served:
    """Ports and paths a service serves according to its rendered config and upstream routing.

    Upstream facts used (checked against the projects' sources and docs):
    - dskit's `server.http_path_prefix` (Mimir, Loki, Pyroscope) puts every route, /ready
      and /metrics included, under the prefix.
    - Mimir: remote write at /api/v1/push, Prometheus API under /prometheus.
    - Loki: all APIs under /loki (push /loki/api/v1/push).
    - Tempo: top-level `http_api_prefix` prefixes /api/...; /ready and /metrics stay at
      the root; the OTLP HTTP receiver serves /v1/traces on its own endpoint, reachable
      from other hosts only when bound to 0.0.0.0.
    - Pyroscope: its routes as recorded from v1.10.0's source (tests/upstream/runtime.yaml);
      the task's proxy serves each under its prefix (`with_proxy`).
    - Grafana: everything on GF_SERVER_HTTP_PORT, health at /api/health.
    """
    if service == "grafana":
        port = int(grafana_renderer.environment(cfg)["GF_SERVER_HTTP_PORT"])
        return {port: ["/", "/login", "/api/health", "/d/home"]}
    (text,) = files.values()
    document = yaml.safe_load(text)
    server = document.get("server", {})
    http_port = server["http_listen_port"]
    prefix = server.get("http_path_prefix", "")
    if service == "mimir":
        return {http_port: [prefix + p for p in ("/api/v1/push", "/ready", "/metrics",
                                                  "/prometheus/api/v1/query")]}
    if service == "loki":
        return {http_port: [prefix + p for p in ("/loki/api/v1/push", "/loki/api/v1/query_range",
                                                  "/ready", "/metrics")]}
    if service == "pyroscope":
        served = {http_port: [prefix + p for p in ("/metrics", *pyroscope_routes())]}
        return with_proxy(served, cfg.service(service))
    if service == "tempo":
        api = document.get("http_api_prefix", "")
        served: Served = {http_port: [api + "/api/search", api + "/api/echo", api + "/api/traces/0",
                                      "/ready", "/metrics"]}
        protocols = document["distributor"]["receivers"]["otlp"]["protocols"]
        host, port = _port_of(protocols["http"]["endpoint"])
        if host in ("0.0.0.0", ""):
            served.setdefault(port, []).append("/v1/traces")
        return served
    return {}


def pyroscope_routes() -> list[str]:
    """Pyroscope's client-facing routes at its pinned tag (tests/upstream/runtime.yaml), one path each."""
    paths = []
    for route in runtime()["pyroscope"]["routes"]:
        if route.get("internal"):
            continue
        path = route["path"]
        if path.endswith("/*"):
            paths.extend(path[:-1] + method for method in route["methods_listed"])
        else:
            also = route.get("also") or []
            paths.extend([path, *([also] if isinstance(also, str) else also)])
    return paths


_LISTEN = re.compile(r"^\s*listen\s+(\d+);", re.MULTILINE)
_PREFIX_LOCATION = re.compile(r"location\s+(/[^\s{]*/)\s*\{\s*proxy_pass\s+http://127\.0\.0\.1:(\d+)/;")


def proxy_routes(nginx_conf: str) -> tuple[int, str, int]:
    """(listen port, location prefix, upstream port) of the rendered path-stripping proxy."""
    (listen,) = _LISTEN.findall(nginx_conf)
    ((location, upstream),) = _PREFIX_LOCATION.findall(nginx_conf)
    return int(listen), location, int(upstream)


def with_proxy(served: Served, svc: ServiceConfig) -> Served:
    """Add what the task's proxy serves: `<location>rest` for every `/rest` its upstream port serves.

    `proxy_pass http://host:port/` in a `location /prefix/` block replaces the matched prefix
    with `/` (nginx docs, ngx_http_proxy_module: proxy_pass with a URI); tests/test_prefix_proxy.py
    runs nginx on the rendered file to show it.
    """
    if svc.prefix_proxy is None:
        return served
    (conf,) = prefix_proxy.render(svc).values()
    listen, location, upstream = proxy_routes(conf)
    through = [location + path.removeprefix("/") for path in served.get(upstream, [])]
    return {**served, listen: served.get(listen, []) + through}


def route_violations(alb_stack: dict[str, Any], cfg: Config, rendered: dict[str, dict[str, str]]) -> list[str]:
    """Every way a listener rule, default action or health check misses what the service serves."""
    service_of = {cfg.short_name(target.name): svc.name for svc, target in cfg.routed_targets}
    groups = resources(alb_stack, "aws_lb_target_group")
    problems: list[str] = []

    def check(reference: str, patterns: list[str], where: str) -> None:
        match = _TARGET_GROUP_REF.match(reference)
        if not match:
            problems.append(f"{where}: {reference} is not a target group of this stack")
            return
        group = groups[match.group(1)]
        service = service_of[group["name"]]
        served = served_endpoints(service, rendered[service], cfg)
        port = group["port"]
        if port not in served:
            problems.append(f"{where}: {group['name']} sends to port {port}, where {service} listens on nothing "
                            f"(it listens on {sorted(served)})")
        else:
            for pattern in patterns:
                if not any(fnmatchcase(path, pattern) for path in served[port]):
                    problems.append(f"{where}: no {service} path on port {port} matches {pattern}")
        check_config = group["health_check"]
        check_port = port if check_config["port"] == "traffic-port" else int(check_config["port"])
        if check_config["path"] not in served.get(check_port, []):
            problems.append(f"{where}: health check {check_config['path']} on port {check_port} "
                            f"does not exist in {service}")

    for rule_id, rule in resources(alb_stack, "aws_lb_listener_rule").items():
        for action in rule["action"]:
            if action["type"] == "forward":
                check(action["target_group_arn"], rule["condition"][0]["path_pattern"]["values"],
                      f"rule {rule_id}")
    for listener_id, listener in resources(alb_stack, "aws_lb_listener").items():
        for action in listener["default_action"]:
            if action["type"] == "forward":
                check(action["target_group_arn"], ["/*"], f"listener {listener_id}")
    return problems


def alb_stack_of(cfg: Config) -> dict[str, Any]:
    """`Testing.synth` of 50-alb alone, for a variant config (no full-app synth needed)."""
    from cdktf import Testing

    from tests.helpers import build_config_until

    return json.loads(Testing.synth(build_config_until(ALB, cfg)[ALB]))


# --- route truth ----------------------------------------------------------------------------

def test_every_route_reaches_a_listening_port_and_a_real_path(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(ALB)
    assert len(resources(stack, "aws_lb_listener_rule")) == 5  # the checker has something to check
    assert route_violations(stack, prod.config, render_all(prod.config)) == []


def test_https_routes_are_just_as_true(synthesized: Callable[..., SynthesizedApp]) -> None:
    variant = synthesized("prod", **VARIANT)
    assert route_violations(variant.testing_synth(ALB), variant.config, render_all(variant.config)) == []


def refused_but_built(base: Config, **changes: object) -> Config:
    """A config validation refuses, built anyway: the route checker is the second line behind it."""
    with pytest.raises(ConfigError):
        replace(base, **changes)
    with mock.patch("config.validation.validate"):
        return replace(base, **changes)


def test_a_rule_to_a_port_nothing_listens_on_is_caught() -> None:
    base = load_config()
    tempo = base.service("tempo")
    # The seed's mistake in a new form: the OTLP target group on a port Tempo does not open.
    wrong = replace(tempo, targets=tuple(replace(t, port=4319) if t.name == "tempo-otlp" else t
                                         for t in tempo.targets))
    bad = refused_but_built(base, services=tuple(wrong if svc.name == "tempo" else svc for svc in base.services))
    problems = route_violations(alb_stack_of(bad), bad, render_all(bad))
    assert any("port 4319" in p and "listens on nothing" in p for p in problems), problems


def test_receivers_bound_to_localhost_are_caught(prod: SynthesizedApp) -> None:
    # Tempo 2.7's default: the receiver exists, but only on 127.0.0.1.
    rendered = render_all(prod.config)
    document = yaml.safe_load(rendered["tempo"]["tempo.yaml"])
    document["distributor"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"] = "localhost:4318"
    rendered["tempo"] = {"tempo.yaml": yaml.safe_dump(document)}
    problems = route_violations(prod.testing_synth(ALB), prod.config, rendered)
    assert any("port 4318" in p for p in problems), problems


def test_a_path_outside_the_configured_prefix_is_caught(prod: SynthesizedApp) -> None:
    # Without its proxy Pyroscope has no /pyroscope/ready on the target port: the health check would fail.
    cfg = prod.config
    unproxied = refused_but_built(cfg, services=tuple(replace(svc, prefix_proxy=None) if svc.name == "pyroscope"
                                                      else svc for svc in cfg.services))
    problems = route_violations(prod.testing_synth(ALB), unproxied, render_all(unproxied))
    assert any("pyroscope listens on nothing" in p for p in problems), problems
    # A prefixed Pyroscope behind the proxy would serve /pyroscope/pyroscope/ready, not /pyroscope/ready.
    rendered = render_all(cfg)
    document = yaml.safe_load(rendered["pyroscope"]["pyroscope.yaml"])
    document["server"]["http_path_prefix"] = "/pyroscope"
    rendered["pyroscope"] = {"pyroscope.yaml": yaml.safe_dump(document)}
    problems = route_violations(prod.testing_synth(ALB), cfg, rendered)
    assert any("/pyroscope/ready" in p for p in problems), problems
    # And without Tempo's API prefix nothing under /tempo/* exists.
    document = yaml.safe_load(render_all(prod.config)["tempo"]["tempo.yaml"])
    del document["http_api_prefix"]
    rendered = {**render_all(prod.config), "tempo": {"tempo.yaml": yaml.safe_dump(document)}}
    problems = route_violations(prod.testing_synth(ALB), prod.config, rendered)
    assert any("/tempo/*" in p for p in problems), problems


def test_ecs_maps_every_target_port_into_the_container(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(ECS)
    for service in resources(stack, "aws_ecs_service").values():
        definition = resources(stack, "aws_ecs_task_definition")[service["task_definition"].split(".")[1]]
        mapped = {m["containerPort"] for c in json_value(definition["container_definitions"])
                  for m in c.get("portMappings", [])}
        for block in service.get("load_balancer", []):
            assert block["container_port"] in mapped, (service["name"], block)


# --- tenant truth ---------------------------------------------------------------------------

def tenant_carriers(rendered: dict[str, dict[str, str]]) -> dict[str, str]:
    """Every place a tenant is sent or enforced, by where it is: value found there."""
    found: dict[str, str] = {}
    (datasources_text,) = rendered["grafana"].values()
    for ds in yaml.safe_load(datasources_text)["datasources"]:
        assert ds["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID", ds["name"]
        found[f"grafana datasource {ds['name']}"] = ds["secureJsonData"]["httpHeaderValue1"]
    alloy = components(parse(rendered["alloy"]["config.alloy"]))
    writers = {"otelcol.exporter.otlp", "otelcol.exporter.otlphttp", "prometheus.remote_write",
               "loki.write", "pyroscope.write"}
    for key, component in alloy.items():
        if component.name not in writers:
            continue
        for block in walk(component):
            if block.name not in ("client", "endpoint"):
                continue
            if component.name == "loki.write":
                found[f"alloy {key}"] = block.attributes.get("tenant_id", "")
            else:
                found[f"alloy {key}"] = block.attributes.get("headers", {}).get("X-Scope-OrgID", "")
    return found


def multitenancy_switches(rendered: dict[str, dict[str, str]]) -> dict[str, object]:
    def doc(service: str) -> dict[str, Any]:
        # The service's own file (a task may also carry its proxy's).
        return yaml.safe_load(rendered[service][RENDERERS[service].FILE])

    return {
        "mimir": doc("mimir").get("multitenancy_enabled"),
        "loki": doc("loki").get("auth_enabled"),
        "tempo": doc("tempo").get("multitenancy_enabled"),
        "pyroscope": doc("pyroscope").get("multitenancy_enabled"),
    }


def rendered_from_ecs(stack: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The files each init container writes, decoded from the synthesized 60-ecs JSON."""
    rendered: dict[str, dict[str, str]] = {}
    for resource_id, definition in resources(stack, "aws_ecs_task_definition").items():
        service = resource_id.removeprefix("task-")
        (init,) = [c for c in json_value(definition["container_definitions"]) if not c["essential"]]
        variables = {item["name"]: item["value"] for item in init["environment"]}
        files = re.findall(r'"\$(LGTM_FILE_\d+)" \| base64 -d > /config/(\S+)', init["command"][0])
        rendered[service] = {path: base64.b64decode(variables[name]).decode() for name, path in files}
    return rendered


def test_every_datasource_and_exporter_carries_the_tenant(prod: SynthesizedApp) -> None:
    carriers = tenant_carriers(rendered_from_ecs(prod.testing_synth(ECS)))
    assert len([k for k in carriers if k.startswith("grafana")]) == 4
    assert {k for k in carriers if k.startswith("alloy")} == {
        "alloy otelcol.exporter.otlp.tempo", "alloy prometheus.remote_write.mimir",
        "alloy loki.write.loki", "alloy pyroscope.write.pyroscope"}
    assert set(carriers.values()) == {"jsj-lgtm-header"}, carriers


def test_every_backend_has_multitenancy_on(prod: SynthesizedApp) -> None:
    assert multitenancy_switches(rendered_from_ecs(prod.testing_synth(ECS))) == {
        "mimir": True, "loki": True, "tempo": True, "pyroscope": True}


def test_changing_the_tenant_field_changes_every_carrier(prod: SynthesizedApp,
                                                         synthesized: Callable[..., SynthesizedApp]) -> None:
    variant = synthesized("prod", **VARIANT)
    before = tenant_carriers(rendered_from_ecs(prod.testing_synth(ECS)))
    after = tenant_carriers(rendered_from_ecs(variant.testing_synth(ECS)))
    assert set(after) == set(before)
    assert set(after.values()) == {VARIANT_TENANT}, after
    ecs_json = json.dumps(rendered_from_ecs(variant.testing_synth(ECS)))
    assert "jsj-lgtm-header" not in ecs_json
    assert multitenancy_switches(rendered_from_ecs(variant.testing_synth(ECS))) == {
        "mimir": True, "loki": True, "tempo": True, "pyroscope": True}


@pytest.mark.parametrize("tenant", ["", "two words", "a|b"])
def test_an_empty_or_malformed_tenant_stops_synth_naming_the_field(tenant: str) -> None:
    from config.validation import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tenant_id=tenant)
    assert any(v.field == "tenant_id" for v in caught.value.violations)


def _synthesized_texts(app: SynthesizedApp) -> list[tuple[str, str]]:
    texts = [(str(path), path.read_text()) for path in app.outdir.rglob("*") if path.is_file()]
    # The rendered configs travel base64-encoded: decode them too.
    for service, files in rendered_from_ecs(app.testing_synth(ECS)).items():
        texts.extend((f"{service}:{name}", text) for name, text in files.items())
    return texts


def test_old_tenants_appear_in_no_synthesized_file(prod: SynthesizedApp, staging: SynthesizedApp) -> None:
    texts = _synthesized_texts(prod) + _synthesized_texts(staging)
    assert len(texts) > 10
    for where, text in texts:
        for old in OLD_TENANTS:
            assert old not in text, f"{old} in {where}"


def test_old_tenants_appear_in_no_repository_source() -> None:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    files = [REPO / name for name in listed if name and (REPO / name).is_file()]
    assert len(files) > 20
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for old in OLD_TENANTS:
            assert old not in text, f"{old} in {path.relative_to(REPO)}"


# --- the seed's removals --------------------------------------------------------------------

def test_no_listener_but_http_and_https(prod: SynthesizedApp, synthesized: Callable[..., SynthesizedApp]) -> None:
    assert [lsn["port"] for lsn in resources(prod.testing_synth(ALB), "aws_lb_listener").values()] == [80]
    variant = synthesized("prod", **VARIANT)
    assert sorted(lsn["port"] for lsn in resources(variant.testing_synth(ALB), "aws_lb_listener").values()) == [80, 443]
    for app in (prod, variant):
        for listener in resources(app.testing_synth(ALB), "aws_lb_listener").values():
            assert listener["port"] not in (4317, 4318)


def test_every_target_group_is_reached_through_the_web_listeners(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(ALB)
    referenced = set()
    for rule in resources(stack, "aws_lb_listener_rule").values():
        referenced.update(a["target_group_arn"] for a in rule["action"])
    for listener in resources(stack, "aws_lb_listener").values():
        referenced.update(a.get("target_group_arn") for a in listener["default_action"])
    groups = {f"${{aws_lb_target_group.{gid}.arn}}" for gid in resources(stack, "aws_lb_target_group")}
    assert groups <= referenced, groups - referenced
    # The one OTLP group is the /v1/traces rule's, and it is health-checked on Tempo's HTTP port.
    otlp = [g for g in resources(stack, "aws_lb_target_group").values() if g["port"] == 4318]
    assert len(otlp) == 1 and otlp[0]["health_check"]["port"] == "3200"


def test_no_public_otlp_port(prod: SynthesizedApp) -> None:
    groups = prod.testing_synth("30-security-groups")
    for rule in resources(groups, "aws_vpc_security_group_ingress_rule").values():
        if rule.get("cidr_ipv4") == "0.0.0.0/0" or rule.get("cidr_ipv6") == "::/0":
            assert rule["from_port"] in (80, 443) and rule["to_port"] in (80, 443), rule
    for service in resources(prod.testing_synth(ECS), "aws_ecs_service").values():
        assert service["network_configuration"]["assign_public_ip"] is False


def test_grafanas_profile_queries_reach_pyroscope(prod: SynthesizedApp) -> None:
    """Every request Grafana 11.4's Pyroscope datasource makes exists where its URL points."""
    cfg = prod.config
    (text,) = render_all(cfg)["grafana"].values()
    (datasource,) = [ds for ds in yaml.safe_load(text)["datasources"] if ds["type"] == "grafana-pyroscope-datasource"]
    host_port, _, base_path = datasource["url"].removeprefix("http://").partition("/")
    host, port = _port_of(host_port)
    assert host == f"pyroscope.{cfg.ecs.namespace}"
    served = served_endpoints("pyroscope", render_all(cfg)["pyroscope"], cfg)
    calls = runtime()["pyroscope"]["grafana_datasource"]["requests"]
    assert calls
    for call in calls:
        method, _, path = call.partition(" ")
        full = path.replace("<url>", "/" + base_path if base_path else "")
        assert full in served.get(port, []), (call, port, sorted(served))
