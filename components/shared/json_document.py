"""JSON documents (IAM policies, ECS container definitions) as Terraform `jsonencode(...)` expressions.

A JSON string holding `${...}` references works in `cdk.tf.json`, but `cdktf synth --hcl`
converts it as a template and mangles its quotes. `jsonencode` over the structure converts to
HCL that `terraform validate` accepts (tests/test_hcl_synth.py) and encodes the same document:
Terraform sorts the keys and writes it compact, which the AWS provider treats as equal to the
old JSON string (equivalent policies, normalized container definitions), so deployed stacks plan
no change (tests/test_json_document.py evaluates both with terraform).

cdktf writes plain strings into the expression without escaping `"`, so each one goes in as
`Fn.raw_string` (which escapes `"` and `${`, but not backslashes: a backslash is refused).
A string holding tokens is written as a template; its literal text must then hold no `"` or
backslash either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import Fn, Token


def json_document(value: object) -> str:
    """`${jsonencode(...)}` of `value` (dicts, lists, strings with or without tokens, numbers, bools)."""
    return Fn.jsonencode(hcl_safe(value))


def hcl_safe(value: object, path: str = "$") -> object:
    """`value` with every plain string wrapped in `Fn.raw_string`; refuses what would not survive."""
    if isinstance(value, str):
        if "\\" in value:
            raise ValueError(f"{path}: a backslash does not survive `cdktf synth --hcl` (Fn.raw_string): {value!r}")
        if Token.is_unresolved(value):
            if '"' in value:
                raise ValueError(f"{path}: a quote next to a token does not survive `cdktf synth --hcl`: {value!r}")
            return value
        return Fn.raw_string(value)
    if isinstance(value, Mapping):
        safe: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str) or any(c in key for c in '"\\$%') or Token.is_unresolved(key):
                raise ValueError(f"{path}: key {key!r} is not a plain name cdktf writes as it is")
            safe[key] = hcl_safe(item, f"{path}.{key}")
        return safe
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [hcl_safe(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"{path}: {type(value).__name__} is not a JSON value")
