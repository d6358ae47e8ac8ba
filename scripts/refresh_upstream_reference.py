"""Regenerate a vendored upstream config-key reference from a local git copy of the upstream repo.

    python -m scripts.refresh_upstream_reference --service mimir --repo-dir DIR --tag mimir-2.14.2

reads the upstream documentation/descriptor at that tag with `git show` (never the network) and
writes `tests/upstream/config_keys/<service>-<version>.json`: every config key path the pinned
binary accepts, the subtrees where any key is allowed (with the reason), and where it all came
from (repository, tag, commit, files). `tests/test_upstream_reference.py` checks every rendered
config against it, so a misspelled key fails a test instead of a task that never starts.

Path notation: `a.b.c` for nested keys, `a[]` for the elements of a list, `a.*` for the values
of a map whose keys are user-chosen (e.g. Loki's `storage_config.named_stores.aws.*`). Alloy
references describe each component's arguments and nested blocks instead (see `alloy_reference`).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "tests" / "upstream" / "config_keys"
SCHEMA_VERSION = 1


class RefreshError(Exception):
    """A problem the maintainer can fix (wrong directory, tag or upstream layout): no traceback."""


# --------------------------------------------------------------------------- git


@dataclass(frozen=True)
class GitTree:
    """One tag of a local git directory (work tree or bare), read with `git show`."""

    repo_dir: Path
    tag: str

    def _git(self, *args: str) -> str:
        try:
            result = subprocess.run(["git", "-C", str(self.repo_dir), *args], capture_output=True,
                                    text=True, check=False)
        except FileNotFoundError as error:
            raise RefreshError("git is not installed (needed to read the upstream repository)") from error
        if result.returncode != 0:
            raise RefreshError(f"git {' '.join(args)} failed in {self.repo_dir}: {result.stderr.strip()}")
        return result.stdout

    def check(self) -> None:
        if not self.repo_dir.is_dir():
            raise RefreshError(f"--repo-dir {self.repo_dir} is not a directory")
        try:
            self._git("rev-parse", "--git-dir")
        except RefreshError as error:
            raise RefreshError(f"--repo-dir {self.repo_dir} is not a git repository") from error
        try:
            self.commit()
        except RefreshError as error:
            raise RefreshError(f"tag {self.tag!r} is not in {self.repo_dir} "
                               f"(run `git -C {self.repo_dir} fetch --tags` or check the name)") from error

    def commit(self) -> str:
        return self._git("rev-parse", "--verify", "--quiet", f"refs/tags/{self.tag}^{{commit}}").strip()

    def show(self, path: str) -> str:
        try:
            return self._git("show", f"{self.tag}:{path}")
        except RefreshError as error:
            raise RefreshError(f"{path} does not exist at tag {self.tag} in {self.repo_dir}; "
                               f"the upstream layout changed, adapt this script") from error

    def list_files(self, directory: str) -> list[str]:
        listing = self._git("ls-tree", "-r", "--name-only", self.tag, "--", directory)
        files = [line for line in listing.splitlines() if line]
        if not files:
            raise RefreshError(f"{directory} has no files at tag {self.tag} in {self.repo_dir}")
        return files


@dataclass
class Reference:
    """What a source parser produces (besides provenance)."""

    paths: set[str] = field(default_factory=set)
    free_form: dict[str, str] = field(default_factory=dict)
    """path -> why any key is allowed below it."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Format-specific sections (Alloy: components, config_blocks, cli)."""

    def add_free_form(self, path: str, reason: str) -> None:
        self.paths.add(path)
        self.free_form.setdefault(path, reason)


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# --------------------------------------------------------------------------- Mimir: config-descriptor.json


def mimir_field_free_form_reason(field_type: str) -> str | None:
    """Why a descriptor field accepts keys the descriptor does not list (None: it does not)."""
    if field_type.startswith("map of"):
        return f"fieldType `{field_type}`: a map whose keys are user-chosen"
    if field_type.endswith("..."):
        return (f"fieldType `{field_type}`: a list of objects whose fields the descriptor does not describe "
                f"(upstream decodes them with their own type)")
    return None


def mimir_walk(block: dict[str, Any], prefix: str, reference: Reference) -> None:
    for entry in block.get("blockEntries") or []:
        kind, path = entry.get("kind"), join(prefix, entry.get("name", ""))
        if not entry.get("name"):
            raise RefreshError(f"descriptor entry without a name under {prefix or 'the root'}: {entry}")
        if kind == "block":
            reference.paths.add(path)
            mimir_walk(entry, path, reference)
        elif kind == "field":
            reason = mimir_field_free_form_reason(str(entry.get("fieldType", "")))
            if reason:
                reference.add_free_form(path, reason)
            else:
                reference.paths.add(path)
        else:
            reference.add_free_form(path, f"descriptor kind `{kind}`: its keys are not described")


def parse_mimir_descriptor(text: str) -> Reference:
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise RefreshError(f"config-descriptor.json is not JSON: {error}") from error
    if root.get("kind") != "block" or not root.get("blockEntries"):
        raise RefreshError("config-descriptor.json: expected a root block with blockEntries")
    reference = Reference()
    mimir_walk(root, "", reference)
    return reference


# --------------------------------------------------------------------------- Loki / Pyroscope: doc-generator markdown

ENTRY = re.compile(r"^\[(?P<key>[A-Za-z0-9_.-]*): <(?P<type>.+?)>(?: \| default = .*)?\]$")
INLINE_BLOCK = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+):$")
HEADING = re.compile(r"^(?P<level>#{1,6}) +(?P<title>.+?) *$")
BLOCK_NAME = re.compile(r"^[a-z0-9_]+$")
SCALAR_TYPES = frozenset({
    "boolean", "int", "float", "duration", "string", "url", "secret", "time", "daytime", "Regexp",
    "list of strings", "list of durations", "list of ints", "int64", "uint64",
})


@dataclass
class DocEntry:
    key: str
    type: str | None = None
    """None for an inline block (`key:` followed by indented entries)."""
    children: list[DocEntry] = field(default_factory=list)


def code_blocks(lines: list[str]) -> list[list[str]]:
    """The fenced code blocks of some markdown lines, without their fences."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line.lstrip().startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def markdown_sections(text: str) -> list[tuple[int, str, list[str]]]:
    """(level, title, body lines) per heading, fenced code ignored when finding headings."""
    sections: list[tuple[int, str, list[str]]] = [(0, "", [])]
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            sections.append((len(match["level"]), match["title"], []))
        else:
            sections[-1][2].append(line)
    return sections


def parse_schema_lines(lines: list[str]) -> list[DocEntry] | None:
    """Entries of one generated schema block; None if a line is not schema (an example, say)."""
    root = DocEntry(key="")
    stack: list[tuple[int, DocEntry]] = [(-1, root)]
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        entry_match, inline_match = ENTRY.match(stripped), INLINE_BLOCK.match(stripped)
        if entry_match:
            parent.children.append(DocEntry(key=entry_match["key"], type=entry_match["type"]))
        elif inline_match:
            inline = DocEntry(key=inline_match["key"])
            parent.children.append(inline)
            stack.append((indent, inline))
        else:
            return None
    return root.children


def schema_block(title: str, body: list[str]) -> list[DocEntry]:
    parsed = [entries for entries in map(parse_schema_lines, code_blocks(body)) if entries]
    if len(parsed) != 1:
        raise RefreshError(f"section {title!r}: expected one generated schema block, found {len(parsed)}")
    return parsed[0]


@dataclass
class DocSchema:
    root: list[DocEntry]
    blocks: dict[str, list[DocEntry]]


def parse_doc_generator_markdown(text: str, root_heading: str) -> DocSchema:
    """Split a dskit doc-generator reference into its root block and its named block sections."""
    root: list[DocEntry] | None = None
    blocks: dict[str, list[DocEntry]] = {}
    root_seen = False
    for level, title, body in markdown_sections(text):
        if title.startswith(root_heading):
            root, root_seen = schema_block(title, body), True
        elif root_seen and level == 3 and BLOCK_NAME.match(title):
            blocks[title] = schema_block(title, body)
        elif root_seen and level <= 2 and blocks:
            break
    if root is None:
        raise RefreshError(f"no section titled {root_heading!r}: the reference's layout changed")
    return DocSchema(root=root, blocks=blocks)


def classify_doc_type(type_name: str, blocks: dict[str, list[DocEntry]]) -> tuple[str, str]:
    """(how, detail): ("block"|"list"|"map", block name), ("scalar", ""), or ("free", reason)."""
    if type_name in blocks:
        return "block", type_name
    list_match = re.fullmatch(r"list of (\w+?)s?", type_name)
    if list_match and list_match[1] in blocks:
        return "list", list_match[1]
    map_match = re.fullmatch(r"map of string to (\w+)", type_name)
    if map_match and map_match[1] in blocks:
        return "map", map_match[1]
    if type_name in SCALAR_TYPES:
        return "scalar", ""
    if type_name.startswith("map of"):
        return "free", f"type `{type_name}`: a map whose keys are user-chosen"
    return "free", f"type `{type_name}`: the reference does not describe its fields"


def expand_doc_entries(entries: list[DocEntry], prefix: str, schema: DocSchema, reference: Reference,
                       seen: tuple[str, ...] = ()) -> None:
    for entry in entries:
        if entry.key == "":
            reason = f"type `{entry.type}`: a map whose keys are user-chosen"
            reference.add_free_form(prefix, reason)
            continue
        path = join(prefix, entry.key)
        reference.paths.add(path)
        if entry.type is None:
            expand_doc_entries(entry.children, path, schema, reference, seen)
            continue
        how, detail = classify_doc_type(entry.type, schema.blocks)
        if how == "free":
            reference.add_free_form(path, detail)
        elif how != "scalar":
            if detail in seen:
                raise RefreshError(f"block {detail} contains itself (at {path})")
            inner = {"block": path, "list": f"{path}[]", "map": f"{path}.*"}[how]
            if how != "block":
                reference.paths.add(inner)
            expand_doc_entries(schema.blocks[detail], inner, schema, reference, (*seen, detail))


def parse_doc_generator_reference(text: str, root_heading: str) -> Reference:
    schema = parse_doc_generator_markdown(text, root_heading)
    reference = Reference()
    expand_doc_entries(schema.root, "", schema, reference)
    return reference


# --------------------------------------------------------------------------- Tempo: manifest.md + app/config.go

TEMPO_EXPLICIT_FREE_FORM = {
    "distributor.receivers": (
        "OpenTelemetry Collector receiver configs (receiver name -> that receiver's own settings, e.g. "
        "otlp.protocols.grpc.endpoint); decoded by the OTel receiver factories, not by Tempo's config "
        "structs, and empty ({}) in the manifest"),
    "overrides.defaults": (
        "the per-tenant limits struct: its fields are omitempty, so the manifest shows only those with "
        "non-zero defaults (modules/overrides). Note: the legacy flat overrides format (limits directly "
        "under `overrides`) is accepted by upstream but not modelled here"),
}
GO_SCALARS = frozenset({"string", "bool", "int", "int64", "uint64", "float64", "time.Duration"})


def parse_tempo_manifest(text: str) -> Any:
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    if not match:
        raise RefreshError("manifest.md: no ```yaml block with the default configuration")
    try:
        return yaml.safe_load(match[1])
    except yaml.YAMLError as error:
        raise RefreshError(f"manifest.md: the configuration block is not YAML: {error}") from error


def walk_manifest(value: Any, prefix: str, reference: Reference) -> None:
    if isinstance(value, dict):
        if not value and prefix:
            reference.add_free_form(prefix, "{} in the manifest (empty default map): keys not shown")
        for key, inner in value.items():
            path = join(prefix, str(key))
            reference.paths.add(path)
            walk_manifest(inner, path, reference)
    elif isinstance(value, list):
        if not value:
            reference.add_free_form(prefix, "[] in the manifest (empty default list): element fields not shown")
        for item in value:
            if isinstance(item, (dict, list)):
                reference.paths.add(f"{prefix}[]")
                walk_manifest(item, f"{prefix}[]", reference)
    elif value is None:
        reference.add_free_form(prefix, "null in the manifest (unset pointer or interface): fields not shown")


def tempo_top_level_fields(config_go: str) -> dict[str, str]:
    """yaml key -> Go type of the fields of `type Config struct` in cmd/tempo/app/config.go."""
    struct = re.search(r"^type Config struct \{\n(.*?)^\}", config_go, re.S | re.M)
    if not struct:
        raise RefreshError("cmd/tempo/app/config.go: no `type Config struct`")
    fields: dict[str, str] = {}
    for line in struct[1].splitlines():
        match = re.match(r'\s*\w+\s+(?P<type>[\w.*\[\]]+)\s+`[^`]*yaml:"(?P<key>[\w-]+)', line)
        if match:
            fields[match["key"]] = match["type"]
    if not fields:
        raise RefreshError("cmd/tempo/app/config.go: no yaml-tagged fields in Config")
    return fields


def build_tempo_reference(manifest_text: str, config_go: str) -> Reference:
    manifest = parse_tempo_manifest(manifest_text)
    if not isinstance(manifest, dict):
        raise RefreshError("manifest.md: the configuration is not a mapping")
    reference = Reference()
    walk_manifest(manifest, "", reference)
    for key, go_type in tempo_top_level_fields(config_go).items():
        if key in reference.paths:
            continue
        if go_type in GO_SCALARS:
            reference.paths.add(key)
        else:
            reference.add_free_form(key, f"top-level {go_type} from config.go, absent from the manifest")
    for path, reason in TEMPO_EXPLICIT_FREE_FORM.items():
        if path not in reference.paths:
            raise RefreshError(f"{path} is no longer in Tempo's manifest: review TEMPO_EXPLICIT_FREE_FORM")
        reference.free_form[path] = reason
    return reference


# --------------------------------------------------------------------------- Alloy: component reference

ALLOY_COMPONENTS_DIR = "docs/sources/reference/components"
ALLOY_CONFIG_BLOCKS_DIR = "docs/sources/reference/config-blocks"
ALLOY_SHARED_DIR = "docs/sources/shared"
ALLOY_RUN_DOC = "docs/sources/reference/cli/run.md"
SHARED_INCLUDE = re.compile(r'\{\{<\s*docs/shared\s+lookup="(?P<path>[^"]+)".*?>\}\}')
LINK_DEFINITION = re.compile(r"^\[(?P<label>[^\]]+)\]:\s*#(?P<anchor>\S+)\s*$")
BLOCK_LINK = re.compile(r"\[(?P<label>[^\]]+)\]\[(?P<ref>[^\]]*)\]")
ARGUMENT_NAME = re.compile(r"^`?(?P<name>[A-Za-z_][A-Za-z0-9_.]*)`?$")
ARGUMENT_TABLE_HEADERS = (("name", "type"), ("attribute", "type"))
ALLOY_EXPLICIT_FREE_FORM = {
    "declare": "the body of a `declare` block is a custom component definition: any Alloy configuration",
}
RUN_FLAG = re.compile(r"^\* `(?P<flag>--[a-z0-9][a-z0-9.-]*)`")


def strip_front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if not match:
        return {}, text
    front = yaml.safe_load(match[1]) or {}
    return (front if isinstance(front, dict) else {}), text[match.end():]


def expand_shared(text: str, read_shared: Callable[[str], str], depth: int = 0) -> str:
    """Inline `{{< docs/shared lookup="..." >}}` includes (recursively)."""
    if depth > 5:
        raise RefreshError("shared includes nest more than 5 deep")

    def include(match: re.Match[str]) -> str:
        _, body = strip_front_matter(read_shared(match["path"]))
        return expand_shared(body, read_shared, depth + 1)

    return SHARED_INCLUDE.sub(include, text)


def anchor(title: str) -> str:
    """Hugo's default heading id: lower case, punctuation dropped, spaces to dashes."""
    custom = re.search(r"\{#(?P<id>[^}]+)\}\s*$", title)
    if custom:
        return custom["id"]
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def tables(lines: list[str]) -> list[list[list[str]]]:
    """Markdown tables (rows of stripped cells, separator rows dropped) in some lines."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*lines, ""]:
        if "|" in line:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def argument_names(lines: list[str]) -> list[str]:
    """Names from every `Name | Type | ...` table in some markdown lines."""
    names: set[str] = set()
    for table in tables(lines):
        if tuple(cell.lower() for cell in table[0][:2]) in ARGUMENT_TABLE_HEADERS:
            names.update(m["name"] for m in (ARGUMENT_NAME.match(row[0]) for row in table[1:]) if m)
    return sorted(names)


@dataclass
class Section:
    level: int
    title: str
    lines: list[str]
    """Its body, subsections included."""


def sections_with_subsections(text: str) -> list[Section]:
    flat = markdown_sections(text)
    sections = []
    for index, (level, title, body) in enumerate(flat):
        lines = list(body)
        for inner_level, inner_title, inner_body in flat[index + 1:]:
            if inner_level <= level:
                break
            lines += [f"{'#' * inner_level} {inner_title}", *inner_body]
        sections.append(Section(level, title, lines))
    return sections


def alloy_block_rows(blocks_section: Section) -> list[tuple[list[str], str]]:
    """(hierarchy, anchor) per row of the `Hierarchy | Block | ...` tables."""
    links = {m["label"]: m["anchor"] for m in map(LINK_DEFINITION.match, blocks_section.lines) if m}
    rows = []
    for table in tables(blocks_section.lines):
        if table[0][0] != "Hierarchy":
            continue
        for cells in table[1:]:
            hierarchy = [part.strip().strip("`") for part in cells[0].replace("&gt;", ">").split(">")]
            link = BLOCK_LINK.search(cells[1]) if len(cells) > 1 else None
            label = (link["ref"] or link["label"]) if link else hierarchy[-1]
            rows.append((hierarchy, links.get(label, anchor(f"{label} block"))))
    return rows


def new_block() -> dict[str, Any]:
    return {"arguments": [], "blocks": {}}


def lists_unmodelled_blocks(section: Section) -> bool:
    """A block section with its own `Block | Description` table: nested blocks the hierarchy omits."""
    return any(table[0][0] == "Block" for table in tables(section.lines))


def find_section(by_anchor: dict[str, Section], wanted: str, block: str) -> Section | None:
    """The section a block row links to; tolerates anchors upstream got wrong: misspelled
    (`#stagestructuredmetadata-block` for `### stage.structured_metadata block`) or missing a
    heading's suffix (`#wal-block` for `### wal block (experimental)`)."""
    def loose(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    for candidate in (wanted, anchor(f"{block} block"), anchor(block)):
        if candidate in by_anchor:
            return by_anchor[candidate]
    matches = [section for key, section in by_anchor.items()
               if loose(key) == loose(wanted) or key.startswith(f"{wanted}-")]
    return matches[0] if len(matches) == 1 else None


def parse_alloy_component(name: str, text: str, free_form: dict[str, str]) -> dict[str, Any]:
    """{"arguments": [...], "blocks": {name: {"arguments", "blocks"}}} of one component's page;
    blocks whose inner blocks the page does not model go into `free_form`."""
    sections = sections_with_subsections(text)
    by_anchor = {anchor(section.title): section for section in sections}
    component = new_block()
    arguments = next((s for s in sections if s.level == 2 and s.title == "Arguments"), None)
    if arguments:
        component["arguments"] = argument_names(arguments.lines)
    blocks = next((s for s in sections if s.level == 2 and s.title == "Blocks"), None)
    for hierarchy, block_anchor in alloy_block_rows(blocks) if blocks else []:
        section = find_section(by_anchor, block_anchor, hierarchy[-1])
        if section is None:
            raise RefreshError(f"{name}: block {' > '.join(hierarchy)} links to #{block_anchor}, "
                               f"which no heading defines")
        node = component
        for part in hierarchy:
            node = node["blocks"].setdefault(part, new_block())
        node["arguments"] = sorted(set(node["arguments"]) | set(argument_names(section.lines)))
        if lists_unmodelled_blocks(section):
            free_form[f"{name}:{'.'.join(hierarchy)}"] = (
                "its section lists further nested blocks in a `Block | Description` table that the "
                "component's block hierarchy does not include")
    return component


def alloy_pages(tree: GitTree, directory: str) -> dict[str, str]:
    """Component (or config block) name -> expanded page text, for every page of a directory."""
    pages = {}
    for path in tree.list_files(directory):
        if not path.endswith(".md") or path.endswith("_index.md"):
            continue
        front, body = strip_front_matter(tree.show(path))
        name = re.sub(r" block$", "", str(front.get("title") or Path(path).stem))
        pages[name] = expand_shared(body, lambda shared: tree.show(f"{ALLOY_SHARED_DIR}/{shared}"))
    return pages


def alloy_run_flags(run_doc: str) -> list[str]:
    flags = sorted({m["flag"] for m in map(RUN_FLAG.match, run_doc.splitlines()) if m})
    if not flags:
        raise RefreshError(f"{ALLOY_RUN_DOC}: no `* \\`--flag\\`` list found")
    return flags


def flatten_alloy(name: str, block: dict[str, Any], prefix: str = "") -> list[str]:
    paths = [f"{name}:{join(prefix, argument)}" for argument in block["arguments"]]
    for inner_name, inner in block["blocks"].items():
        path = join(prefix, inner_name)
        paths += [f"{name}:{path}", *flatten_alloy(name, inner, path)]
    return paths


def build_alloy_reference(tree: GitTree) -> Reference:
    reference = Reference()
    components = {name: parse_alloy_component(name, text, reference.free_form)
                  for name, text in alloy_pages(tree, ALLOY_COMPONENTS_DIR).items()}
    config_blocks = {name: parse_alloy_component(name, text, reference.free_form)
                     for name, text in alloy_pages(tree, ALLOY_CONFIG_BLOCKS_DIR).items()}
    for name, block in {**components, **config_blocks}.items():
        reference.paths.add(name)
        reference.paths.update(flatten_alloy(name, block))
    for name, reason in ALLOY_EXPLICIT_FREE_FORM.items():
        if name not in reference.paths:
            raise RefreshError(f"{name} is no longer documented: review ALLOY_EXPLICIT_FREE_FORM")
        reference.free_form[name] = reason
    reference.extra = {
        "components": dict(sorted(components.items())),
        "config_blocks": dict(sorted(config_blocks.items())),
        "cli": {"run": alloy_run_flags(tree.show(ALLOY_RUN_DOC))},
    }
    return reference


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Source:
    repository: str
    files: tuple[str, ...]
    tag_prefix: str
    """git tag = tag_prefix + version, where version is the image tag minus `version_prefix`."""
    build: Callable[[GitTree], Reference]
    version_prefix: str = ""
    format: str = "yaml"

    def git_tag(self, version: str) -> str:
        """The upstream release tag of an image tag (`2.14.2` -> `mimir-2.14.2`)."""
        if self.version_prefix and version.startswith(self.version_prefix):
            version = version[len(self.version_prefix):]
        return self.tag_prefix + version

    def version(self, tag: str) -> str:
        """The image tag of an upstream release tag (`mimir-2.14.2` -> `2.14.2`)."""
        if not tag.startswith(self.tag_prefix):
            raise RefreshError(f"{self.repository} release tags start with {self.tag_prefix!r}, got {tag!r}")
        return self.version_prefix + tag[len(self.tag_prefix):]


SOURCES: dict[str, Source] = {
    "mimir": Source(
        repository="grafana/mimir", files=("cmd/mimir/config-descriptor.json",), tag_prefix="mimir-",
        build=lambda tree: parse_mimir_descriptor(tree.show("cmd/mimir/config-descriptor.json"))),
    "loki": Source(
        repository="grafana/loki", files=("docs/sources/shared/configuration.md",), tag_prefix="v",
        build=lambda tree: parse_doc_generator_reference(
            tree.show("docs/sources/shared/configuration.md"), "Supported contents and default values")),
    "tempo": Source(
        repository="grafana/tempo",
        files=("docs/sources/tempo/configuration/manifest.md", "cmd/tempo/app/config.go"), tag_prefix="v",
        build=lambda tree: build_tempo_reference(tree.show("docs/sources/tempo/configuration/manifest.md"),
                                                 tree.show("cmd/tempo/app/config.go"))),
    "pyroscope": Source(
        repository="grafana/pyroscope",
        files=("docs/sources/configure-server/reference-configuration-parameters/index.md",), tag_prefix="v",
        build=lambda tree: parse_doc_generator_reference(
            tree.show("docs/sources/configure-server/reference-configuration-parameters/index.md"),
            "Configuration parameters")),
    "alloy": Source(
        repository="grafana/alloy",
        files=(f"{ALLOY_COMPONENTS_DIR}/**/*.md", f"{ALLOY_CONFIG_BLOCKS_DIR}/*.md", f"{ALLOY_SHARED_DIR}/**/*.md",
               ALLOY_RUN_DOC),
        tag_prefix="v", version_prefix="v", format="alloy", build=build_alloy_reference),
}


def refresh_command(service: str, tag: str) -> str:
    return (f"python -m scripts.refresh_upstream_reference --service {service} "
            f"--repo-dir <git clone of https://github.com/{SOURCES[service].repository}> --tag {tag}")


def reference_path(service: str, version: str) -> Path:
    return REFERENCE_DIR / f"{service}-{version}.json"


def build_document(service: str, tree: GitTree) -> dict[str, Any]:
    source = SOURCES[service]
    reference = source.build(tree)
    return {
        "schema_version": SCHEMA_VERSION,
        "service": service,
        "version": source.version(tree.tag),
        "format": source.format,
        "source": {"repository": source.repository, "tag": tree.tag, "commit": tree.commit(),
                   "files": list(source.files)},
        "refresh": refresh_command(service, tree.tag),
        "paths": sorted(reference.paths),
        "free_form": [{"path": path, "reason": reason} for path, reason in sorted(reference.free_form.items())],
        **reference.extra,
    }


def write_document(document: dict[str, Any], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")


def check_document(document: dict[str, Any], vendored: Path) -> int:
    """0 when `vendored` holds exactly `document`; 1 (naming the file) otherwise."""
    if not vendored.exists() or json.loads(vendored.read_text()) != document:
        print(f"{vendored} differs from a regeneration at {document['source']['commit'][:12]}: "
              "run the same command without --check and review the diff", file=sys.stderr)
        return 1
    print(f"{vendored} matches {document['source']['repository']}@{document['source']['commit'][:12]}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", required=True, choices=sorted(SOURCES))
    parser.add_argument("--repo-dir", required=True, type=Path, help="local git directory of the upstream repo")
    parser.add_argument("--tag", required=True, help="upstream release tag, e.g. mimir-2.14.2 or v3.3.2")
    parser.add_argument("--output", type=Path,
                        help="where to write (default tests/upstream/config_keys/<service>-<version>.json)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the vendored file differs from a regeneration")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        source = SOURCES[args.service]
        version = source.version(args.tag)
        tree = GitTree(args.repo_dir, args.tag)
        tree.check()
        document = build_document(args.service, tree)
        output = args.output or reference_path(args.service, version)
        if args.check:
            return check_document(document, output)
        write_document(document, output)
    except RefreshError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output}: {len(document['paths'])} paths, {len(document['free_form'])} free-form, "
          f"{document['source']['repository']}@{args.tag} ({document['source']['commit'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
