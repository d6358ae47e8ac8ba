"""The local AWS emulator: moto's server on 127.0.0.1, with fixes for the moto 5.2.x gaps our stacks meet.

Run it in the foreground (until SIGTERM/SIGINT):

    python -m scripts.emulator --port 5000 --log .local/emulator.log

or from Python: `start_in_thread()` (in-process, for unit tests of the patches) and
`launch_process()` (a separate process, for deploys that outlive the caller).

Every patch below fixes one call that moto 5.2.1 gets wrong in a way Terraform
notices (an error it retries for minutes, or a field it reads back differently and
plans to change). They only change the emulator: what prod synthesizes is never
touched. `PATCHES` names each with the reason; README lists them too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# AWS-managed policies (e.g. AmazonECSTaskExecutionRolePolicy) exist in moto only with
# this set; it must be in the environment before moto builds its IAM backend.

LOCALHOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_PORT_IN_USE = 3


# --- patches -------------------------------------------------------------------------


ECS_SERVICE_FIELDS_MOTO_DROPS: dict[str, Any] = {
    "capacityProviderStrategy": [],
    "enableExecuteCommand": False,
    "healthCheckGracePeriodSeconds": None,
    "availabilityZoneRebalancing": None,
    "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
    "enableECSManagedTags": False,
}


def patch_ecs_create_service_fields() -> None:
    """ECS CreateService: keep the fields moto drops.

    moto ignores capacityProviderStrategy (and then reports launch type EC2),
    enableExecuteCommand, healthCheckGracePeriodSeconds, availabilityZoneRebalancing
    and deploymentConfiguration; the second plan shows diffs, some forcing
    replacement. UpdateService already stores what it is sent.
    """
    from botocore import xform_name
    from moto.ecs.responses import EC2ContainerServiceResponse

    original_create = EC2ContainerServiceResponse.create_service

    def create_service(self: EC2ContainerServiceResponse) -> Any:
        result = original_create(self)
        service = result.result["service"]
        for field_name, default in ECS_SERVICE_FIELDS_MOTO_DROPS.items():
            value = self._get_param(field_name)
            setattr(service, xform_name(field_name), value if value is not None else default)
        if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
            # AWS reports no launch type for a service placed by capacity providers.
            service.launch_type = None
            for deployment in service.deployments:
                deployment["launchType"] = None
                deployment["capacityProviderStrategy"] = self._get_param("capacityProviderStrategy")
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]


def patch_serialize_requests() -> None:
    """One request at a time: moto's in-memory backends are not thread-safe.

    The server is threaded and Terraform runs up to ten operations at once, so
    concurrent calls race on shared lists: seen here, a security group's rules
    rebuilt by one revoke while another authorize lands (InvalidPermission.Duplicate
    on create, InvalidPermission.NotFound on destroy), and a spurious
    ConditionalCheckFailed taking a state lock. AWS serializes per resource; a
    single lock around every request gives the same answers. A retry of a call already
    answered gets that answer again (`replay_of_answered_retry`).
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__
    one_at_a_time = threading.Lock()

    def call(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        with one_at_a_time:
            replayed = replay_of_answered_retry(environ, start_response)
            if replayed is not None:
                return replayed
            # moto builds the whole response before returning: nothing streams after the lock.
            return remember_answer(environ, start_response, lambda answer: list(original_call(self, environ, answer)))

    call.__wrapped__ = original_call  # type: ignore[attr-defined]
    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


# The AWS SDKs mark every attempt of one call with the same `amz-sdk-invocation-id` and count
# the attempts in `amz-sdk-request: attempt=N`. Twice in CI a retry reached the emulator after
# it had applied the first attempt (a state lock refused to its own holder; a security group
# rule "already exists"), with no error answer logged in between: the first answer was lost on
# the way back, for a reason not confirmed. A retry of an answered call gets that answer again,
# as the client would have had it; the log says so.
_ANSWERED: dict[str, tuple[str, list[tuple[str, str]], list[bytes]]] = {}
_ANSWERED_LIMIT = 20000


def _invocation(environ: Any) -> tuple[str | None, int]:
    attempt = re.search(r"attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return environ.get("HTTP_AMZ_SDK_INVOCATION_ID"), int(attempt.group(1)) if attempt else 1


def replay_of_answered_retry(environ: Any, start_response: Any) -> list[bytes] | None:
    invocation, attempt = _invocation(environ)
    if invocation is None or attempt == 1:
        return None
    answer = _ANSWERED.get(invocation)
    logging.getLogger("lgtm.emulator").warning(
        "retry (attempt %d) of call %s: %s", attempt, invocation,
        f"replayed its first answer ({answer[0]})" if answer else "not answered before, run again")
    if answer is None:
        return None
    status, headers, body = answer
    start_response(status, headers)
    return body


def remember_answer(environ: Any, start_response: Any, run: Callable[[Any], list[bytes]]) -> list[bytes]:
    """Run the call; keep a successful answer under its invocation id for a retry."""
    invocation, _ = _invocation(environ)
    seen: dict[str, Any] = {}

    def answer(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.update(status=status, headers=list(headers))
        return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

    body = run(answer)
    if invocation is not None and str(seen.get("status", "")).startswith("2"):
        if len(_ANSWERED) >= _ANSWERED_LIMIT:
            _ANSWERED.clear()
        _ANSWERED[invocation] = (seen["status"], seen["headers"], body)
    return body


def patch_security_group_rule_description() -> None:
    """EC2 security-group rules: report the description of group and prefix-list rules.

    moto reads a rule's description from its CIDR range only, so a rule that
    references another security group (or a prefix list) reads back with no
    description: a perpetual diff on aws_vpc_security_group_*_rule.
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    original_init = SecurityGroupRule.__init__

    def init(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:
        prefix_list = kwargs.get("prefix_list_id") if "prefix_list_id" in kwargs else (
            args[7] if len(args) > 7 else None)
        original_init(self, *args, **kwargs)
        self.lgtm_prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: SecurityGroupRule) -> str | None:
        return (self.ip_range.get("Description")
                or self.source_group.get("Description")
                or getattr(self, "lgtm_prefix_list_description", None))

    SecurityGroupRule.__init__ = init  # type: ignore[method-assign]
    SecurityGroupRule.description = property(description)  # type: ignore[assignment]


def patch_s3_delete_marker_dispose() -> None:
    """S3: let delete markers be disposed of.

    Deleting a key whose versions include a delete marker calls `dispose()` on every
    version; moto's FakeDeleteMarker has none, so DeleteObjects on a versioned bucket
    answers 500 and destroying the state bucket retries for minutes.
    """
    from moto.s3.models import FakeDeleteMarker

    def dispose(self: FakeDeleteMarker, garbage: bool = False) -> None:
        """A delete marker holds no data to release."""

    FakeDeleteMarker.dispose = dispose  # type: ignore[attr-defined]


def patch_policy_deny_with_unmet_condition() -> None:
    """S3 bucket policies: a Deny statement applies only when its Condition holds.

    moto skips condition operators it cannot evaluate (Bool, ...) as if they held, and
    gives S3 no request context. So the state bucket's TLS-only policy (Deny s3:* when
    aws:SecureTransport is false) denies every object call: the S3 backend gets 403 on
    HeadObject. In AWS a condition on a key absent from the request context does not
    match, and a Deny whose condition does not match does not apply. The policy is
    still stored and read back as written; the emulator (plain HTTP on 127.0.0.1 with
    no request context) just does not enforce conditional denies.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.iam.policy_conditions import CONDITION_OPERATIONS

    original_is_action_permitted = IAMPolicyStatement.is_action_permitted

    def condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str] | None) -> bool:
        for operator, expected_by_key in condition.items():
            evaluate = CONDITION_OPERATIONS.get(operator)
            for key, expected in expected_by_key.items():
                if evaluate is None or not context or key not in context \
                        or not evaluate(expected, context[key]):
                    return False
        return True

    def is_action_permitted(self: IAMPolicyStatement, action: str, resource: str = "*",
                            principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> PermissionResult:
        statement = self._statement
        if statement.get("Effect") == "Deny" and statement.get("Condition") \
                and not condition_holds(statement["Condition"], incoming_condition_values):
            return PermissionResult.NEUTRAL
        return original_is_action_permitted(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


def patch_efs_put_backup_policy() -> None:
    """EFS: add PutBackupPolicy.

    moto has DescribeBackupPolicy but not PutBackupPolicy: creating
    aws_efs_backup_policy gets a 500 that the provider retries for minutes. The status
    is kept per file system (DISABLED too, as AWS reports it, so destroy sees it).
    """
    from moto.efs.models import FileSystem
    from moto.efs.responses import EFSResponse

    def put_backup_policy(self: EFSResponse) -> Any:
        file_system = self.efs_backend.file_systems_by_id[self._get_param("FileSystemId")]
        status = (self._get_param("BackupPolicy") or {}).get("Status", "DISABLED")
        # AWS moves ENABLING -> ENABLED and DISABLING -> DISABLED by itself; report the end state.
        file_system.lgtm_backup_status = {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}.get(status, status)
        body = json.dumps({"BackupPolicy": {"Status": file_system.lgtm_backup_status}})
        return body, {"Content-Type": "application/json"}

    original_backup_policy = FileSystem.backup_policy

    def backup_policy(self: FileSystem) -> dict[str, str] | None:
        if hasattr(self, "lgtm_backup_status"):
            return {"Status": self.lgtm_backup_status}
        return original_backup_policy.fget(self)  # type: ignore[attr-defined]

    EFSResponse.put_backup_policy = put_backup_policy  # type: ignore[attr-defined]
    FileSystem.backup_policy = property(backup_policy)  # type: ignore[assignment]


def patch_efs_delete_file_system_policy() -> None:
    """EFS: add DeleteFileSystemPolicy.

    moto has Put/DescribeFileSystemPolicy but not DeleteFileSystemPolicy: destroying
    aws_efs_file_system_policy gets a 500 that the provider retries for minutes.
    """
    from moto.efs.responses import EFSResponse

    def delete_file_system_policy(self: EFSResponse) -> Any:
        file_system = self.efs_backend.file_systems_by_id[self._get_param("FileSystemId")]
        file_system.file_system_policy = None
        return json.dumps({}), {"status": 200, "Content-Type": "application/json"}

    EFSResponse.delete_file_system_policy = delete_file_system_policy  # type: ignore[attr-defined]


def patch_dynamodb_update_table_sse() -> None:
    """DynamoDB: UpdateTable applies SSESpecification.

    moto 5.2.1's UpdateTable ignores it, so a table created without encryption (the HCL
    project's lock table, taken over by 00-bootstrap) still reads back unencrypted after
    the provider turned encryption on, and every later plan wants
    `server_side_encryption { enabled = true }` again. The specification is kept the way
    CreateTable keeps it (AWS's aws/dynamodb key when none is given).
    """
    from moto.dynamodb.responses import DynamoHandler

    original_update_table = DynamoHandler.update_table

    def update_table(self: DynamoHandler) -> Any:
        specification = self.body.get("SSESpecification")
        if specification is not None:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            if specification.get("Enabled"):
                table.sse_specification = dict(specification)
                table.sse_specification.setdefault(
                    "KMSMasterKeyId", table._get_default_encryption_key(table.account_id, table.region_name))
            else:
                table.sse_specification = None
        return original_update_table(self)

    DynamoHandler.update_table = update_table  # type: ignore[method-assign]


def patch_signature_check_with_iam_enforced() -> None:
    """With IAM enforced (`/moto-api/reset-auth`, the e2e plan-role test only), moto recomputes each
    request's SigV4 signature, and for REST paths with a query (S3 from Terraform's AWS SDK for Go v2,
    EFS even from boto3) its result differs from what the client signed: every state read and EFS
    describe answers 403 SignatureDoesNotMatch. Requests then skip the signature comparison only:
    the access key must still be an IAM user's, and that user's policies still decide every action.
    Without IAM enforced moto checks nothing, patch or not."""
    from moto.iam.access_control import IAMRequestBase

    IAMRequestBase.check_signature = lambda self: None  # type: ignore[method-assign]


def patch_unknown_resource_matches_scoped_statements() -> None:
    """With IAM enforced, moto authorizes every service but S3 against the resource "*" (it does not
    work out the ARN a call acts on), so an Allow scoped to an ARN (the lock table, a role, a log
    group) never matches and every scoped permission is refused. A statement's Resource then
    matches when moto does not know the resource: actions and conditions are still enforced for
    every service, and resources for S3 (state objects); the resource scoping of the other
    services is evaluated by tests/test_plan_permissions.py."""
    from moto.iam.access_control import IAMPolicyStatement

    original = IAMPolicyStatement._check_element_matches

    def check_element_matches(self: IAMPolicyStatement, statement_element: Any, value: str) -> bool:
        if statement_element == "Resource" and value == "*":
            return True
        return original(self, statement_element, value)

    IAMPolicyStatement._check_element_matches = check_element_matches  # type: ignore[method-assign]


def patch_head_bucket_action() -> None:
    """With IAM enforced, moto authorizes HeadBucket as the action `s3:HeadBucket`, which IAM does not
    have: AWS authorizes it as `s3:ListBucket` (S3 API reference, HeadBucket, "Permissions"). A
    policy that grants s3:ListBucket was refused, and the provider's read of `aws_s3_bucket` then
    took the 403 for a missing bucket and planned to create it again. Without IAM enforced moto
    checks nothing, patch or not."""
    from moto.s3 import responses

    responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"


@dataclass(frozen=True)
class Patch:
    name: str
    reason: str
    apply: Callable[[], None]


def _reason(function: Callable[[], None]) -> str:
    return " ".join((function.__doc__ or "").split())


PATCHES: tuple[Patch, ...] = tuple(
    Patch(function.__name__, _reason(function), function)
    for function in (
        patch_serialize_requests,
        patch_ecs_create_service_fields,
        patch_security_group_rule_description,
        patch_s3_delete_marker_dispose,
        patch_policy_deny_with_unmet_condition,
        patch_efs_put_backup_policy,
        patch_efs_delete_file_system_policy,
        patch_dynamodb_update_table_sse,
        patch_signature_check_with_iam_enforced,
        patch_unknown_resource_matches_scoped_statements,
        patch_head_bucket_action,
    )
)
_patched = threading.Lock()
_applied: list[str] = []


def apply_patches() -> list[str]:
    """Apply every patch once per process; return their names."""
    with _patched:
        if not _applied:
            for patch in PATCHES:
                patch.apply()
                _applied.append(patch.name)
    return list(_applied)


# --- running the server --------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def endpoint_url(port: int) -> str:
    return f"http://{LOCALHOST}:{port}"


class PortInUse(RuntimeError):
    """The port asked for is taken on 127.0.0.1 (moto would wait for it forever)."""


def port_in_use_message(port: int) -> str:
    return (f"port {port} on {LOCALHOST} is in use by another process: pick another with --port N "
            "(or LGTM_EMULATOR_PORT), or 0 for a free one")


def ensure_port_free(port: int) -> None:
    """Raise PortInUse unless `port` (0: any) can be bound on 127.0.0.1 right now."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOCALHOST, port))
        except OSError:
            raise PortInUse(port_in_use_message(port)) from None


def is_listening(port: int, *, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class EmulatorThread:
    """moto's ThreadedMotoServer, patched, in this process."""

    server: Any
    port: int

    @property
    def url(self) -> str:
        return endpoint_url(self.port)

    def stop(self) -> None:
        self.server.stop()


def start_in_thread(*, port: int = 0) -> EmulatorThread:
    """Start the patched server on 127.0.0.1 in a daemon thread (port 0: a free one).

    A taken port raises PortInUse: moto's server thread would die binding it while `start()`
    waits for it forever.
    """
    from moto.server import ThreadedMotoServer

    ensure_port_free(port)
    apply_patches()
    server = ThreadedMotoServer(ip_address=LOCALHOST, port=port, verbose=False)
    server.start()
    return EmulatorThread(server=server, port=server.get_host_and_port()[1])


@dataclass
class EmulatorProcess:
    """The emulator running as `python -m scripts.emulator` in its own process group."""

    pid: int
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return endpoint_url(self.port)

    def stop(self, *, timeout: float = 15.0) -> None:
        stop_emulator_process(self.pid, timeout=timeout)


def launch_process(
    *, log_path: Path, port: int = 0, python: str = sys.executable, startup_timeout: float = 60.0,
) -> EmulatorProcess:
    """Start the emulator in a new session (it outlives the caller) and wait until it listens.

    A taken port is reported at once (PortInUse), before anything starts.
    """
    ensure_port_free(port)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port_file = log_path.with_suffix(".port")
    port_file.unlink(missing_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [python, "-m", "scripts.emulator", "--port", str(port), "--log", str(log_path),
             "--port-file", str(port_file)],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode} while starting; "
                               f"see {log_path}:\n{_tail(log_path)}")
        if port_file.is_file() and port_file.read_text().strip():
            bound_port = int(port_file.read_text())
            if is_listening(bound_port):
                return EmulatorProcess(pid=process.pid, port=bound_port, log_path=log_path)
        time.sleep(0.1)
    process.terminate()
    process.wait(timeout=15)
    raise RuntimeError(f"the emulator did not listen within {startup_timeout:.0f} s; see {log_path}")


def is_emulator_process(pid: int) -> bool:
    """True only for a live process running this module (never signal a recycled pid)."""
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"scripts.emulator" in command_line


def stop_emulator_process(pid: int, *, timeout: float = 15.0) -> bool:
    """SIGTERM the emulator with this pid (then SIGKILL); False if it was not running."""
    if not is_emulator_process(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        except ChildProcessError:
            pass
        if not is_emulator_process(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 meaning 'a free one'."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: 0 (a free one) or 1-65535")
    return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto server on 127.0.0.1 with lgtm-ecs's fixes")
    parser.add_argument("--port", type=port_number, default=0, help="0 (default): a free port")
    parser.add_argument("--log", type=Path, default=REPO_ROOT / ".local" / "emulator.log")
    parser.add_argument("--port-file", type=Path, default=None,
                        help="write the bound port here once listening")
    args = parser.parse_args(argv)

    args.log.parent.mkdir(parents=True, exist_ok=True)
    # werkzeug logs every request and the traceback of every 500: the failing call.
    logging.basicConfig(filename=args.log, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        emulator = start_in_thread(port=args.port)
    except PortInUse as error:
        print(f"emulator not started: {error}", file=sys.stderr, flush=True)
        return EXIT_PORT_IN_USE
    logging.getLogger("lgtm.emulator").info(
        "listening on %s with patches: %s", emulator.url, ", ".join(apply_patches()))
    print(f"emulator listening on {emulator.url} (log: {args.log})", flush=True)
    if args.port_file:
        args.port_file.write_text(str(emulator.port))

    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    stopping.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
