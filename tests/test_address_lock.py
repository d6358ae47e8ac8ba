"""The address lock: no resource address changes without a declared move.

Each locked environment's synthesis is compared with its committed snapshot
(`tests/addresses/<environment>.json`, refreshed with `make addresses`). The
demonstration builds a one-resource stack under two construct ids (tests/lock_demo.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.shared import moves
from components.shared.moves import Move, Removal
from scripts import address_lock
from scripts.address_lock import (
    LOCKED_ENVIRONMENTS,
    StackAddresses,
    dropped_moves,
    read_snapshot,
    stack_addresses,
    synthesized_addresses,
    unrecorded,
    vanished,
)
from tests.conftest import SynthesizedApp
from tests.lock_demo import DEMO_STACK_ID, NEW_ID, OLD_ID, demo_address, rename_move, synth_demo


def current(synthesized: Callable[..., SynthesizedApp], environment: str) -> dict[str, StackAddresses]:
    return synthesized_addresses(synthesized(environment).outdir)


@pytest.mark.parametrize("environment", LOCKED_ENVIRONMENTS)
def test_no_recorded_address_vanished_without_a_declared_move(synthesized: Callable[..., SynthesizedApp],
                                                              environment: str) -> None:
    snapshot = read_snapshot(environment)
    assert snapshot, f"tests/addresses/{environment}.json is missing: run `make addresses` and commit it"
    found = vanished(environment, snapshot, current(synthesized, environment),
                     address_lock.destroyed_on_purpose())
    if found:
        pytest.fail(address_lock.report(f"address lock ({environment}): addresses vanished", found), pytrace=False)


@pytest.mark.parametrize("environment", LOCKED_ENVIRONMENTS)
def test_every_synthesized_address_is_recorded(synthesized: Callable[..., SynthesizedApp], environment: str) -> None:
    found = unrecorded(environment, read_snapshot(environment), current(synthesized, environment))
    if found:
        pytest.fail(address_lock.report(f"address lock ({environment}): new addresses", found), pytrace=False)


@pytest.mark.parametrize("environment", LOCKED_ENVIRONMENTS)
def test_no_recorded_move_was_dropped(synthesized: Callable[..., SynthesizedApp], environment: str) -> None:
    found = dropped_moves(environment, read_snapshot(environment), current(synthesized, environment))
    if found:
        pytest.fail(address_lock.report(f"address lock ({environment}): moves dropped", found), pytrace=False)


def test_every_declared_move_is_rendered_in_some_configuration(synthesized: Callable[..., SynthesizedApp]) -> None:
    """A move whose target is synthesized nowhere is a typo or a stale entry: it protects nothing."""
    from tests.variants import VARIANT

    apps = [synthesized(environment) for environment in LOCKED_ENVIRONMENTS] + [synthesized("prod", **VARIANT)]
    rendered = {(stack_id, old, new) for app in apps
                for stack_id, addresses in synthesized_addresses(app.outdir).items()
                for old, new in addresses.moved}
    missing = [move for move in moves.MOVES if (move.stack_id, move.from_address, move.to_address) not in rendered]
    assert not missing, f"declared moves rendered in no configuration: {missing}"


# --- the demonstration: a rename fails the lock, a declared move passes it -----------


def test_renaming_a_construct_fails_the_lock_naming_the_address_and_a_move_passes_it() -> None:
    before = {DEMO_STACK_ID: stack_addresses(synth_demo(OLD_ID))}
    assert before[DEMO_STACK_ID].resources == {demo_address(OLD_ID)}

    renamed = {DEMO_STACK_ID: stack_addresses(synth_demo(NEW_ID))}
    (violation,) = vanished("prod", before, renamed, {})
    assert violation.address == demo_address(OLD_ID)
    assert "vanished without a declared move" in violation.problem
    # The fix names the file and the exact Move to add, with the new address of that type.
    assert f"Move({DEMO_STACK_ID!r}, {demo_address(OLD_ID)!r}, {demo_address(NEW_ID)!r}" in violation.fix
    assert "components/shared/moves.py" in violation.fix

    stack_json = synth_demo(NEW_ID, moves=[rename_move()])
    assert stack_json["moved"] == [{"from": demo_address(OLD_ID), "to": demo_address(NEW_ID)}]
    moved = {DEMO_STACK_ID: stack_addresses(stack_json)}
    assert vanished("prod", before, moved, {}) == []
    # The new address came in by the move: no snapshot refresh is needed for it.
    assert unrecorded("prod", before, moved) == []


def test_a_chain_of_moves_keeps_the_oldest_address() -> None:
    before = {DEMO_STACK_ID: StackAddresses(frozenset({"aws_cloudwatch_log_group.oldest"}))}
    chain = [Move(DEMO_STACK_ID, "aws_cloudwatch_log_group.oldest", demo_address(OLD_ID), why="first rename"),
             rename_move()]
    stack_json = synth_demo(NEW_ID, moves=chain)
    assert [(b["from"], b["to"]) for b in stack_json["moved"]] == [
        ("aws_cloudwatch_log_group.oldest", demo_address(OLD_ID)), (demo_address(OLD_ID), demo_address(NEW_ID))]
    assert vanished("prod", before, {DEMO_STACK_ID: stack_addresses(stack_json)}, {}) == []


def test_a_removal_that_keeps_the_object_renders_a_removed_block_and_satisfies_the_lock() -> None:
    from cdktf import Testing

    from components.shared.state_blocks import render_state_blocks
    from config.common import load_config
    from tests.helpers import synth_json
    from tests.lock_demo import LockDemoStack

    stack = LockDemoStack(Testing.app(), DEMO_STACK_ID, config=load_config("prod"), construct_id=NEW_ID)
    render_state_blocks(stack, DEMO_STACK_ID, moves=(), removals=[
        Removal(DEMO_STACK_ID, "aws_cloudwatch_log_group.retired", keep_object=True, why="now another stack's")])
    stack_json = synth_json(stack)
    assert stack_json["removed"] == [{"from": "aws_cloudwatch_log_group.retired", "lifecycle": {"destroy": False}}]
    before = {DEMO_STACK_ID: StackAddresses(frozenset({"aws_cloudwatch_log_group.retired", demo_address(NEW_ID)}))}
    assert vanished("prod", before, {DEMO_STACK_ID: stack_addresses(stack_json)}, {}) == []


def test_a_dropped_move_fails_the_lock() -> None:
    recorded = {DEMO_STACK_ID: stack_addresses(synth_demo(NEW_ID, moves=[rename_move()]))}
    (violation,) = dropped_moves("prod", recorded, {DEMO_STACK_ID: stack_addresses(synth_demo(NEW_ID))})
    assert violation.address == demo_address(OLD_ID)
    assert "still holds" in violation.problem


def test_a_stack_without_moves_synthesizes_no_state_blocks() -> None:
    assert not {"moved", "import", "removed"} & set(synth_demo(OLD_ID))


def test_make_addresses_refuses_to_write_a_snapshot_that_drops_an_address(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = read_snapshot("prod")
    bootstrap = recorded["00-bootstrap"]
    recorded["00-bootstrap"] = StackAddresses(bootstrap.resources | {"aws_s3_bucket.gone"}, bootstrap.moved,
                                              bootstrap.removed)
    monkeypatch.setattr(address_lock, "read_snapshot", lambda environment: recorded)

    def no_write(environment: str, addresses: object) -> None:
        raise AssertionError("wrote a snapshot that loses an address")

    monkeypatch.setattr(address_lock, "write_snapshot", no_write)
    assert address_lock.refresh(["prod"], write=True) == 1
    assert "00-bootstrap: aws_s3_bucket.gone: vanished without a declared move" in capsys.readouterr().err


def test_a_move_to_a_resource_this_configuration_does_not_synthesize_is_left_out() -> None:
    """E.g. a renamed opt-in resource (the HTTPS listener) in a config that has it off."""
    absent = Move(DEMO_STACK_ID, "aws_lb_listener.old-https", "aws_lb_listener.https", why="opt-in rename")
    stack_json = synth_demo(NEW_ID, moves=[absent, rename_move()])
    assert stack_json["moved"] == [{"from": demo_address(OLD_ID), "to": demo_address(NEW_ID)}]


def test_a_move_whose_source_is_still_declared_stops_synth_naming_it() -> None:
    from components.shared.state_blocks import StateBlockError

    backwards = Move(DEMO_STACK_ID, demo_address(NEW_ID), demo_address(OLD_ID), why="wrong way round")
    with pytest.raises(StateBlockError, match=r"aws_cloudwatch_log_group.new-name is still declared in 99-lock-demo"):
        synth_demo(NEW_ID, moves=[backwards])


def test_make_addresses_leaves_adoption_files_out(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """An operator's adoption file moves HCL addresses into one deployment's state: not this
    project's address history, so the snapshot does not record it."""
    import json

    from components.shared.adoption import ADOPTION_DIR_VARIABLE

    adoption = tmp_path / "adoption" / "prod"
    adoption.mkdir(parents=True)
    (adoption / "50-alb.json").write_text(json.dumps({"format": 1, "environment": "prod", "stack": "50-alb",
                                                      "moved": [{"from": "module.alb.aws_lb.this", "to": "aws_lb.alb"}]}))
    monkeypatch.setenv(ADOPTION_DIR_VARIABLE, str(tmp_path / "adoption"))
    addresses = address_lock.synthesize_environment("prod", tmp_path / "out")
    assert addresses["50-alb"].moved == frozenset()
    assert addresses["00-bootstrap"].moved  # the code's own moves are there
