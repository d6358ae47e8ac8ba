"""The pull-request plan comment of one stack: its body, and which existing comment to update.

    python -m scripts.plan_comment body <stack> <plan.txt> <exit code> > comment.md
    gh api --paginate repos/<repo>/issues/<pr>/comments | python -m scripts.plan_comment find <stack>

Each stack gets one comment, found again on the next push by the hidden marker
`<!-- lgtm-ecs-plan:<stack> -->` on its first line, and updated in place instead of adding
another. The plan text is cut to fit GitHub's comment limit (65536 characters), keeping its
end: Terraform's `Plan: ...` line comes last.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

COMMENT_LIMIT = 65536
"""GitHub's maximum issue comment body, in characters."""
ROOM_FOR_FRAME = 1000
"""What the heading, marker, fences and cut notice take, generously."""


def marker(stack_id: str) -> str:
    return f"<!-- lgtm-ecs-plan:{stack_id} -->"


def body(stack_id: str, plan_text: str, exit_code: int, *, limit: int = COMMENT_LIMIT) -> str:
    """Markdown for the comment: marker, a heading saying whether the plan ran, the plan."""
    status = {0: "no changes", 2: "changes"}.get(exit_code, f"failed (exit {exit_code})")
    room = limit - ROOM_FOR_FRAME
    text = plan_text if len(plan_text) <= room else "... (cut: see the job summary)\n" + plan_text[-room:]
    return (f"{marker(stack_id)}\n### terraform plan: `{stack_id}` ({status})\n\n"
            f"Planned with the read-only plan role; nothing is applied.\n\n```\n{text.rstrip()}\n```\n")


def _json_values(text: str) -> Iterator[Any]:
    """The JSON values of `gh api --paginate` output: one array per page, back to back."""
    decoder = json.JSONDecoder()
    position = 0
    while position < len(text.rstrip()):
        while text[position].isspace():
            position += 1
        value, position = decoder.raw_decode(text, position)
        yield value


def find(stack_id: str, comments_json: str) -> int | None:
    """The id of the first comment whose body starts with the stack's marker, if any."""
    for page in _json_values(comments_json):
        for comment in page if isinstance(page, list) else [page]:
            if str(comment.get("body", "")).startswith(marker(stack_id)):
                return int(comment["id"])
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 4 and args[0] == "body":
        with open(args[2], encoding="utf-8", errors="replace") as plan:
            sys.stdout.write(body(args[1], plan.read(), int(args[3])))
        return 0
    if len(args) == 2 and args[0] == "find":
        found = find(args[1], sys.stdin.read())
        print("" if found is None else found)
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
