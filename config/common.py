"""Typed settings for every stack: the Python replacement of common.tfvars.

Config flows one way: this module -> stacks -> synthesized JSON. Every value a
stack needs (names, ports, the tenant, routes) is defined here once. A `Config`
validates itself on construction (see `config.validation`), so an invalid
setting can never reach a stack: synth stops with a message naming the field,
the rule and the value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from config import validation
from config.names import (
    CDKTF_JSON,
    DEFAULT_ENVIRONMENT,
    ENVIRONMENT_CONTEXT_KEY,
    ENVIRONMENT_VARIABLE,
    ENVIRONMENTS,
    LEGACY_ENVIRONMENT,
    OWN_ACCOUNT_ENVIRONMENTS,
    PROJECT,
    environment_names,
)
from config.settings import (
    AlbConfig,
    CollectorBufferConfig,
    EcsConfig,
    EfsVolume,
    ExistingVpc,
    GitHubConfig,
    IngressRule,
    LegacyReadTenants,
    MimirStoragePrefixes,
    NetworkConfig,
    Ports,
    PrefixProxy,
    RetentionConfig,
    ServiceConfig,
    Settings,
    StateConfig,
    StorageConfig,
    Target,
)
from config.validation import ConfigError, Violation

# The settings classes are part of this module's interface: stacks and tests import them from here.
__all__ = [
    "AlbConfig", "CollectorBufferConfig", "Config", "ConfigError", "EcsConfig", "EfsVolume", "ExistingVpc",
    "GitHubConfig", "IngressRule", "LegacyReadTenants", "MimirStoragePrefixes", "NetworkConfig", "Ports",
    "PrefixProxy", "RetentionConfig", "ServiceConfig", "StateConfig", "StorageConfig", "Target", "Violation",
    "default_github", "default_state", "load_config", "selected_environment",
]


@dataclass(frozen=True)
class Config(Settings):
    """Settings that passed every rule: construction (and `dataclasses.replace`) validates."""

    def __post_init__(self) -> None:
        validation.validate(self)


def default_github(environment: str) -> GitHubConfig:
    """Prod keeps the seed's role and policy names; another environment gets names of its own
    (role and policy names are account-wide) and looks up the OIDC provider prod creates,
    unless it is one of OWN_ACCOUNT_ENVIRONMENTS."""
    if environment == LEGACY_ENVIRONMENT:
        return GitHubConfig()
    names = environment_names(environment)
    return GitHubConfig(deploy_role_name=names.deploy_role_name, deploy_policy_name=names.deploy_policy_name,
                        plan_role_name=names.plan_role_name, plan_policy_name=names.plan_policy_name,
                        create_oidc_provider=environment in OWN_ACCOUNT_ENVIRONMENTS)


def default_state(environment: str) -> StateConfig:
    names = environment_names(environment)
    return StateConfig(
        bootstrap_bucket=names.bootstrap_bucket,
        bootstrap_state_key=names.bootstrap_state_key,
        state_bucket=names.state_bucket,
        lock_table=names.lock_table,
        state_key_prefix=names.state_key_prefix,
    )


def load_config(environment: str = DEFAULT_ENVIRONMENT, **overrides: object) -> Config:
    """The config of one environment; keyword overrides replace top-level fields."""
    known = {f.name for f in fields(Config)}
    unknown = [Violation(name, f"is not a Config field (known: {sorted(known)})", value)
               for name, value in overrides.items() if name not in known]
    if unknown:
        raise ConfigError(unknown)
    named = isinstance(environment, str)
    settings: dict[str, object] = {
        "project": PROJECT,
        "environment": environment,
        "aws_region": "ap-northeast-2",
        "tenant_id": "jsj-lgtm-header",
        # A non-string environment is reported by validation; the defaults need a name.
        "state": default_state(environment if named else DEFAULT_ENVIRONMENT),
        "github": default_github(environment if named else DEFAULT_ENVIRONMENT),
    }
    settings.update(overrides)
    return Config(**settings)  # type: ignore[arg-type]


CONTEXT_SOURCE = f"cdktf context {ENVIRONMENT_CONTEXT_KEY!r} (cdktf.json)"
VARIABLE_SOURCE = f"${ENVIRONMENT_VARIABLE}"


def project_context_environment(path: Path = CDKTF_JSON) -> object | None:
    """cdktf.json's `context.environment`: what `npx cdktf synth` hands the app. `python main.py`
    and the operator scripts read it here, so every path selects the same environment."""
    try:
        context = json.loads(path.read_text()).get("context") or {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as error:
        raise ConfigError([Violation(str(path), "must be readable JSON (an object)", str(error))]) from None
    return context.get(ENVIRONMENT_CONTEXT_KEY) if isinstance(context, dict) else None


def selected_environment(context_value: object | None = None, *, environ: Mapping[str, str] | None = None,
                         context_source: str = CONTEXT_SOURCE) -> str:
    """The environment to synthesize: the context value or $LGTM_ENVIRONMENT; prod when neither is set.

    Either must name one of `ENVIRONMENTS`: an empty, false or unknown value stops with a message
    naming where it came from, and so do two values that differ (neither silently wins).
    """
    variables = os.environ if environ is None else environ
    given = [(source, value) for source, value in ((context_source, context_value),
                                                    (VARIABLE_SOURCE, variables.get(ENVIRONMENT_VARIABLE)))
             if value is not None]
    problems = [Violation(source, f"must name a known environment, one of {ENVIRONMENTS} (add one in "
                          "config/names.py ENVIRONMENTS); leave it unset for prod", value)
                for source, value in given if not isinstance(value, str) or value not in ENVIRONMENTS]
    if not problems and len({value for _, value in given}) > 1:
        (first, one), (second, other) = given
        problems.append(Violation("environment", f"{first} is {one!r} but {second} is {other!r}: "
                                  "set only one, or both to the same environment", (one, other)))
    if problems:
        raise ConfigError(problems)
    return str(given[0][1]) if given else DEFAULT_ENVIRONMENT
