"""Every leaf field of the settings dataclasses, found by introspection, for the generic tests.

`FULL_OVERRIDES` is a valid config with every optional setting given a value, so the walk
reaches every field of every class (`uncovered_fields()` names any it does not). For each
(class, field) the first instance found yields cases: strings with whitespace and newline
variants, bools and ints given a string. `with_leaf(case)` builds the `load_config` keywords
that put a case's value in place. Paths are rendered independently of config.validation:
`services[0](grafana).targets[0](grafana).port`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from config.common import Config, ExistingVpc, GitHubConfig, LegacyReadTenants, NetworkConfig, load_config
from tests.variants import variant

Token = str | int | tuple[str, str]

FULL_OVERRIDES: dict[str, object] = {
    **variant("prod"),
    "network": NetworkConfig(
        flow_log_retention_days=365,
        existing_vpc=ExistingVpc(vpc_id="vpc-0123abcd", public_subnet_ids=("subnet-0a000001", "subnet-0a000002"),
                                 private_subnet_ids=("subnet-0b000001", "subnet-0b000002"),
                                 private_route_table_ids=("rtb-0c000001",))),
    "github": replace(GitHubConfig(), existing_role_name="platform-deployer"),
    "tags": {"Team": "observability"},
    "legacy_read_tenants": LegacyReadTenants(metrics=("old-metrics",), logs=("old-logs",), traces=("old-traces",)),
}
NAMED_ITEMS = ("ServiceConfig", "Target")
STRING_VARIANTS = {
    "newline-end": lambda v: v + "\n",
    "space-end": lambda v: v + " ",
    "space-start": lambda v: " " + v,
    "tab-end": lambda v: v + "\t",
    "newline-inside": lambda v: v[:1] + "\n" + v[1:],
}


@dataclass(frozen=True)
class Leaf:
    tokens: tuple[Token, ...]
    annotation: Any
    value: object
    owner: str
    """`Class.field` the leaf belongs to (a mapping's key or value: `Config.tags[key]`/`[value]`)."""


@dataclass(frozen=True)
class Case:
    tokens: tuple[Token, ...]
    value: object
    field: str
    id: str


def full_config() -> Config:
    return load_config(**FULL_OVERRIDES)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def _walk(value: object, annotation: Any, tokens: tuple[Token, ...], owner: str) -> Iterator[Leaf]:
    annotation = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if value is None:
        return
    if dataclasses.is_dataclass(annotation):
        hints = _hints(annotation)
        for f in dataclasses.fields(annotation):
            yield from _walk(getattr(value, f.name), hints[f.name], (*tokens, f.name),
                             f"{annotation.__name__}.{f.name}")
    elif origin is tuple:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            yield from _walk(item, typing.get_args(annotation)[0], (*tokens, index), owner)
    elif origin is collections.abc.Mapping:
        for key, item in value.items():  # type: ignore[attr-defined]
            yield Leaf((*tokens, ("key", key)), str, key, f"{owner}[key]")
            yield Leaf((*tokens, ("value", key)), str, item, f"{owner}[value]")
    else:
        yield Leaf(tokens, annotation, value, owner)


def leaves() -> list[Leaf]:
    cfg = full_config()
    return list(_walk(cfg, Config, (), "Config"))


def settings_classes() -> dict[str, type]:
    """Every settings dataclass reachable from Config's annotations, by name."""
    found: dict[str, type] = {}
    pending: list[type] = [Config]
    while pending:
        cls = pending.pop()
        if cls.__name__ not in found:
            found[cls.__name__] = cls
            for annotation in _hints(cls).values():
                inner = _unwrap_optional(annotation)
                pending.extend(c for c in (inner, *typing.get_args(inner)) if dataclasses.is_dataclass(c))
    return found


def _holds_settings(annotation: Any) -> bool:
    """A field holding a settings class or a tuple of them: covered through their own fields."""
    inner = _unwrap_optional(annotation)
    return any(dataclasses.is_dataclass(c) for c in (inner, *typing.get_args(inner)))


def uncovered_fields() -> list[str]:
    """`Class.field`s no leaf of FULL_OVERRIDES reaches (an optional left None, an empty tuple)."""
    reached = {leaf.owner.split("[")[0] for leaf in leaves()}
    every = {f"{name}.{field}" for name, cls in settings_classes().items()
             for field, annotation in _hints(cls).items() if not _holds_settings(annotation)}
    return sorted(every - reached)


def _first_of_each_field(kinds: tuple[type, ...]) -> list[Leaf]:
    seen: set[str] = set()
    chosen = []
    for leaf in leaves():
        if leaf.annotation in kinds and leaf.owner not in seen:
            seen.add(leaf.owner)
            chosen.append(leaf)
    return chosen


def set_at(value: Any, tokens: tuple[Token, ...], new: object) -> Any:
    """`value` with the leaf at `tokens` replaced (frozen dataclasses and tuples rebuilt)."""
    if not tokens:
        return new
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, str):
        return replace(value, **{head: set_at(getattr(value, head), rest, new)})
    if isinstance(head, int):
        items = list(value)
        items[head] = set_at(items[head], rest, new)
        return tuple(items)
    part, key = head
    mapping = dict(value)
    if part == "value":
        mapping[key] = new
    else:
        mapping[new] = mapping.pop(key)
    return mapping


def render(tokens: tuple[Token, ...], root: Any) -> str:
    """The dotted path validation reports, read off the (modified) settings at `root`."""
    path, current = "", root
    for token in tokens:
        if isinstance(token, str):
            path = f"{path}.{token}" if path else token
            current = getattr(current, token)
        elif isinstance(token, int):
            current = current[token]
            name = f"({current.name})" if type(current).__name__ in NAMED_ITEMS else ""
            path = f"{path}[{token}]{name}"
        else:
            path = f"{path}[{token[1]!r}]"
    return path


def _case(leaf: Leaf, new: object, label: str) -> Case:
    top = leaf.tokens[0]
    assert isinstance(top, str)
    root = types.SimpleNamespace(**{top: set_at(getattr(full_config(), top), leaf.tokens[1:], new)})
    tokens = leaf.tokens
    if isinstance(tokens[-1], tuple) and tokens[-1][0] == "key":
        tokens = (*tokens[:-1], ("key", new))  # a renamed key is reported under its new name
    field = render(tokens, root)
    return Case(leaf.tokens, new, field, f"{field}-{label}")


def string_cases() -> list[Case]:
    return [_case(leaf, variant_of(str(leaf.value)), label)
            for leaf in _first_of_each_field((str,))
            for label, variant_of in STRING_VARIANTS.items()]


def int_and_bool_cases() -> list[Case]:
    return [_case(leaf, str(leaf.value).lower() if leaf.annotation is bool else str(leaf.value), "as-string")
            for leaf in _first_of_each_field((bool, int))]


def with_leaf(case: Case) -> dict[str, object]:
    """`load_config` keywords: the full config with this case's value in place."""
    cfg = full_config()
    settings: dict[str, object] = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)}
    top = case.tokens[0]
    assert isinstance(top, str)
    settings[top] = set_at(settings[top], case.tokens[1:], case.value)
    return settings
