"""A one-resource stack whose construct id the test picks: what a rename does to an address.

The address lock's demonstration (tests/test_address_lock.py, and on the emulator in
tests/test_e2e_adoption.py) builds it twice, as `old-name` and as `new-name`, with and
without a declared `Move`, through the same `render_state_blocks` every stack uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdktf import Testing
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from components.shared.moves import Move
from components.shared.stack import LgtmStack
from components.shared.state_blocks import render_state_blocks
from config.common import Config, load_config
from tests.helpers import synth_json

DEMO_STACK_ID = "99-lock-demo"
OLD_ID = "old-name"
NEW_ID = "new-name"


class LockDemoStack(LgtmStack):
    def __init__(self, scope: Construct, stack_id: str, *, config: Config, construct_id: str) -> None:
        super().__init__(scope, stack_id, config=config)
        self.log_group = CloudwatchLogGroup(self, construct_id, name=f"{config.log_group_prefix}lock-demo",
                                            retention_in_days=1)


def demo_address(construct_id: str) -> str:
    return f"aws_cloudwatch_log_group.{construct_id}"


def rename_move() -> Move:
    return Move(DEMO_STACK_ID, demo_address(OLD_ID), demo_address(NEW_ID), why="the demonstration's rename")


def synth_demo(construct_id: str, moves: Iterable[Move] = ()) -> dict[str, Any]:
    """The demo stack's Terraform JSON, its construct named `construct_id`, with `moves` declared."""
    stack = LockDemoStack(Testing.app(), DEMO_STACK_ID, config=load_config("prod"), construct_id=construct_id)
    render_state_blocks(stack, DEMO_STACK_ID, moves=moves, removals=())
    return synth_json(stack)
