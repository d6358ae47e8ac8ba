"""Checks of the plan role's policy against the action table (tests/test_plan_permissions.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.deploy_permissions import REQUIRED_ACTIONS, Needs, allowed_action_patterns, is_granted

READ_VERBS = ("Describe", "Get", "List")
LOCK_WRITES = frozenset({"s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:DeleteItem"})
"""The only non-read actions a plan makes: taking and releasing its state lock."""


def is_read_verb(action: str) -> bool:
    return action.split(":", 1)[1].lower().startswith(tuple(v.lower() for v in READ_VERBS))


def mutating_actions(table: Mapping[str, Needs] = REQUIRED_ACTIONS) -> set[str]:
    """Every action the table lists for create, update, tag or delete, except the reads among them
    (a create waits with DescribeVpcs, tagging lists tags with ListTagsForResource)."""
    reads = {a for needs in table.values() for a in needs.read}
    writes = {a for needs in table.values() for a in (*needs.create, *needs.update, *needs.tag, *needs.delete)}
    return {a for a in writes - reads if not is_read_verb(a)}


def mutating_grants(policy_documents: Iterable[str | Mapping[str, Any]],
                    table: Mapping[str, Needs] = REQUIRED_ACTIONS) -> list[str]:
    """The table's mutating actions the documents grant (an empty list for a read-only policy)."""
    patterns = allowed_action_patterns(policy_documents)
    return sorted(a for a in mutating_actions(table) if is_granted(a, patterns))


def non_read_actions(policy_documents: Iterable[str | Mapping[str, Any]]) -> set[str]:
    """Granted action patterns whose verb is not Describe/Get/List (case as IAM ignores it)."""
    return {p for p in allowed_action_patterns(policy_documents) if not is_read_verb(p)}
