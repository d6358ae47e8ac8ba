"""Rendered configs use only keys the pinned upstream versions accept.

Mimir, Loki, Tempo and Pyroscope load their YAML strictly (one unknown key: the task never
starts); Alloy rejects unknown arguments and blocks. The vendored references in
tests/upstream/config_keys/ come from each upstream repository at the pinned tag
(scripts/refresh_upstream_reference.py, docs/upstream-references.md).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.service_configs import alloy, render_all
from config.common import Config, LegacyReadTenants, load_config
from scripts import refresh_upstream_reference as refresh
from tests import upstream_reference
from tests.alloy_parser import parse
from tests.upstream_reference import (
    MissingReference,
    load_reference,
    reference_file,
    unknown_alloy_flags,
    unknown_alloy_keys,
    unknown_key_paths,
)
from tests.variants import VARIANT

YAML_SERVICES = ("mimir", "loki", "tempo", "pyroscope")
REFERENCED_SERVICES = (*YAML_SERVICES, "alloy")


def every_prefix() -> dict[str, object]:
    """Every dskit service under a path prefix: the renderers' `http_path_prefix` branch."""
    services = tuple(replace(svc, path_prefix=svc.path_prefix or f"/{svc.name}")
                     if svc.name in ("mimir", "loki") else svc for svc in load_config().services)
    return {"services": services}


CONFIGS = {"prod": lambda: load_config(), "staging": lambda: load_config("staging"),
           "variant": lambda: load_config("prod", **VARIANT), "prefixed": lambda: load_config(**every_prefix()),
           # Every optional block a backend renders only on request: federation for legacy tenants.
           "legacy-tenants": lambda: load_config(legacy_read_tenants=LegacyReadTenants(
               metrics=("old-metrics",), logs=("old-logs",), traces=("old-traces",)),
               pyroscope_legacy_anonymous=True)}


@cache
def config(name: str) -> Config:
    return CONFIGS[name]()


@cache
def rendered(name: str) -> dict[str, dict[str, str]]:
    return render_all(config(name))


def pinned_reference(cfg: Config, service: str) -> dict[str, Any]:
    return load_reference(service, cfg.service(service).tag)


def described(reference: dict[str, Any]) -> str:
    source = reference["source"]
    return f"{source['repository']}@{source['tag']} ({source['commit'][:12]})"


# ---------------------------------------------------------------- (a) rendered configs


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("service", YAML_SERVICES)
def test_rendered_yaml_keys_exist_upstream(config_name: str, service: str) -> None:
    reference = pinned_reference(config(config_name), service)
    files = rendered(config_name)[service]
    assert files, f"{service} renders no file"
    for filename, text in files.items():
        document = yaml.safe_load(text)
        assert isinstance(document, dict) and document, f"{filename} is empty"
        unknown = unknown_key_paths(reference, document)
        assert unknown == [], (f"{service} {filename} ({config_name}): keys unknown to "
                               f"{described(reference)}: {unknown}")


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_rendered_alloy_components_exist_upstream(config_name: str) -> None:
    reference = pinned_reference(config(config_name), "alloy")
    blocks = parse(rendered(config_name)["alloy"][alloy.FILE])
    assert blocks, "config.alloy declares no component"
    unknown = unknown_alloy_keys(reference, blocks)
    assert unknown == [], f"config.alloy ({config_name}): unknown to {described(reference)}: {unknown}"


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_alloy_run_flags_exist_upstream(config_name: str) -> None:
    cfg = config(config_name)
    args = alloy.command(cfg)
    assert args[0] == "run" and any(arg.startswith("--") for arg in args)
    assert unknown_alloy_flags(pinned_reference(cfg, "alloy"), args[1:]) == []


# ---------------------------------------------------------------- (b) misspelled keys are caught


def rendered_document(service: str) -> dict[str, Any]:
    (text,) = rendered("prod")[service].values()
    return yaml.safe_load(text)


@pytest.mark.parametrize(("service", "section", "wrong", "right"), [
    ("mimir", ("blocks_storage", "tsdb"), "flush_block_on_shutdown", "flush_blocks_on_shutdown"),
    ("mimir", ("server",), "http_listen_prot", "http_listen_port"),
    ("loki", ("server",), "http_listen_prot", "http_listen_port"),
    ("loki", ("common", "storage", "s3"), "bucket_names", "bucketnames"),
    ("tempo", ("storage", "trace", "s3"), "bucket_name", "bucket"),
    ("tempo", ("server",), "http_listen_prot", "http_listen_port"),
    ("pyroscope", ("server",), "http_listen_prot", "http_listen_port"),
    ("pyroscope", ("pyroscopedb",), "data_dir", "data_path"),
])
def test_misspelled_yaml_key_is_caught(service: str, section: tuple[str, ...], wrong: str, right: str) -> None:
    reference = pinned_reference(config("prod"), service)
    for spelling, expected in ((wrong, [".".join((*section, wrong))]), (right, [])):
        document = rendered_document(service)
        node = document
        for key in section:
            node = node.setdefault(key, {})
        node[spelling] = True
        assert unknown_key_paths(reference, document) == expected, spelling


def test_unknown_key_inside_a_list_is_reported_with_brackets() -> None:
    reference = pinned_reference(config("prod"), "loki")
    document = rendered_document("loki")
    document["schema_config"]["configs"][0]["index"]["prefx"] = "index_"
    document["schema_config"]["configs"].append({"form": "2025-01-01"})
    assert unknown_key_paths(reference, document) == ["schema_config.configs[].form",
                                                      "schema_config.configs[].index.prefx"]


def test_unknown_section_is_reported_once() -> None:
    reference = pinned_reference(config("prod"), "mimir")
    document = rendered_document("mimir")
    document["blocks_storag"] = document.pop("blocks_storage")
    assert unknown_key_paths(reference, document) == ["blocks_storag"]


def test_free_form_subtree_accepts_any_key_but_not_its_own_misspelling() -> None:
    reference = pinned_reference(config("prod"), "tempo")
    document = rendered_document("tempo")
    document["distributor"]["receivers"]["jaeger"] = {"protocols": {"thrift_http": {"anything": 1}}}
    assert unknown_key_paths(reference, document) == []
    document["distributor"]["receiverz"] = document["distributor"].pop("receivers")
    assert unknown_key_paths(reference, document) == ["distributor.receiverz"]


def test_map_with_user_chosen_keys_is_checked_below_the_key() -> None:
    reference = pinned_reference(config("prod"), "loki")
    store = {"bucketnames": "b", "region": "ap-northeast-2"}
    document = {"storage_config": {"named_stores": {"aws": {"store-1": store}}}}
    assert unknown_key_paths(reference, document) == []
    store["bucket_name"] = "b"
    assert unknown_key_paths(reference, document) == ["storage_config.named_stores.aws.store-1.bucket_name"]


def test_misspelled_alloy_argument_block_and_component_are_caught() -> None:
    reference = pinned_reference(config("prod"), "alloy")
    text = rendered("prod")["alloy"][alloy.FILE]
    assert unknown_alloy_keys(reference, parse(text)) == []
    wrong_argument = text.replace("insecure = true", "insecur = true", 1)
    assert unknown_alloy_keys(reference, parse(wrong_argument)) == ["otelcol.exporter.otlp:client.tls.insecur"]
    wrong_block = text.replace("\n  client {", "\n  clientt {", 1)
    assert unknown_alloy_keys(reference, parse(wrong_block)) == ["otelcol.exporter.otlp:clientt"]
    wrong_component = text.replace('loki.write "loki"', 'loki.writer "loki"', 1)
    assert unknown_alloy_keys(reference, parse(wrong_component)) == ["loki.writer"]


def test_misspelled_alloy_flag_is_caught() -> None:
    reference = pinned_reference(config("prod"), "alloy")
    assert unknown_alloy_flags(reference, ["--server.http.listen-address=0.0.0.0:12345", "--storage.path=/x",
                                           "/etc/lgtm/config.alloy"]) == ["--server.http.listen-address"]


# ---------------------------------------------------------------- (c) a version without a reference


def test_bumped_image_tag_without_reference_fails_with_the_refresh_command() -> None:
    base = load_config()
    bumped = load_config(services=tuple(replace(svc, tag="2.99.0") if svc.name == "mimir" else svc
                                        for svc in base.services))
    assert not reference_file("mimir", "2.99.0").exists()
    with pytest.raises(MissingReference) as raised:
        pinned_reference(bumped, "mimir")
    message = str(raised.value)
    assert "mimir 2.99.0" in message and "mimir-2.14.2.json" in message
    assert ("python -m scripts.refresh_upstream_reference --service mimir --repo-dir "
            "<git clone of https://github.com/grafana/mimir> --tag mimir-2.99.0") in message


@pytest.mark.parametrize(("service", "version", "tag"), [
    ("loki", "9.0.0", "v9.0.0"), ("alloy", "v9.0.0", "v9.0.0"), ("pyroscope", "9.0.0", "v9.0.0")])
def test_missing_reference_names_the_upstream_tag(service: str, version: str, tag: str) -> None:
    with pytest.raises(MissingReference, match=re.escape(f"--service {service} ") + ".*" + re.escape(f"--tag {tag}")):
        load_reference(service, version)


def test_reference_renamed_to_another_version_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mimir-2.14.3.json").write_text(reference_file("mimir", "2.14.2").read_text())
    monkeypatch.setattr(upstream_reference, "REFERENCE_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"mimir-2.14.3.json describes \('mimir', '2.14.2'\)"):
        load_reference("mimir", "2.14.3")


def test_unreferenced_service_is_a_clear_error() -> None:
    with pytest.raises(MissingReference, match="grafana"):
        load_reference("grafana", "11.4.0")


# ---------------------------------------------------------------- the vendored files themselves


@pytest.mark.parametrize("service", REFERENCED_SERVICES)
def test_vendored_reference_records_its_provenance(service: str) -> None:
    cfg = config("prod")
    reference = pinned_reference(cfg, service)
    source = refresh.SOURCES[service]
    tag = source.git_tag(cfg.service(service).tag)
    assert reference["source"]["repository"] == source.repository == f"grafana/{service}"
    assert reference["source"]["tag"] == tag
    assert re.fullmatch(r"[0-9a-f]{40}", reference["source"]["commit"])
    assert reference["source"]["files"] == list(source.files)
    assert reference["refresh"] == refresh.refresh_command(service, tag)
    paths = reference["paths"]
    assert paths == sorted(set(paths)) and len(paths) > 400
    free = [entry["path"] for entry in reference["free_form"]]
    assert set(free) <= set(paths) and all(entry["reason"] for entry in reference["free_form"])


# ---------------------------------------------------------------- (d) the source parsers

MIMIR_DESCRIPTOR = {
    "kind": "block", "name": "", "blockEntries": [
        {"kind": "field", "name": "target", "fieldType": "string"},
        {"kind": "block", "name": "server", "blockEntries": [
            {"kind": "field", "name": "http_listen_port", "fieldType": "int"}]},
        {"kind": "block", "name": "limits", "blockEntries": [
            {"kind": "field", "name": "custom_trackers", "fieldType": "map of tracker name (string) to matcher"},
            {"kind": "field", "name": "metric_relabel_configs", "fieldType": "relabel_config..."}]},
    ]}


def test_mimir_descriptor_parser() -> None:
    reference = refresh.parse_mimir_descriptor(json.dumps(MIMIR_DESCRIPTOR))
    assert reference.paths == {"target", "server", "server.http_listen_port", "limits",
                               "limits.custom_trackers", "limits.metric_relabel_configs"}
    assert set(reference.free_form) == {"limits.custom_trackers", "limits.metric_relabel_configs"}
    assert "map" in reference.free_form["limits.custom_trackers"]


def test_mimir_descriptor_parser_rejects_a_non_descriptor() -> None:
    with pytest.raises(refresh.RefreshError, match="root block"):
        refresh.parse_mimir_descriptor('{"kind": "field"}')


DOC_GENERATOR_SAMPLE = """\
## Generic placeholders

```yaml
[ignored: <string>]
```

### Supported contents and default values of `loki.yaml`

```yaml
# CLI flag: -target
[target: <string> | default = "all"]

# Configures the server.
[server: <server>]

pattern_ingester:
  [enabled: <boolean> | default = false]

  http_headers:
    [: <map of string to Header>]

[schema_config: <schema_config>]

named_stores:
  [aws: <map of string to aws_storage_config>]

[relabel: <relabel_config...>]
```

### server

```yaml
[http_listen_port: <int> | default = 3100]

[base-url: <string> | default = ""]
```

### schema_config

```yaml
[configs: <list of period_configs>]
```

### period_config

Example:
```yaml
    from: 2024-01-01
```

```yaml
[from: <daytime>]

index:
  [prefix: <string> | default = ""]
```

### aws_storage_config

```yaml
[bucketnames: <string> | default = ""]
```

## Runtime Configuration file

```yaml
[file: <string>: default = empty]
```

### example

```yaml
overrides:
  tenant1:
    ingestion_rate_mb: 10
```
"""


def test_doc_generator_markdown_parser() -> None:
    reference = refresh.parse_doc_generator_reference(DOC_GENERATOR_SAMPLE, "Supported contents")
    assert reference.paths == {
        "target", "server", "server.http_listen_port", "server.base-url",
        "pattern_ingester", "pattern_ingester.enabled", "pattern_ingester.http_headers",
        "schema_config", "schema_config.configs", "schema_config.configs[]", "schema_config.configs[].from",
        "schema_config.configs[].index", "schema_config.configs[].index.prefix",
        "named_stores", "named_stores.aws", "named_stores.aws.*", "named_stores.aws.*.bucketnames", "relabel",
    }
    assert set(reference.free_form) == {"pattern_ingester.http_headers", "relabel"}


def test_doc_generator_parser_needs_its_root_section() -> None:
    with pytest.raises(refresh.RefreshError, match="no section titled 'Configuration parameters'"):
        refresh.parse_doc_generator_reference(DOC_GENERATOR_SAMPLE, "Configuration parameters")


def test_doc_generator_parser_rejects_a_block_without_schema() -> None:
    broken = DOC_GENERATOR_SAMPLE.replace("[bucketnames: <string> | default = \"\"]", "bucketnames = 1")
    with pytest.raises(refresh.RefreshError, match="aws_storage_config"):
        refresh.parse_doc_generator_reference(broken, "Supported contents")


TEMPO_MANIFEST = """\
# Manifest

```yaml
target: all
http_api_prefix: ""
server:
    http_listen_port: 80
distributor:
    receivers: {}
    ring:
        instance_interface_names:
            - eth0
cache:
    caches: []
storage:
    trace:
        redis: null
overrides:
    defaults:
        ingestion:
            rate_strategy: local
```
"""
TEMPO_CONFIG_GO = """\
type Config struct {
	Target              string         `yaml:"target,omitempty"`
	MultitenancyEnabled bool           `yaml:"multitenancy_enabled,omitempty"`
	ShutdownDelay       time.Duration  `yaml:"shutdown_delay,omitempty"`
	Server              server.Config  `yaml:"server,omitempty"`
	Extra               extra.Config   `yaml:"extra,omitempty"`
}

type Other struct {
	Hidden string `yaml:"not_top_level"`
}
"""


def test_doc_generator_parser_rejects_a_block_with_two_schemas() -> None:
    heading = "### aws_storage_config\n"
    doubled = DOC_GENERATOR_SAMPLE.replace(heading, f"{heading}\n```yaml\n[x: <int>]\n```\n")
    with pytest.raises(refresh.RefreshError, match="'aws_storage_config': expected one generated schema block"):
        refresh.parse_doc_generator_reference(doubled, "Supported contents")


def test_tempo_manifest_parser() -> None:
    reference = refresh.build_tempo_reference(TEMPO_MANIFEST, TEMPO_CONFIG_GO)
    assert reference.paths == {
        "target", "http_api_prefix", "server", "server.http_listen_port", "distributor",
        "distributor.receivers", "distributor.ring", "distributor.ring.instance_interface_names",
        "cache", "cache.caches", "storage", "storage.trace", "storage.trace.redis", "overrides",
        "overrides.defaults", "overrides.defaults.ingestion", "overrides.defaults.ingestion.rate_strategy",
        "multitenancy_enabled", "shutdown_delay", "extra",
    }
    assert set(reference.free_form) == {"distributor.receivers", "cache.caches", "storage.trace.redis",
                                        "overrides.defaults", "extra"}
    assert "OpenTelemetry" in reference.free_form["distributor.receivers"]


def test_tempo_parser_insists_on_its_explicit_free_form_paths() -> None:
    with pytest.raises(refresh.RefreshError, match="distributor.receivers"):
        refresh.build_tempo_reference(TEMPO_MANIFEST.replace("receivers: {}", "other: {}"), TEMPO_CONFIG_GO)


ALLOY_COMPONENT_PAGE = """\
# otelcol.exporter.otlp

## Arguments

Name      | Type       | Description                   | Default | Required
----------|------------|-------------------------------|---------|---------
`timeout` | `duration` | Time to wait.                 | `"5s"`  | no

## Blocks

Hierarchy          | Block             | Description   | Required
-------------------|-------------------|---------------|---------
client             | [client][]        | The client.   | yes
client > tls       | [tls][]           | TLS.          | no
resource           | [resource][]      | Detection.    | no
wal                | [wal][]           | The WAL.      | no
server             | [server][]        | A server.     | no

[client]: #client-block
[tls]: #tls-block
[resource]: #resource-block
[wal]: #wal-block
[server]: #server-block

### client block

| Name       | Type     | Description | Default | Required |
| ---------- | -------- | ----------- | ------- | -------- |
| `endpoint` | `string` | Where.      |         | yes      |

Label  | Description
-------|------------
`job`  | Not an argument.

### tls block

{{< docs/shared lookup="reference/components/tls.md" source="alloy" version="<ALLOY_VERSION>" >}}

### resource block

Block                  | Description | Required
-----------------------|-------------|---------
[cloud.region][]       | Region.     | no

### wal block (experimental)

name   | type     | description | default | required
-------|----------|-------------|---------|---------
`dir`  | `string` | Where.      |         | no

### server

Name          | Type  | Description | Default | Required
--------------|-------|-------------|---------|---------
`listen_port` | `int` | Port.       | `8080`  | no

## Exported fields

Name    | Type               | Description
--------|--------------------|------------
`input` | `otelcol.Consumer` | Not an argument.
"""
SHARED_TLS = """---
headless: true
---

Name       | Type      | Description | Default | Required
-----------|-----------|-------------|---------|---------
`insecure` | `boolean` | Plain text. | `false` | no
"""


def test_alloy_component_page_parser() -> None:
    text = refresh.expand_shared(ALLOY_COMPONENT_PAGE, {"reference/components/tls.md": SHARED_TLS}.__getitem__)
    free_form: dict[str, str] = {}
    component = refresh.parse_alloy_component("otelcol.exporter.otlp", text, free_form)
    assert component == {"arguments": ["timeout"], "blocks": {
        "client": {"arguments": ["endpoint"], "blocks": {"tls": {"arguments": ["insecure"], "blocks": {}}}},
        "resource": {"arguments": [], "blocks": {}},
        "wal": {"arguments": ["dir"], "blocks": {}},
        "server": {"arguments": ["listen_port"], "blocks": {}},
    }}
    assert list(free_form) == ["otelcol.exporter.otlp:resource"]
    assert refresh.flatten_alloy("c", component["blocks"]["client"]) == ["c:endpoint", "c:tls", "c:tls.insecure"]


def test_alloy_parser_reports_a_block_without_a_section() -> None:
    broken = ALLOY_COMPONENT_PAGE.replace("### tls block", "### transport security")
    with pytest.raises(refresh.RefreshError, match=r"client > tls links to #tls-block"):
        refresh.parse_alloy_component("otelcol.exporter.otlp", broken, {})


def test_alloy_run_flags_parser() -> None:
    run_doc = ("The following flags are supported:\n\n"
               "* `--server.http.listen-addr`: Address (default `127.0.0.1:12345`).\n"
               "* `--storage.path`: Base directory.\n\n"
               "Use `--stability.level` elsewhere in prose.\n")
    assert refresh.alloy_run_flags(run_doc) == ["--server.http.listen-addr", "--storage.path"]


# ---------------------------------------------------------------- the refresh command itself


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def mimir_like_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "mimir"
    (repo / "cmd" / "mimir").mkdir(parents=True)
    (repo / "cmd" / "mimir" / "config-descriptor.json").write_text(json.dumps(MIMIR_DESCRIPTOR))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "descriptor")
    git(repo, "tag", "-a", "mimir-0.0.1", "-m", "release")
    return repo


def test_refresh_writes_the_reference_with_provenance(mimir_like_repo: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    assert refresh.main(["--service", "mimir", "--repo-dir", str(mimir_like_repo), "--tag", "mimir-0.0.1",
                         "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["service"] == "mimir" and written["version"] == "0.0.1"
    assert written["source"]["commit"] == git(mimir_like_repo, "rev-parse", "HEAD")
    assert written["source"]["tag"] == "mimir-0.0.1"
    assert written["refresh"].endswith("--service mimir --repo-dir <git clone of "
                                       "https://github.com/grafana/mimir> --tag mimir-0.0.1")
    assert "server.http_listen_port" in written["paths"]


def test_refresh_check_compares_without_writing(mimir_like_repo: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    args = ["--service", "mimir", "--repo-dir", str(mimir_like_repo), "--tag", "mimir-0.0.1", "--output", str(output)]
    assert refresh.main([*args, "--check"]) == 1 and not output.exists()
    assert refresh.main(args) == 0
    assert refresh.main([*args, "--check"]) == 0
    output.write_text(output.read_text().replace("server.http_listen_port", "server.http_listen_prot"))
    assert refresh.main([*args, "--check"]) == 1


@pytest.mark.parametrize(("repo", "tag", "expected"), [
    ("missing", "mimir-0.0.1", "is not a directory"),
    ("plain", "mimir-0.0.1", "is not a git repository"),
    ("git", "mimir-9.9.9", "tag 'mimir-9.9.9' is not in"),
    ("git", "v0.0.1", "release tags start with 'mimir-'"),
])
def test_refresh_explains_a_wrong_directory_or_tag(mimir_like_repo: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   repo: str, tag: str, expected: str) -> None:
    (tmp_path / "plain").mkdir()
    directory = {"missing": tmp_path / "nowhere", "plain": tmp_path / "plain", "git": mimir_like_repo}[repo]
    output = tmp_path / "out.json"
    assert refresh.main(["--service", "mimir", "--repo-dir", str(directory), "--tag", tag,
                         "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and expected in error and "Traceback" not in error
    assert not output.exists()


def test_refresh_explains_a_layout_change(mimir_like_repo: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert refresh.main(["--service", "loki", "--repo-dir", str(mimir_like_repo), "--tag", "v0.0.1",
                         "--output", str(tmp_path / "out.json")]) == 2
    assert "tag 'v0.0.1' is not in" in capsys.readouterr().err
    git(mimir_like_repo, "tag", "v0.0.1")
    assert refresh.main(["--service", "loki", "--repo-dir", str(mimir_like_repo), "--tag", "v0.0.1",
                         "--output", str(tmp_path / "out.json")]) == 2
    assert "docs/sources/shared/configuration.md does not exist at tag v0.0.1" in capsys.readouterr().err
