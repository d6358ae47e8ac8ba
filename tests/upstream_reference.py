"""Check rendered configs against the vendored upstream config-key references.

`tests/upstream/config_keys/<service>-<version>.json` lists every key path a pinned upstream
binary accepts (see scripts/refresh_upstream_reference.py and docs/upstream-references.md).
Mimir, Loki, Tempo and Pyroscope load their YAML strictly: one unknown key and the task never
starts. These helpers find such keys before a deploy does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scripts.refresh_upstream_reference import REFERENCE_DIR, SOURCES, refresh_command
from tests.alloy_parser import ParsedBlock

Reference = dict[str, Any]


class MissingReference(LookupError):
    """No vendored reference for a (service, version): the image tag moved without a refresh."""


def reference_file(service: str, version: str) -> Path:
    return REFERENCE_DIR / f"{service}-{version}.json"


def missing_reference_message(service: str, version: str) -> str:
    source = SOURCES[service]
    have = sorted(path.name for path in REFERENCE_DIR.glob(f"{service}-*.json"))
    return (f"no upstream config-key reference for {service} {version}: "
            f"{reference_file(service, version).relative_to(REFERENCE_DIR.parent.parent.parent)} "
            f"does not exist (vendored: {', '.join(have) or 'none'}). After bumping the image tag, "
            f"regenerate it from the upstream repository at that tag:\n  "
            f"{refresh_command(service, source.git_tag(version))}")


def load_reference(service: str, version: str) -> Reference:
    """The vendored reference of `service` at image tag `version`."""
    if service not in SOURCES:
        raise MissingReference(f"no upstream config-key references are kept for {service!r} "
                               f"(only {', '.join(sorted(SOURCES))})")
    path = reference_file(service, version)
    if not path.is_file():
        raise MissingReference(missing_reference_message(service, version))
    reference = json.loads(path.read_text())
    found = (reference.get("service"), reference.get("version"))
    if found != (service, version):
        raise ValueError(f"{path.name} describes {found}, not ({service!r}, {version!r}): regenerate it")
    return reference


def free_form_paths(reference: Reference) -> set[str]:
    return {entry["path"] for entry in reference["free_form"]}


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def unknown_key_paths(reference: Reference, document: Any) -> list[str]:
    """Key paths of a YAML document (as loaded) that the reference does not know, sorted.

    Lists appear as `[]` (`schema_config.configs[].index.prefix`); an unknown key is reported
    once, its children are not. Nothing below a free-form path is checked.
    """
    if not isinstance(document, dict):
        raise TypeError(f"a config document is a mapping, got {type(document).__name__}")
    known, free = set(reference["paths"]), free_form_paths(reference)
    unknown: set[str] = set()

    def visit(value: Any, concrete: str, canonical: str) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item, f"{concrete}[]", f"{canonical}[]")
            return
        if not isinstance(value, dict):
            return
        for key, inner in value.items():
            path = _join(concrete, str(key))
            match = next((c for c in (_join(canonical, str(key)), _join(canonical, "*")) if c in known), None)
            if match is None:
                unknown.add(path)
            elif match not in free:
                visit(inner, path, match)

    visit(document, "", "")
    return sorted(unknown)


def alloy_schemas(reference: Reference) -> dict[str, Any]:
    """Top-level block name (component or config block) -> {"arguments", "blocks"}."""
    return {**reference["components"], **reference["config_blocks"]}


def unknown_alloy_keys(reference: Reference, blocks: Iterable[ParsedBlock]) -> list[str]:
    """`<component>:<block>.<argument>` paths of parsed Alloy blocks that the reference does not
    know (`tests.alloy_parser.parse` output), sorted; an unknown component is reported by name."""
    schemas, free = alloy_schemas(reference), free_form_paths(reference)
    unknown: set[str] = set()

    def visit(block: ParsedBlock, schema: dict[str, Any], component: str, prefix: str) -> None:
        for argument in block.attributes:
            if argument not in schema["arguments"]:
                unknown.add(f"{component}:{_join(prefix, argument)}")
        for inner in block.blocks:
            path = _join(prefix, inner.name)
            inner_schema = schema["blocks"].get(inner.name)
            if inner_schema is None:
                unknown.add(f"{component}:{path}")
            elif f"{component}:{path}" not in free:
                visit(inner, inner_schema, component, path)

    for block in blocks:
        schema = schemas.get(block.name)
        if schema is None:
            unknown.add(block.name)
        elif block.name not in free:
            visit(block, schema, block.name, "")
    return sorted(unknown)


def unknown_alloy_flags(reference: Reference, args: Iterable[str], command: str = "run") -> list[str]:
    """`--flags` in an `alloy <command>` argument list that the reference does not document."""
    documented = set(reference["cli"][command])
    flags = {arg.split("=", 1)[0] for arg in args if arg.startswith("--")}
    return sorted(flags - documented)
