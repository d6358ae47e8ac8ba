"""pytest plugin: which validation rules each test reaches.

    .venv/bin/python -m pytest tests/test_config.py -q -p tests.rule_reach

A rule is a place that creates a `Violation`: a `Violation(...)` in config/validation.py or
config/common.py, or a call of a shared check (`check_*`, `_regional_arn`) times each
`Violation(...)` inside that check (check_vpc_block at network.vpc_cidr is two rules: "not a
CIDR" and "not /16-/28"). They are found in the source (`rule_sites`), and each Violation
created while a test runs is traced back to its rule through the call stack.

A negative test is one that sees a ConfigError; the rules it reaches are those of the violations
that error reports (a value rule's violation dropped because the shape pass already named the
field does not count). The summary prints how
many there are, how many rules each reaches, and the rules no test reaches; with
$LGTM_RULE_REACH_JSON set it also writes them there (tests/test_rule_reach.py reads it).
"""

from __future__ import annotations

import ast
import collections
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "config" / "validation.py", ROOT / "config" / "common.py")
TRANSPARENT = {"<genexpr>", "<listcomp>", "__init__"}


@dataclass(frozen=True)
class Site:
    path: str
    function: str
    first_line: int
    last_line: int

    def holds(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line

    def label(self) -> str:
        return f"{Path(self.path).name}:{self.first_line} {self.function}"


def _is_helper(name: str) -> bool:
    return name.startswith("check_") or name == "_regional_arn"


def _calls(function: ast.FunctionDef, name_test: Any) -> Iterator[ast.Call]:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and name_test(node.func.id):
            yield node


def rule_sites() -> dict[tuple[Site, Site | None], str]:
    """Every rule: (where it is decided, the Violation inside a shared check or None) -> label."""
    rules: dict[tuple[Site, Site | None], str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        helper_violations = {
            name: [Site(str(path), name, c.lineno, c.end_lineno or c.lineno)
                   for c in _calls(node, lambda n: n == "Violation")]
            for name, node in functions.items() if _is_helper(name)}
        for name, node in functions.items():
            if _is_helper(name):
                continue
            for call in _calls(node, lambda n: n == "Violation"):
                site = Site(str(path), name, call.lineno, call.end_lineno or call.lineno)
                rules[(site, None)] = site.label()
            for call in _calls(node, lambda n, known=helper_violations: n in known):
                site = Site(str(path), name, call.lineno, call.end_lineno or call.lineno)
                for inner in helper_violations[call.func.id]:  # type: ignore[attr-defined]
                    rules[(site, inner)] = f"{site.label()} -> {call.func.id}:{inner.first_line}"  # type: ignore[attr-defined]
    return rules


RULES = rule_sites()
_SOURCE_PATHS = {str(path) for path in SOURCES}
_SITES: dict[tuple[str, str], set[Site]] = collections.defaultdict(set)
for _outer, _inner in RULES:
    for _site in (_outer, _inner):
        if _site is not None:
            _SITES[(_site.path, _site.function)].add(_site)


def _site_of(frame: FrameType) -> Site | None:
    line = frame.f_lineno
    return next((s for s in _SITES.get((frame.f_code.co_filename, frame.f_code.co_name), ()) if s.holds(line)),
                None)


def rule_of_current_violation() -> tuple[Site, Site | None] | None:
    """The rule creating the Violation being constructed (called from Violation.__init__)."""
    frame = sys._getframe(2)  # this function <- the patched __init__ <- the rule's frame
    inner: Site | None = None
    while frame is not None:
        name = frame.f_code.co_name
        if frame.f_code.co_filename in _SOURCE_PATHS and name not in TRANSPARENT:
            site = _site_of(frame)
            if site is not None and _is_helper(name) and inner is None:
                inner = site
            elif site is not None and not _is_helper(name):
                key = (site, inner)
                return key if key in RULES else None
        frame = frame.f_back  # type: ignore[assignment]
    return None


class RuleReach:
    def __init__(self) -> None:
        self.current: str | None = None
        self.reached: dict[str, set[str]] = collections.defaultdict(set)
        self.untraced: list[str] = []

    def install(self) -> None:
        from config import validation

        original = validation.Violation.__init__
        reach = self

        original_error = validation.ConfigError.__init__

        def traced(violation: Any, field: str, rule: str, value: object) -> None:
            original(violation, field, rule, value)
            found = rule_of_current_violation()
            violation.traced_rule = RULES[found] if found is not None else None

        def reported(error: Any, violations: list[Any]) -> None:
            # Only what reaches the operator counts: a value rule's violation that the shape pass
            # already reported for the same field is created, then dropped.
            original_error(error, violations)
            if reach.current is None:
                return
            for violation in violations:
                rule = getattr(violation, "traced_rule", None)
                if rule is None:
                    reach.untraced.append(f"{reach.current}: {violation}")
                else:
                    reach.reached[reach.current].add(rule)

        validation.Violation.__init__ = traced  # type: ignore[method-assign]
        validation.ConfigError.__init__ = reported  # type: ignore[method-assign]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self.current = item.nodeid
        yield
        self.current = None

    def summary(self) -> dict[str, Any]:
        negative = {test: sorted(rules) for test, rules in self.reached.items() if rules}
        reached = set().union(*negative.values()) if negative else set()
        histogram = collections.Counter(len(rules) for rules in negative.values())
        functions = {test.split("[")[0] for test in negative}
        return {"rules": len(RULES), "reached": len(reached), "unreached": sorted(set(RULES.values()) - reached),
                "negative_tests": len(negative), "negative_test_functions": len(functions),
                "rules_per_negative_test": dict(sorted(histogram.items())), "untraced_violations": self.untraced,
                "tests": negative}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        summary = self.summary()
        write = terminalreporter.write_line
        write(f"validation rules: {summary['rules']}, reached by a negative test: {summary['reached']}")
        write(f"negative tests: {summary['negative_tests']} "
              f"({summary['negative_test_functions']} test functions, the rest parameters)")
        write("rules reached per negative test: " + ", ".join(
            f"{count} rule(s): {tests} tests" for count, tests in summary["rules_per_negative_test"].items()))
        for label in summary["unreached"]:
            write(f"  no negative test reaches {label}")
        for line in summary["untraced_violations"]:
            write(f"  not traced to a rule: {line}")
        target = os.environ.get("LGTM_RULE_REACH_JSON")
        if target:
            Path(target).write_text(json.dumps(summary, indent=1))


def pytest_configure(config: pytest.Config) -> None:
    reach = RuleReach()
    reach.install()
    config.pluginmanager.register(reach, "lgtm-rule-reach")
