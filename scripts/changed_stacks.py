"""Which stacks a change synthesizes differently: compare two `cdktf.out` directories.

    python -m scripts.changed_stacks <base cdktf.out> <head cdktf.out> [--github-output FILE]

A pull request is planned for exactly the stacks whose synthesized JSON differs between the
base and the head, whatever files it touched (a config default, a shared construct, a
dependency bump all show up here; a README edit does not). Volatile metadata is ignored:
cdktf's `//` entries (construct paths, stack traces, the cdktf version) say nothing Terraform
acts on. A stack only the head has is changed; a stack only the base has is reported as removed
(there is nothing on the head to plan it with).

Prints the changed stack ids as a JSON list, in the head's manifest order; with
`--github-output` also writes `stacks=<that list>` and `removed=<list>` for a job matrix.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_KEY = "//"
"""cdktf's comment key: construct metadata on every block, the cdktf version at the top."""


def without_metadata(value: Any) -> Any:
    """The JSON with every `//` entry dropped, at any depth."""
    if isinstance(value, dict):
        return {key: without_metadata(item) for key, item in value.items() if key != METADATA_KEY}
    if isinstance(value, list):
        return [without_metadata(item) for item in value]
    return value


def stack_ids(outdir: Path) -> list[str]:
    """The stacks of a synthesized app, in manifest order (the order cdktf deploys them)."""
    manifest = outdir / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{outdir} has no manifest.json: synthesize it first (make synth)")
    return list(json.loads(manifest.read_text())["stacks"])


def stack_json(outdir: Path, stack_id: str) -> Any:
    return json.loads((outdir / "stacks" / stack_id / "cdk.tf.json").read_text())


@dataclass(frozen=True)
class Comparison:
    changed: list[str]
    removed: list[str]


def compare(base: Path, head: Path, *, base_missing_ok: bool = False) -> Comparison:
    """`base_missing_ok`: a base that could not be synthesized (no manifest) changes every stack."""
    head_ids = stack_ids(head)
    if base_missing_ok and not (base / "manifest.json").is_file():
        return Comparison(changed=head_ids, removed=[])
    base_ids = stack_ids(base)
    changed = [stack_id for stack_id in head_ids
               if stack_id not in base_ids
               or without_metadata(stack_json(base, stack_id)) != without_metadata(stack_json(head, stack_id))]
    return Comparison(changed=changed, removed=[stack_id for stack_id in base_ids if stack_id not in head_ids])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="cdktf.out synthesized from the base commit")
    parser.add_argument("head", type=Path, help="cdktf.out synthesized from the head commit")
    parser.add_argument("--base-missing-ok", action="store_true",
                        help="the base did not synthesize (an older toolchain): plan every stack of the head")
    parser.add_argument("--github-output", type=Path, help="append stacks=/removed= lines here ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)
    try:
        result = compare(args.base, args.head, base_missing_ok=args.base_missing_ok)
    except (OSError, ValueError, KeyError) as error:
        print(f"changed_stacks: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.changed))
    if result.removed:
        print(f"removed on the head (not planned): {', '.join(result.removed)}", file=sys.stderr)
    if args.github_output:
        with args.github_output.open("a") as out:
            out.write(f"stacks={json.dumps(result.changed)}\nremoved={json.dumps(result.removed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
