"""Shared fixtures: the jsii import and each synth are paid once per session.

`synthesized("prod")` builds and synthesizes the whole app once into a temporary
directory; every test that needs a stack's JSON, the manifest, or the stack
objects reads from that one result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

if TYPE_CHECKING:
    from components.shared.stack import LgtmStack
    from config.common import Config

# cdktf and the provider (~12 s to import) load on first use, not with this file: pytest-xdist's
# controller process (`make unit`) reads conftest.py but runs no test, so it never pays for them.

SYNTH_COUNT = {"full_app": 0}
SYNTHESIZED_CONFIGS: set[tuple[str, str]] = set()
"""The distinct (environment, overrides) the session fixture synthesized in this process."""


@dataclass
class SynthesizedApp:
    config: Config
    outdir: Path
    stacks: dict[str, LgtmStack]
    _per_stack: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.outdir / "manifest.json").read_text())

    def stack_dir(self, stack_id: str) -> Path:
        return self.outdir / "stacks" / stack_id

    def stack_json(self, stack_id: str) -> dict[str, Any]:
        """The stack's cdk.tf.json as written by the full app synth."""
        return json.loads((self.stack_dir(stack_id) / "cdk.tf.json").read_text())

    def testing_synth(self, stack_id: str) -> dict[str, Any]:
        """`Testing.synth` of one stack object (cached): what the property tests assert on."""
        if stack_id not in self._per_stack:
            from cdktf import Testing

            self._per_stack[stack_id] = json.loads(Testing.synth(self.stacks[stack_id]))
        return self._per_stack[stack_id]


def synthesize(config: Config, outdir: Path, adoption_from: Path) -> SynthesizedApp:
    from cdktf import App

    from components.registry import build_stacks

    app = App(outdir=str(outdir), skip_validation=False)
    stacks = build_stacks(app, config, adoption_from=adoption_from)
    app.synth()
    SYNTH_COUNT["full_app"] += 1
    return SynthesizedApp(config=config, outdir=outdir, stacks=stacks)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., SynthesizedApp]:
    """Full-app synth per (environment, overrides), cached for the session.

    Without the repo's adoption files: they describe a real account's objects (the e2e tests
    deploy this JSON to an emulator that has none); tests/test_adoption_file.py checks them.
    """
    cache: dict[tuple[str, str], SynthesizedApp] = {}
    no_adoption = tmp_path_factory.mktemp("no-adoption")

    def get(environment: str = "prod", **overrides: object) -> SynthesizedApp:
        from config.common import load_config

        key = (environment, repr(sorted(overrides.items())))
        if key not in cache:
            SYNTHESIZED_CONFIGS.add(key)
            outdir = tmp_path_factory.mktemp(f"synth-{environment}")
            cache[key] = synthesize(load_config(environment, **overrides), outdir, no_adoption)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def prod(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod")


@pytest.fixture(scope="session")
def staging(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("staging")


def resources(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """All resources of one type in a synthesized stack, by logical id."""
    return stack.get("resource", {}).get(resource_type, {})


def only(stack: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = resources(stack, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def synth_count_line(counts: dict[str, tuple[int, int]]) -> str:
    """`gw0 7 for 7 configs, gw1 5 for 5 configs`: synths against distinct configs, per process."""
    return ", ".join(f"{name} {synths} for {configs} configs" for name, (synths, configs) in sorted(counts.items()))


WORKER_SYNTHS: dict[str, tuple[int, int]] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A pytest-xdist worker hands its counts to the controller, which prints them.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["lgtm_synths"] = (SYNTH_COUNT["full_app"], len(SYNTHESIZED_CONFIGS))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    synths = getattr(node, "workeroutput", {}).get("lgtm_synths")
    if synths is not None:
        WORKER_SYNTHS[node.gateway.id] = tuple(synths)  # type: ignore[assignment]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # `make bench` reads this line: each process synthesizes each config it needs once.
    if os.environ.get("LGTM_REPORT_SYNTH_COUNT"):
        counts = WORKER_SYNTHS or {"session": (SYNTH_COUNT["full_app"], len(SYNTHESIZED_CONFIGS))}
        terminalreporter.write_line(f"full-app synths: {synth_count_line(counts)}")
