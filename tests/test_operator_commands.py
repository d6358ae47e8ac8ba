"""The operator commands fail with one line saying what to do, never a traceback.

`make bootstrap-bucket` (scripts/bootstrap_bucket.py), the emulator (scripts/emulator.py) and
`make deploy-local`/`destroy-local`/`unlock-local` (scripts/deploy_local.py). Nothing here sends
traffic beyond 127.0.0.1: the bucket test's credential chain has no source at all (and its
endpoint is a closed local port), the emulator runs in-process on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from config.common import load_config
from scripts import bootstrap_bucket, deploy_local
from scripts import emulator as emulator_module
from scripts.deploy_local import EmulatorRecord, LocalStateError

# --- make bootstrap-bucket -----------------------------------------------------------------


def closed_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where botocore's credential chain finds nothing and asks no one."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookup
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_local_port()}")
    monkeypatch.delenv("LGTM_ENVIRONMENT", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def test_bootstrap_bucket_without_credentials_says_what_to_set(no_aws_credentials: None,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap_bucket.main([]) == bootstrap_bucket.EXIT_FAILED
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.err.count("\n") == 1, captured.err
    assert "no usable AWS credentials" in captured.err
    assert "AWS_PROFILE" in captured.err and "AWS_ACCESS_KEY_ID" in captured.err


def test_bootstrap_bucket_with_an_unknown_environment_names_it(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LGTM_ENVIRONMENT", "stagign")
    assert bootstrap_bucket.main([]) == bootstrap_bucket.EXIT_CONFIG
    err = capsys.readouterr().err
    assert "$LGTM_ENVIRONMENT" in err and "'stagign'" in err and "Traceback" not in err


def test_bootstrap_bucket_environment_flag_is_named_as_its_source(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LGTM_ENVIRONMENT", raising=False)
    assert bootstrap_bucket.main(["--environment", "dev"]) == bootstrap_bucket.EXIT_CONFIG
    assert "--environment" in capsys.readouterr().err


@pytest.mark.parametrize(("code", "expected"), [
    ("AccessDenied", "another AWS account owns that name"),
    ("403", "lack s3 rights"),
    ("BucketAlreadyExists", "belongs to another AWS account"),
    ("InvalidAccessKeyId", "AWS_PROFILE"),
    ("SlowDown", "(SlowDown: try later)"),
])
def test_bootstrap_bucket_aws_refusals_are_one_line_each(code: str, expected: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "try later"}}, "CreateBucket")
    message = bootstrap_bucket.failure_message(error, "jsj-lgtm-terraform-bootstrap")
    assert expected in message and "\n" not in message


# --- the emulator ---------------------------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_taken_emulator_port_is_named_at_once(taken_port: int, tmp_path: Path) -> None:
    with pytest.raises(emulator_module.PortInUse, match=f"port {taken_port} on 127.0.0.1 is in use"):
        emulator_module.launch_process(log_path=tmp_path / "emulator.log", port=taken_port, startup_timeout=5)


def test_the_emulator_itself_exits_on_a_taken_port(taken_port: int, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Before: moto's server thread died binding it and `start()` waited forever (60 s to a timeout)."""
    assert emulator_module.main(["--port", str(taken_port), "--log", str(tmp_path / "e.log")]) \
        == emulator_module.EXIT_PORT_IN_USE
    assert "in use" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["abc", "-1", "65536", ""])
def test_a_port_that_is_not_a_port_is_an_argument_error(text: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="is not a port"):
        emulator_module.port_number(text)
    assert emulator_module.port_number("0") == 0 and emulator_module.port_number("65535") == 65535


# --- make deploy-local ------------------------------------------------------------------------


def test_help_works_with_a_bad_port_variable(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LGTM_EMULATOR_PORT", "abc")
    with pytest.raises(SystemExit) as exited:
        deploy_local.main(["deploy", "--help"])
    assert exited.value.code == 0 and "--port" in capsys.readouterr().out


def test_a_bad_port_variable_stops_deploy_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LGTM_EMULATOR_PORT", "abc")
    monkeypatch.setattr(deploy_local, "deploy", lambda **kwargs: pytest.fail("deploy ran"))
    with pytest.raises(SystemExit) as exited:
        deploy_local.main(["deploy"])
    assert exited.value.code == 2
    assert "$LGTM_EMULATOR_PORT: 'abc' is not a port" in capsys.readouterr().err


@pytest.fixture
def local_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """deploy_local's .local/ in a temporary directory."""
    monkeypatch.setattr(deploy_local, "LOCAL_DIR", tmp_path)
    monkeypatch.setattr(deploy_local, "STATE_FILE", tmp_path / "emulator.json")
    return tmp_path


def test_a_truncated_emulator_record_is_named(local_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (local_dir / "emulator.json").write_text('{"endpoint": "http://127.0.0.1:5')
    with pytest.raises(LocalStateError, match="emulator.json is not an emulator record"):
        EmulatorRecord.load()
    assert deploy_local.main(["destroy"]) == 1
    err = capsys.readouterr().err
    assert str(local_dir / "emulator.json") in err and "Traceback" not in err


def no_emulator_may_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator_module, "launch_process", lambda **kwargs: pytest.fail("an emulator started"))


def test_a_failed_synth_starts_no_emulator(monkeypatch: pytest.MonkeyPatch, local_dir: Path) -> None:
    no_emulator_may_start(monkeypatch)
    monkeypatch.setattr(deploy_local, "load_selected_config", lambda: load_config())

    def failing_synth(outdir: Path, **kwargs: Any) -> None:
        raise RuntimeError("synth failed (exit 2): synth stopped: invalid config")

    monkeypatch.setattr(deploy_local, "synthesize", failing_synth)
    with pytest.raises(RuntimeError, match="synth failed"):
        deploy_local.deploy(outdir=local_dir / "cdktf.out", say=lambda line: None)


def test_an_invalid_environment_starts_no_emulator(monkeypatch: pytest.MonkeyPatch, local_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    no_emulator_may_start(monkeypatch)
    monkeypatch.setenv("LGTM_ENVIRONMENT", "stagign")
    assert deploy_local.main(["deploy", "--port", "0"]) == 1
    assert "'stagign'" in capsys.readouterr().err


def recorded_live_emulator(monkeypatch: pytest.MonkeyPatch, port: int = 5123) -> EmulatorRecord:
    record = EmulatorRecord(endpoint=f"http://127.0.0.1:{port}", pid=4242)
    record.save()
    monkeypatch.setattr(emulator_module, "is_emulator_process", lambda pid: pid == 4242)
    monkeypatch.setattr(emulator_module, "is_listening", lambda port_number, **kwargs: port_number == port)
    return record


def test_another_port_while_an_emulator_is_recorded_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                               local_dir: Path) -> None:
    """Starting a second one would overwrite the record and orphan the first."""
    no_emulator_may_start(monkeypatch)
    recorded_live_emulator(monkeypatch)
    with pytest.raises(LocalStateError, match="runs at http://127.0.0.1:5123 .pid 4242"):
        deploy_local.ensure_emulator(port=5999, endpoint=None, say=lambda line: None)
    with pytest.raises(LocalStateError, match="make destroy-local"):
        deploy_local.ensure_emulator(port=0, endpoint="http://127.0.0.1:6000", say=lambda line: None)


@pytest.mark.parametrize(("port", "endpoint"), [(0, None), (5123, None), (0, "http://127.0.0.1:5123/")])
def test_the_recorded_emulator_is_reused(monkeypatch: pytest.MonkeyPatch, local_dir: Path,
                                         port: int, endpoint: str | None) -> None:
    no_emulator_may_start(monkeypatch)
    record = recorded_live_emulator(monkeypatch)
    assert deploy_local.ensure_emulator(port=port, endpoint=endpoint, say=lambda line: None) == record


def synthesized_for(outdir: Path, environment: str) -> Path:
    stack = outdir / "stacks" / "00-bootstrap"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(
        {"provider": {"aws": [{"default_tags": [{"tags": {"Environment": environment}}]}]}}))
    (outdir / "manifest.json").write_text(json.dumps({"stacks": {"00-bootstrap": {}}}))
    return outdir


def test_stacks_of_another_environment_are_never_used(tmp_path: Path) -> None:
    outdir = synthesized_for(tmp_path / "cdktf.out", "prod")
    deploy_local.check_synthesized_for(outdir, "prod")
    with pytest.raises(LocalStateError, match="holds prod stacks but the selected environment is staging"):
        deploy_local.check_synthesized_for(outdir, "staging")


def test_a_fresh_cdktf_out_of_another_environment_is_synthesized_again(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """Before: deploy-local for staging reused prod's cdktf.out because it was newer than the sources."""
    outdir = synthesized_for(tmp_path / "cdktf.out", "prod")
    monkeypatch.setattr(deploy_local, "DEFAULT_OUTDIR", outdir)
    monkeypatch.setattr(deploy_local, "synth_is_fresh", lambda path: True)
    runs: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> Any:
        runs.append(command)
        return __import__("subprocess").CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(deploy_local.subprocess, "run", fake_run)
    deploy_local.synthesize(outdir, environment="prod", say=lambda line: None)
    assert runs == []
    deploy_local.synthesize(outdir, environment="staging", say=lambda line: None)
    assert len(runs) == 1 and runs[0][-1] == "main.py"


def test_a_lock_error_says_how_to_unlock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(deploy_local, "write_cli_config", lambda directory: directory / "mirror.tfrc")

    def locked(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("terraform apply failed for stack 10-network (exit 1):\nError acquiring the state lock")

    monkeypatch.setattr(deploy_local, "run_terraform", locked)
    deployment = deploy_local.LocalDeployment(outdir=tmp_path, endpoint="http://127.0.0.1:5123",
                                              region="ap-northeast-2", log_dir=tmp_path / "logs")
    with pytest.raises(RuntimeError, match="stack 10-network is locked.*make unlock-local"):
        deployment.apply("10-network")


def test_an_interrupted_run_says_how_to_unlock(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(**kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy_local, "destroy", interrupted)
    assert deploy_local.main(["destroy"]) == 130
    assert "make unlock-local" in capsys.readouterr().err


# --- state locks on a real (in-process) emulator ---------------------------------------------------

LOCKED_STATE = "jsj-lgtm-terraform-state-prod/lgtm-ecs/prod/10-network/terraform.tfstate"
LOCK_INFO = json.dumps({"ID": "5b0c6d3e-0000-0000-0000-000000000000", "Operation": "OperationTypeApply",
                        "Who": "operator@laptop", "Created": "2026-01-01T00:00:00Z"})


@pytest.fixture(scope="module")
def emulator() -> Iterator[emulator_module.EmulatorThread]:
    server = emulator_module.start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def emulator_with_a_stale_lock(emulator: emulator_module.EmulatorThread, local_dir: Path) -> Iterator[str]:
    """A lock table and state bucket as an interrupted run leaves them (moto's state is per process:
    removed again afterwards)."""
    cfg = load_config()
    dynamodb = deploy_local.boto_client("dynamodb", endpoint=emulator.url, region=cfg.aws_region)
    s3 = deploy_local.boto_client("s3", endpoint=emulator.url, region=cfg.aws_region)
    dynamodb.create_table(TableName=cfg.state.lock_table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
    s3.create_bucket(Bucket=cfg.state.state_bucket, CreateBucketConfiguration={"LocationConstraint": cfg.aws_region})
    try:
        dynamodb.put_item(TableName=cfg.state.lock_table,
                          Item={"LockID": {"S": LOCKED_STATE}, "Info": {"S": LOCK_INFO}})
        # The digest terraform keeps next to each state: not a lock, and it must stay.
        dynamodb.put_item(TableName=cfg.state.lock_table,
                          Item={"LockID": {"S": f"{LOCKED_STATE}-md5"}, "Digest": {"S": "0" * 32}})
        s3.put_object(Bucket=cfg.state.state_bucket, Key="lgtm-ecs/prod/20-storage/terraform.tfstate.tflock",
                      Body=b"{}")
        EmulatorRecord(endpoint=emulator.url, pid=None).save()
        yield emulator.url
    finally:
        dynamodb.delete_table(TableName=cfg.state.lock_table)
        for item in s3.list_objects_v2(Bucket=cfg.state.state_bucket).get("Contents", []):
            s3.delete_object(Bucket=cfg.state.state_bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=cfg.state.state_bucket)


def test_a_stale_lock_stops_deploy_before_any_apply(emulator_with_a_stale_lock: str) -> None:
    with pytest.raises(LocalStateError) as caught:
        deploy_local.check_no_state_locks(load_config(), endpoint=emulator_with_a_stale_lock)
    message = str(caught.value)
    assert LOCKED_STATE in message and "operator@laptop" in message and "make unlock-local" in message


def test_unlock_removes_the_locks_and_keeps_the_digests(emulator_with_a_stale_lock: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LGTM_ENVIRONMENT", raising=False)
    lines: list[str] = []
    assert deploy_local.unlock(say=lines.append) == 2
    cfg = load_config()
    assert deploy_local.state_locks(endpoint=emulator_with_a_stale_lock, region=cfg.aws_region,
                                    table=cfg.state.lock_table) == []
    dynamodb = deploy_local.boto_client("dynamodb", endpoint=emulator_with_a_stale_lock, region=cfg.aws_region)
    digest = dynamodb.get_item(TableName=cfg.state.lock_table, Key={"LockID": {"S": f"{LOCKED_STATE}-md5"}})
    assert "Item" in digest
    deploy_local.check_no_state_locks(cfg, endpoint=emulator_with_a_stale_lock)  # deploy may go on
    assert any("unlocked" in line and LOCKED_STATE in line for line in lines)


def test_no_lock_table_yet_means_no_locks(emulator: emulator_module.EmulatorThread) -> None:
    assert deploy_local.state_locks(endpoint=emulator.url, region="ap-northeast-2", table="missing") == []
