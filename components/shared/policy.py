"""IAM policy documents: `policy_document` for the provider (a `jsonencode` expression tokens resolve
inside, components/shared/json_document.py), `policy_json` the same document as plain JSON (to measure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from components.shared.json_document import json_document

Statement = dict[str, Any]
POLICY_VERSION = "2012-10-17"


def _document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def policy_document(statements: Sequence[Statement]) -> str:
    """A policy of `statements`, as `${jsonencode(...)}` (compact: Terraform writes it without spaces)."""
    return json_document(_document(statements))


def policy_json(statements: Sequence[Statement], *, compact: bool = False) -> str:
    """The same policy as a JSON string; `compact` drops the spaces (a managed policy's size counts them)."""
    document = _document(statements)
    return json.dumps(document, separators=(",", ":")) if compact else json.dumps(document)
