"""What synthesizes imports one way: no module of config/, components/ or scripts/ reaches itself.

Every import counts, the ones under `if TYPE_CHECKING:` too: a type-only back edge is still a
circle a reader must hold in mind (config.validation once named config.common's classes).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "components", "scripts")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Our modules `path` imports: `from a.b import c` counts a.b.c when c is a module, else a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                         for alias in node.names)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path per module that can reach itself, found by depth-first search."""
    found: list[list[str]] = []

    def visit(start: str, node: str, path: list[str], seen: set[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target == start:
                found.append([*path, start])
            elif target not in seen:
                seen.add(target)
                visit(start, target, [*path, target], seen)

    for start in sorted(graph):
        visit(start, start, [start], {start})
    return found


def test_the_cycle_finder_sees_a_type_only_back_edge() -> None:
    graph = {"config.common": {"config.validation"}, "config.validation": {"config.common"}, "config.names": set()}
    assert cycles(graph) == [["config.common", "config.validation", "config.common"],
                             ["config.validation", "config.common", "config.validation"]]


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "config.validation" in graph["config.common"]
    assert "config.settings" in graph["config.validation"]  # under TYPE_CHECKING: read all the same


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []
