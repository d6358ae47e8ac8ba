"""The recorded upstream facts: what each pinned image contains, what each binary writes and serves.

`tests/upstream/images.yaml` (one entry per pinned image) and `tests/upstream/runtime.yaml` (per
service) hold facts read from upstream source at the pinned tags, each with its evidence
(repository, commit, file, quote); docs/runtime-facts.md explains them. Nothing here runs a
container: the tests hold the synthesized task definitions against these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

UPSTREAM = Path(__file__).resolve().parent / "upstream"


class MissingFacts(LookupError):
    """An image reference the project uses has no recorded facts (a tag bumped without research)."""


@cache
def _images() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((UPSTREAM / "images.yaml").read_text())["images"]


@cache
def runtime() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((UPSTREAM / "runtime.yaml").read_text())["services"]


@dataclass(frozen=True)
class ImageFacts:
    """What one image holds, as its upstream Dockerfile and base image say."""

    name: str
    reference: str
    raw: dict[str, Any]

    def value(self, field: str) -> Any:
        entry = self.raw.get(field)
        return entry.get("value") if isinstance(entry, dict) else entry

    @property
    def static_binaries(self) -> bool:
        """Its binaries need no loader (`libc: none-static`): they run in any image."""
        return self.value("libc") == "none-static"

    @property
    def loaders(self) -> frozenset[str]:
        entry = self.raw.get("has_dynamic_loader", {})
        if not entry.get("value"):
            return frozenset()
        return frozenset(entry.get("loaders") or [entry["loader"]])

    def binary_runs_in(self, other: ImageFacts) -> bool:
        """A binary of this image, copied into `other`, can execute there."""
        return self.static_binaries or bool(self.loaders & other.loaders)

    def has_file(self, path: str) -> bool:
        """`path` is a program this image ships (its shell, wget, service binary or busybox)."""
        shipped = {self.value("shell"), self.value("wget"), *(self.raw.get("shell", {}).get("also") or [])}
        for field in ("service_binary", "busybox_binary"):
            if field in self.raw:
                shipped.add(self.raw[field]["path"])
        return path in shipped

    @property
    def applets(self) -> frozenset[str]:
        return frozenset(name for name, fact in (self.raw.get("applets") or {}).items() if fact["in_build_config"])


def image_facts(reference: str) -> ImageFacts:
    for name, raw in _images().items():
        if raw["reference"] == reference:
            return ImageFacts(name=name, reference=reference, raw=raw)
    raise MissingFacts(
        f"no recorded facts for image {reference}: read its Dockerfile and base image at the new tag and "
        "add an entry to tests/upstream/images.yaml (base, libc, loader, shell, wget, user, entrypoint, "
        "volumes, each with evidence) before pinning it")


def pinned_images() -> list[ImageFacts]:
    """Every recorded image the project pins today (superseded pins are kept only as counter-examples)."""
    return [ImageFacts(name, raw["reference"], raw) for name, raw in _images().items() if not raw.get("superseded")]


def lookup(document: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key path of a YAML document, or None."""
    node: Any = document
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node
