"""IAM policy documents as the JSON strings the provider takes (tokens resolve inside them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]
POLICY_VERSION = "2012-10-17"


def policy_document(statements: Sequence[Statement], *, compact: bool = False) -> str:
    """A policy of `statements`; `compact` drops the spaces (a managed policy's size counts them)."""
    document = {"Version": POLICY_VERSION, "Statement": list(statements)}
    return json.dumps(document, separators=(",", ":")) if compact else json.dumps(document)
