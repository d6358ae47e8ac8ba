"""Every settings field says what it is: a docstring under the field, the way tflint's
`terraform_documented_variables` wants a description on every variable of a Terraform module."""

from __future__ import annotations

import ast
from pathlib import Path

import config.settings

SETTINGS_MODULE = Path(config.settings.__file__)


def undocumented_fields(source: str) -> list[str]:
    """`Class.field` of every dataclass field with no string literal right under it."""
    missing = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or not _is_dataclass(node):
            continue
        for index, statement in enumerate(node.body):
            if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
                continue
            following = node.body[index + 1] if index + 1 < len(node.body) else None
            if not (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                missing.append(f"{node.name}.{statement.target.id}")
    return missing


def _is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id == "dataclass":
            return True
    return False


def test_every_settings_field_has_a_docstring() -> None:
    assert undocumented_fields(SETTINGS_MODULE.read_text()) == []


def test_a_field_without_a_docstring_is_named() -> None:
    source = ('from dataclasses import dataclass\n@dataclass(frozen=True)\nclass Demo:\n'
              '    documented: int = 1\n    """Says what it is."""\n    bare: str = ""\n')
    assert undocumented_fields(source) == ["Demo.bare"]
