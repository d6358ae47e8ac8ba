"""Every path a container writes lies on a writable mount (every root filesystem is read-only).

The directories each binary writes, their config keys and defaults come from
tests/upstream/runtime.yaml (read at the pinned tags). A path the rendered config leaves at its
default counts at that default, resolved against the image's working directory: that is how
Pyroscope's `./data-compactor` would have landed on the read-only root.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.service_configs import RENDERERS, prefix_proxy
from config.common import Config
from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value
from tests.test_image_facts import tasks
from tests.upstream_facts import lookup, runtime

Document = dict[str, Any]
_PREFIX_PLACEHOLDER = "<path_prefix>"


def _backend(document: Document, store: str) -> str:
    return lookup(document, f"{store}.backend") or lookup(document, "common.storage.backend") or "filesystem"


def _env(document: Document, name: str) -> str:
    return str(document.get("environment", {}).get(name, ""))


# When each recorded write happens, keyed by the condition's text in runtime.yaml. A condition
# the table does not know fails the test: decide it here, from upstream, before trusting it.
ACTIVE_WHEN: dict[str, Callable[[Document], bool]] = {
    "blocks_storage.backend == filesystem (the default)": lambda d: _backend(d, "blocks_storage") == "filesystem",
    "ruler_storage.backend == filesystem (the default)": lambda d: _backend(d, "ruler_storage") == "filesystem",
    # Loki derives ruler storage from common.storage: with S3 configured the ruler runs.
    "ruler storage configured": lambda d: True,
    "required (tsdb/boltdb schema); no default without path_prefix": lambda d: True,
    "required (tsdb schema); no default without path_prefix": lambda d: True,
    "boltdb-shipper schema": lambda d: any(c.get("store") == "boltdb-shipper"
                                           for c in lookup(d, "schema_config.configs") or []),
    "path_prefix or the key set, and /ingester/prepare_shutdown called": lambda d: True,
    "ruler remote_write enabled": lambda d: bool(lookup(d, "ruler.remote_write.enabled")),
    "filesystem object store": lambda d: lookup(d, "common.storage.filesystem") is not None,
    "storage.backend == filesystem": lambda d: lookup(d, "storage.backend") == "filesystem",
    "admin object-store pages used": lambda d: True,
    "storage.trace.backend == local": lambda d: lookup(d, "storage.trace.backend") == "local",
    "set (enables the generator)": lambda d: bool(lookup(d, "metrics_generator.storage.path")),
    "set": lambda d: bool(lookup(d, "metrics_generator.traces_storage.path")),
    "log.mode includes file (run.sh sets console)": lambda d: "file" in _env(d, "GF_LOG_MODE"),
    "GF_AWS_PROFILES set": lambda d: bool(_env(d, "GF_AWS_PROFILES")),
    "server.protocol == socket": lambda d: _env(d, "GF_SERVER_PROTOCOL") == "socket",
    # Not established from Grafana's source: at least /tmp must be writable for it.
    "unconfirmed": lambda d: True,
}


def is_active(entry: dict[str, Any], document: Document) -> bool:
    condition = entry.get("active_by_default", True)
    if isinstance(condition, bool):
        return condition
    assert condition in ACTIVE_WHEN, f"no rule for when {entry['key']!r} is written: {condition!r}"
    return ACTIVE_WHEN[condition](document)


def keys_of(entry: dict[str, Any]) -> list[str]:
    """`a.b.c / d` names two keys, a.b.c and a.b.d; `(...)` names none (not configurable)."""
    key = entry["key"]
    if key.startswith("(") or key.startswith("--"):
        return []
    first, *others = [part.strip() for part in key.split(" / ")]
    parent = first.rpartition(".")[0]
    return [first, *(f"{parent}.{other}" for other in others)]


def written_paths(entry: dict[str, Any], document: Document, workdir: str) -> list[str]:
    """Where this entry writes, given the rendered document (absolute paths)."""
    rendered = [lookup(document, key) for key in keys_of(entry)]
    if any(rendered):
        return [posixpath.join(workdir, str(value)) for value in rendered if value]
    prefix = lookup(document, "common.path_prefix")
    derived = entry.get("derived_when_path_prefix_set")
    if prefix and derived:
        return [part.split(" (")[0].replace(_PREFIX_PLACEHOLDER, prefix) for part in derived.split(", ")]
    for field in ("image_cmd_sets", "docker_value", "resolved_default", "default"):
        value = entry.get(field)
        if isinstance(value, str) and value and not value.startswith("unset"):
            return [posixpath.join(workdir, value.split(" (")[0])]
    if entry["key"] == "(other /tmp use)":
        return ["/tmp"]
    raise AssertionError(f"{entry['key']} is written but has no default and the config sets none")


def on_writable_mount(path: str, container: dict[str, Any]) -> bool:
    mounts = [m["containerPath"] for m in container["mountPoints"] if not m["readOnly"]]
    return any(path == mount or path.startswith(mount.rstrip("/") + "/") for mount in mounts)


def service_document(cfg: Config, kind: str, container: dict[str, Any]) -> Document:
    """What decides where the service writes: its rendered YAML, its flags, its environment."""
    files = RENDERERS[kind].render(cfg)
    renderer = RENDERERS[kind]
    document: Document = {}
    if getattr(renderer, "FILE", "").endswith(".yaml"):
        document = yaml.safe_load(files[renderer.FILE])
    flags = dict(arg.split("=", 1) for arg in container.get("command", []) if arg.startswith("--") and "=" in arg)
    if "--storage.path" in flags:
        document["--storage.path"] = flags["--storage.path"]
    document["environment"] = {item["name"]: item["value"] for item in container.get("environment", [])}
    return document


def write_problems(cfg: Config, kind: str, container: dict[str, Any], document: Document) -> list[str]:
    facts = runtime()[kind]
    workdir = facts["workdir"]["value"] if isinstance(facts["workdir"], dict) else facts["workdir"]
    problems = []
    for entry in facts["writable_paths"]:
        if not is_active(entry, document):
            continue
        if entry["key"].startswith("--storage.path") and "--storage.path" in document:
            paths = [document["--storage.path"]]
        elif entry["key"].startswith("paths.") and _env(document, "GF_PATHS_" + entry["key"][6:].upper()):
            paths = [_env(document, "GF_PATHS_" + entry["key"][6:].upper())]
        else:
            paths = written_paths(entry, document, workdir)
        problems.extend(f"{container['name']}: {entry['key']} writes {path}, on no writable mount"
                        for path in paths if not on_writable_mount(path, container))
    return problems


@pytest.mark.parametrize("service", ["grafana", "mimir", "loki", "tempo", "pyroscope", "alloy"])
def test_every_path_a_service_writes_is_on_a_writable_mount(prod: SynthesizedApp, service: str) -> None:
    svc = prod.config.service(service)
    container = next(c for c in tasks(prod)[service] if c["name"] == service)
    assert container["readonlyRootFilesystem"] is True
    document = service_document(prod.config, svc.service_kind, container)
    assert write_problems(prod.config, svc.service_kind, container, document) == []


def test_pyroscopes_default_compactor_dir_would_land_on_the_read_only_root(prod: SynthesizedApp) -> None:
    container = next(c for c in tasks(prod)["pyroscope"] if c["name"] == "pyroscope")
    document = service_document(prod.config, "pyroscope", container)
    del document["compactor"]["data_dir"]
    assert write_problems(prod.config, "pyroscope", container, document) == [
        "pyroscope: compactor.data_dir writes /data-compactor, on no writable mount"]


def test_an_unknown_write_condition_fails_loudly() -> None:
    with pytest.raises(AssertionError, match="no rule for when"):
        is_active({"key": "x.y", "active_by_default": "some new upstream condition"}, {})


def nginx_written_paths(conf: str) -> list[str]:
    """Every path nginx writes with this config: each directive as rendered, or its compiled default."""
    paths = []
    for entry in runtime()["nginx"]["writes"]:
        directive = entry.get("directive")
        if directive is None:
            continue
        match = re.search(rf"^\s*{directive}\s+(\S+);", conf, re.MULTILINE)
        paths.append(match.group(1) if match else entry["compiled_default"])
    return paths


def test_every_path_the_proxy_writes_is_on_a_writable_mount(prod: SynthesizedApp) -> None:
    svc = prod.config.service("pyroscope")
    proxy = next(c for c in tasks(prod)["pyroscope"] if c["name"] == prefix_proxy.container_name(svc))
    (conf,) = prefix_proxy.render(svc).values()
    paths = nginx_written_paths(conf)
    assert len(paths) == 6  # pid and the five temp paths
    assert [p for p in paths if not on_writable_mount(p, proxy)] == []
    # The error log is opened before the file is read: `-e stderr` keeps it off the read-only root.
    assert proxy["command"][:2] == ["-e", "stderr"]
    # A directive left at its compiled default would write under /var/cache/nginx.
    assert "/var/cache/nginx/proxy_temp" in nginx_written_paths(conf.replace("proxy_temp_path", "# "))


def test_task_volumes_are_plain_scratch_or_efs(prod: SynthesizedApp) -> None:
    stack = prod.stack_json("60-ecs")
    for name, body in resources(stack, "aws_ecs_task_definition").items():
        volumes = {v["name"]: v for v in body["volume"]}
        for container in json_value(body["container_definitions"]):
            for mount in container["mountPoints"]:
                assert mount["sourceVolume"] in volumes, (name, container["name"], mount)
