"""Adoption files: how a stack takes over objects it did not create.

`make adopt STACK=<id>` (`scripts/adopt.py`) writes `adoption/<environment>/<stack>.json`
after matching the existing state of that stack (the HCL project's, usually) and the
objects found in AWS against what this project synthesizes. The file is committed and
reviewed like code; synth turns it into Terraform blocks:

- `moved`: `{"from": <legacy address>, "to": <address here>}`, in the file's stack, whose
  state holds the legacy address;
- `import`: `{"stack": <id>, "to": <address there>, "id": <import id>}`, in the named
  stack (Terraform >= 1.5): an object that exists in AWS but in no state of that stack;
- `removed`: `{"from": <legacy address>}`, in the file's stack, rendered as `removed {
  lifecycle { destroy = false } }` (Terraform >= 1.7): the object now belongs to another
  stack, which imports it.

Other keys (`identity`, `found`, `unmatched`, ...) are there for the reviewer and are not
rendered. Without adoption files the synthesized JSON is exactly what it was before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.shared.state_blocks import ImportBlock, StackStateBlocks, StateBlockError, is_resource_address

ADOPTION_FORMAT = 1
ADOPTION_DIR_VARIABLE = "LGTM_ADOPTION_DIR"
"""Where adoption files are read from (default: the repo's `adoption/`); `make adopt` points a
trial synth at a scratch copy through it."""
REPO_ADOPTION_DIR = Path(__file__).resolve().parents[2] / "adoption"


class AdoptionFileError(StateBlockError):
    """An adoption file that cannot be rendered: names the file, the entry and the rule."""


@dataclass(frozen=True)
class AdoptionFile:
    path: Path
    environment: str
    stack_id: str
    moved: tuple[tuple[str, str], ...]
    imports: tuple[tuple[str, ImportBlock], ...]
    """(stack id, block): an import can go to another stack than the file's."""
    removed: tuple[str, ...]


def adoption_dir() -> Path:
    configured = os.environ.get(ADOPTION_DIR_VARIABLE)
    return Path(configured) if configured else REPO_ADOPTION_DIR


def adoption_path(directory: Path, environment: str, stack_id: str) -> Path:
    return directory / environment / f"{stack_id}.json"


def _field(path: Path, entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise AdoptionFileError(f"{path}: {where}: `{name}` must be a non-empty string (got {value!r})")
    return value


def _address(path: Path, entry: Mapping[str, Any], name: str, where: str) -> str:
    value = _field(path, entry, name, where)
    if not is_resource_address(value):
        raise AdoptionFileError(f"{path}: {where}: `{name}` must be a resource address like "
                                f"aws_lb.alb or module.alb.aws_lb.this (got {value!r})")
    return value


def _entries(path: Path, document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = document.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise AdoptionFileError(f"{path}: `{key}` must be a list of objects")
    return entries


def parse_adoption_file(path: Path, *, environment: str, stack_ids: Iterable[str]) -> AdoptionFile:
    known = set(stack_ids)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise AdoptionFileError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise AdoptionFileError(f"{path}: must hold a JSON object")
    if document.get("format") != ADOPTION_FORMAT:
        raise AdoptionFileError(f"{path}: `format` must be {ADOPTION_FORMAT} (got {document.get('format')!r})")
    if document.get("environment") != environment:
        raise AdoptionFileError(f"{path}: `environment` must be {environment!r}, the directory it is in "
                                f"(got {document.get('environment')!r})")
    stack_id = document.get("stack")
    if stack_id != path.stem or stack_id not in known:
        raise AdoptionFileError(f"{path}: `stack` must be the file's name and one of {sorted(known)} "
                                f"(got {stack_id!r})")
    moved = tuple((_address(path, entry, "from", f"moved[{n}]"), _address(path, entry, "to", f"moved[{n}]"))
                  for n, entry in enumerate(_entries(path, document, "moved")))
    imports = []
    for n, entry in enumerate(_entries(path, document, "import")):
        target = _field(path, entry, "stack", f"import[{n}]")
        if target not in known:
            raise AdoptionFileError(f"{path}: import[{n}]: `stack` must be one of {sorted(known)} (got {target!r})")
        imports.append((target, ImportBlock(_address(path, entry, "to", f"import[{n}]"),
                                            _field(path, entry, "id", f"import[{n}]"))))
    removed = tuple(_address(path, entry, "from", f"removed[{n}]")
                    for n, entry in enumerate(_entries(path, document, "removed")))
    return AdoptionFile(path, environment, stack_id, moved, tuple(imports), removed)


def load_adoption(environment: str, directory: Path, stack_ids: Iterable[str]) -> dict[str, list[StackStateBlocks]]:
    """Stack id -> the blocks the environment's adoption files give it (no files: empty)."""
    stack_ids = list(stack_ids)
    files = [parse_adoption_file(path, environment=environment, stack_ids=stack_ids)
             for path in sorted((directory / environment).glob("*.json"))]
    blocks: dict[str, list[StackStateBlocks]] = {}
    for adoption in files:
        source = str(adoption.path)
        if adoption.moved or adoption.removed:
            blocks.setdefault(adoption.stack_id, []).append(
                StackStateBlocks(source=source, moved=adoption.moved, removed=adoption.removed))
        for target in sorted({stack for stack, _ in adoption.imports}):
            blocks.setdefault(target, []).append(StackStateBlocks(
                source=source, imports=tuple(block for stack, block in adoption.imports if stack == target)))
    return blocks
