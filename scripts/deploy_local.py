"""Deploy every stack to the local AWS emulator, and destroy it again (`make deploy-local` / `make destroy-local`).

    python -m scripts.deploy_local deploy  [--port N | --endpoint-url URL] [--workers 2] [--no-synth]
    python -m scripts.deploy_local plan                                  # every stack, -detailed-exitcode
    python -m scripts.deploy_local unlock                                # clear locks an interrupted run left
    python -m scripts.deploy_local destroy

Terraform runs on the very JSON prod uses (`cdktf.out/`): it reaches the emulator
through its environment alone (`AWS_ENDPOINT_URL`, fake keys), with the real AWS
provider from the offline mirror. Stacks run in dependency order (manifest
`dependencies` plus the stacks whose state a `terraform_remote_state` reads; every
stack needs 00-bootstrap's state bucket and lock table); independent stacks run in
parallel (`--workers`). Each stack logs to `.local/logs/<stack>.log`; its progress line,
`[+92.5s → +158.4s] 20-storage ok (65.9 s) [3/7]`, gives its start and end since the run
began (which stacks overlapped), and the summary line the wall time against the longest stack.

The environment is the one `main.py` synthesizes (`$LGTM_ENVIRONMENT` or cdktf.json's
context, default prod); a `cdktf.out` synthesized for another environment is never reused.
Synth runs before the emulator starts, so a failed synth leaves nothing running.

The emulator this starts is recorded in `.local/emulator.json` (pid, port), so
`destroy` finds it and stops it afterwards; an emulator given with `--endpoint-url`
is left running. While a recorded emulator runs, `deploy` reuses it and refuses a
`--port` or `--endpoint-url` elsewhere (starting a second one would orphan the first).

A terraform run that is interrupted or killed leaves its state lock in the lock table.
`deploy` finds such locks before it applies anything and stops, naming them; `unlock`
deletes them on the emulator (what `terraform force-unlock` does).

`prevent_destroy` (state bucket, lock table): destroy never edits the configuration.
It takes those resources out of 00-bootstrap's state (`terraform state rm`), destroys
the rest with plain `terraform destroy`, then deletes them on the emulator with boto3
(emptying the bucket of every version; turning the table's deletion protection off
first). Prod's protection stays exactly as synthesized.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.names import BOOTSTRAP_STACK_ID
from scripts import emulator as emulator_module
from scripts.synth_inputs import synth_is_fresh
from scripts.terraform_cli import run_terraform, terraform_env, write_cli_config

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"
STATE_FILE = LOCAL_DIR / "emulator.json"
DEFAULT_OUTDIR = REPO_ROOT / "cdktf.out"
FAKE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key: fake by construction
FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CROSS_STACK_OUTPUT_PREFIX = "cross-stack-output-"
# Sources whose change makes cdktf.out stale.
# Adoption files import a real account's objects by ID, which an emulator does not have:
# a local deploy is a fresh deployment and synthesizes without them. When the repo holds
# any, it synthesizes into its own directory, so cdktf.out stays what `make synth` makes.
NO_ADOPTION_DIR = LOCAL_DIR / "no-adoption"
OUTDIR_WITHOUT_ADOPTION = LOCAL_DIR / "cdktf.out"
PORT_VARIABLE = "LGTM_EMULATOR_PORT"
STATE_LOCK_ERROR = "Error acquiring the state lock"
UNLOCK_COMMAND = "make unlock-local"


class LocalStateError(RuntimeError):
    """What .local/ or cdktf.out holds does not fit this command (named in the message)."""

Say = Callable[[str], None]


def say_now(line: str) -> None:
    """Progress goes out as it happens, also when stdout is a pipe (make, CI)."""
    print(line, flush=True)


# --- dependency order ----------------------------------------------------------------


def read_manifest(outdir: Path) -> dict[str, Any]:
    path = outdir / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: synthesize first (make synth)")
    return json.loads(path.read_text())


def stack_json(outdir: Path, stack_id: str) -> dict[str, Any]:
    return json.loads((outdir / "stacks" / stack_id / "cdk.tf.json").read_text())


def backend_location(stack: Mapping[str, Any]) -> tuple[str, str] | None:
    s3 = stack.get("terraform", {}).get("backend", {}).get("s3")
    return (s3["bucket"], s3["key"]) if s3 else None


def stack_dependencies(outdir: Path) -> dict[str, set[str]]:
    """Stack id -> the stacks that must be applied before it.

    The manifest's `dependencies` (cdktf cross-stack references), plus any stack whose
    state this one reads with `terraform_remote_state`, plus 00-bootstrap for every
    stack whose backend lives in the bucket 00-bootstrap creates.
    """
    manifest = read_manifest(outdir)["stacks"]
    stacks = {stack_id: stack_json(outdir, stack_id) for stack_id in sorted(manifest)}
    owner_of_state = {backend_location(stack): stack_id for stack_id, stack in stacks.items()}
    bootstrap_buckets = {
        resource.get("bucket")
        for resource in stacks.get(BOOTSTRAP_STACK_ID, {}).get("resource", {}).get("aws_s3_bucket", {}).values()
    }
    dependencies: dict[str, set[str]] = {}
    for stack_id, stack in stacks.items():
        needed = set(manifest[stack_id].get("dependencies", []))
        for remote in stack.get("data", {}).get("terraform_remote_state", {}).values():
            config = remote.get("config", {})
            producer = owner_of_state.get((config.get("bucket"), config.get("key")))
            if producer:
                needed.add(producer)
        location = backend_location(stack)
        if location and location[0] in bootstrap_buckets:
            needed.add(BOOTSTRAP_STACK_ID)
        needed.discard(stack_id)
        dependencies[stack_id] = needed
    return dependencies


def dependency_order(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Topological order, ties broken by stack id; a cycle or unknown stack is an error."""
    remaining = {stack: set(needed) for stack, needed in dependencies.items()}
    unknown = {need for needed in remaining.values() for need in needed} - set(remaining)
    if unknown:
        raise ValueError(f"stacks depend on stacks that were not synthesized: {sorted(unknown)}")
    order: list[str] = []
    while remaining:
        ready = sorted(stack for stack, needed in remaining.items() if not needed - set(order))
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(remaining)}")
        order.append(ready[0])
        del remaining[ready[0]]
    return order


def reverse_dependencies(dependencies: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Stack -> the stacks that must be destroyed before it (its dependents)."""
    dependents: dict[str, set[str]] = {stack: set() for stack in dependencies}
    for stack, needed in dependencies.items():
        for producer in needed:
            dependents[producer].add(stack)
    return dependents


@dataclass(frozen=True)
class StackResult:
    stack_id: str
    seconds: float
    value: Any = None
    started: float = 0.0
    """Seconds from the start of the run to this stack's start (its end: `finished`)."""
    finished: float = 0.0


def progress_line(stack_id: str, started: float, finished: float, outcome: str) -> str:
    """`[+12.3s → +40.1s] 20-storage ok (27.8 s)`: start and end show which stacks overlapped."""
    return f"[+{started:.1f}s → +{finished:.1f}s] {stack_id} {outcome} ({finished - started:.1f} s)"


@dataclass(frozen=True)
class Timeline:
    """What a run of stacks cost as a whole against its parts (`make bench` prints it)."""

    wall: float
    longest: StackResult
    total: float
    """Sum of the stacks' own times: equal to `wall` when nothing overlapped."""

    @property
    def ratio_to_longest(self) -> float:
        return self.wall / self.longest.seconds if self.longest.seconds else float("inf")

    def describe(self) -> str:
        return (f"in {self.wall:.1f} s (the stacks' own times add up to {self.total:.1f} s; longest "
                f"{self.longest.stack_id} {self.longest.seconds:.1f} s; wall / longest = {self.ratio_to_longest:.2f})")


def timeline(results: list[StackResult]) -> Timeline:
    wall = max((result.finished for result in results), default=0.0)
    longest = max(results, key=lambda result: result.seconds)
    return Timeline(wall=wall, longest=longest, total=sum(result.seconds for result in results))


def run_in_order(
    dependencies: Mapping[str, Iterable[str]], action: Callable[[str], Any], *,
    workers: int, say: Say, verb: str,
) -> list[StackResult]:
    """Run `action` on every stack once all the stacks it needs are done.

    Up to `workers` stacks at once; a stack starts as soon as the stacks it needs are
    done, not when a whole "level" is. A progress line per stack as it finishes, with
    its start and end since the run began. On the first failure no further stack
    starts; the running ones finish; the error is raised.
    """
    order = dependency_order(dependencies)
    slots = max(1, workers)
    done: dict[str, StackResult] = {}
    failures: list[BaseException] = []
    began = time.monotonic()
    start_offsets: dict[str, float] = {}

    def timed(stack_id: str) -> StackResult:
        start_offsets[stack_id] = time.monotonic() - began
        value = action(stack_id)
        finished = time.monotonic() - began
        started = start_offsets[stack_id]
        return StackResult(stack_id, finished - started, value, started=started, finished=finished)

    def collect(future: Future[StackResult], stack_id: str) -> None:
        try:
            result = future.result()
        except BaseException as error:  # noqa: BLE001 - reported after the others finish
            failures.append(error)
            say(progress_line(stack_id, start_offsets.get(stack_id, 0.0), time.monotonic() - began, "FAILED"))
            return
        done[stack_id] = result
        say(progress_line(stack_id, result.started, result.finished, verb) + f" [{len(done)}/{len(order)}]")

    with ThreadPoolExecutor(max_workers=slots) as pool:
        running: dict[Future[StackResult], str] = {}
        while len(done) < len(order) and not failures:
            for stack_id in ready_stacks(order, dependencies, done, set(running.values())):
                if len(running) < slots:
                    running[pool.submit(timed, stack_id)] = stack_id
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                collect(future, running.pop(future))
        for future in wait(running).done:
            collect(future, running[future])
    if failures:
        raise failures[0]
    return [done[stack_id] for stack_id in order]


def ready_stacks(order: list[str], dependencies: Mapping[str, Iterable[str]],
                 done: Mapping[str, StackResult], running: set[str]) -> list[str]:
    """Stacks not started yet whose every dependency is done, in dependency order."""
    return [stack_id for stack_id in order
            if stack_id not in done and stack_id not in running and set(dependencies[stack_id]) <= set(done)]


# --- terraform against the emulator ---------------------------------------------------


def emulator_environment(*, endpoint: str, region: str, cli_config: Path) -> dict[str, str]:
    """The only settings that point terraform at the emulator: all in the environment.

    Inherited AWS_* variables are dropped first, so no profile, session token or
    service-specific endpoint (AWS_ENDPOINT_URL_S3, ...) can send a call elsewhere.
    """
    env = {name: value for name, value in terraform_env(cli_config).items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=FAKE_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET_KEY,
        AWS_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        CHECKPOINT_DISABLE="1",
    )
    return env


def boto_client(service: str, *, endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY)


@dataclass(frozen=True)
class PlannedChange:
    address: str
    actions: tuple[str, ...]
    attributes: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.address} ({'/'.join(self.actions)}): {', '.join(self.attributes) or '?'}"


@dataclass(frozen=True)
class PlanResult:
    exit_code: int
    changes: tuple[PlannedChange, ...] = ()


def changed_attributes(before: Any, after: Any, after_unknown: Any, prefix: str = "") -> list[str]:
    """Attribute paths that differ between a resource's `before` and `after` in plan JSON."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        unknown = after_unknown if isinstance(after_unknown, dict) else {}
        for key in sorted(set(before) | set(after) | set(unknown)):
            paths += changed_attributes(before.get(key), after.get(key), unknown.get(key),
                                        f"{prefix}.{key}" if prefix else key)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = []
        unknown = after_unknown if isinstance(after_unknown, list) else []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            paths += changed_attributes(old, new, unknown[index] if index < len(unknown) else None,
                                        f"{prefix}[{index}]")
        return paths
    if after_unknown is True:
        return [f"{prefix} (known after apply)"]
    if before != after:
        return [f"{prefix}: {json.dumps(before)} -> {json.dumps(after)}"]
    return []


def planned_changes(plan: Mapping[str, Any]) -> tuple[PlannedChange, ...]:
    """Every resource or output a saved plan would change, with the attributes that change."""
    changes: list[PlannedChange] = []
    for resource in plan.get("resource_changes", []):
        change = resource["change"]
        actions = tuple(change["actions"])
        if actions in {("no-op",), ("read",)}:
            continue
        attributes = changed_attributes(change.get("before"), change.get("after"),
                                        change.get("after_unknown"))
        replace = [f"forces replacement: {'.'.join(map(str, path))}"
                   for path in change.get("replace_paths", [])]
        changes.append(PlannedChange(resource["address"], actions, tuple(attributes + replace)))
    for name, change in plan.get("output_changes", {}).items():
        if tuple(change["actions"]) != ("no-op",):
            changes.append(PlannedChange(f"output.{name}", tuple(change["actions"]),
                                         tuple(changed_attributes(change.get("before"), change.get("after"),
                                                                  change.get("after_unknown")))))
    return tuple(changes)


@dataclass
class LocalDeployment:
    """Terraform on every synthesized stack, pointed at one emulator endpoint."""

    outdir: Path
    endpoint: str
    region: str
    log_dir: Path
    workers: int = 2
    say: Say = say_now
    command_timeout: float | None = None
    """Seconds one terraform command may take (None: no limit); the tests set one."""
    env: dict[str, str] = field(init=False)
    initialized: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cli_config = write_cli_config(self.log_dir)
        self.env = emulator_environment(endpoint=self.endpoint, region=self.region, cli_config=cli_config)

    # one stack

    def stack_dir(self, stack_id: str) -> Path:
        return self.outdir / "stacks" / stack_id

    def log(self, stack_id: str) -> Path:
        return self.log_dir / f"{stack_id}.log"

    def terraform(self, stack_id: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            return run_terraform(self.stack_dir(stack_id), *args, env=self.env, check=check,
                                 log=self.log(stack_id), timeout=self.command_timeout)
        except RuntimeError as error:
            if STATE_LOCK_ERROR in str(error):
                raise RuntimeError(f"{error}\n\nstack {stack_id} is locked. If no other deploy-local is "
                                   f"running, an interrupted run left the lock: clear it with {UNLOCK_COMMAND}, "
                                   "then run the command again") from None
            raise

    def init(self, stack_id: str) -> None:
        # The backend comes from the synthesized JSON: no -backend-config flags.
        if stack_id not in self.initialized:
            self.terraform(stack_id, "init", "-input=false", "-no-color")
            self.initialized.add(stack_id)

    def apply(self, stack_id: str) -> None:
        self.init(stack_id)
        self.terraform(stack_id, "apply", "-auto-approve", "-input=false", "-no-color")

    def plan(self, stack_id: str) -> PlanResult:
        self.init(stack_id)
        plan_file = self.log_dir / f"{stack_id}.tfplan"
        result = self.terraform(stack_id, "plan", "-detailed-exitcode", "-input=false", "-no-color",
                                f"-out={plan_file}", check=False)
        if result.returncode == 1:
            raise RuntimeError(f"terraform plan failed for stack {stack_id}:\n"
                               + "\n".join((result.stdout + result.stderr).splitlines()[-30:]))
        if result.returncode == 0:
            return PlanResult(0)
        shown = self.terraform(stack_id, "show", "-json", "-no-color", str(plan_file))
        return PlanResult(result.returncode, planned_changes(json.loads(shown.stdout)))

    def outputs(self, stack_id: str) -> dict[str, Any]:
        self.init(stack_id)
        return json.loads(self.terraform(stack_id, "output", "-json", "-no-color").stdout or "{}")

    def protected_addresses(self, stack_id: str) -> list[str]:
        """Resources the configuration marks `prevent_destroy` and the state holds."""
        marked = [
            f"{resource_type}.{name}"
            for resource_type, resources in stack_json(self.outdir, stack_id).get("resource", {}).items()
            for name, config in resources.items()
            if config.get("lifecycle", {}).get("prevent_destroy")
        ]
        in_state = self.terraform(stack_id, "state", "list", "-no-color", check=False).stdout.split()
        return [address for address in in_state if address.split("[")[0] in marked]

    def destroy(self, stack_id: str) -> list[str]:
        """Destroy one stack; return what was deleted outside terraform (prevent_destroy)."""
        self.init(stack_id)
        protected = self.protected_addresses(stack_id)
        removed: list[tuple[str, dict[str, Any]]] = []
        if protected:
            # Their names (bucket, table) come from the state, before it forgets them.
            shown = json.loads(self.terraform(stack_id, "show", "-json", "-no-color").stdout)
            values_by_address = {resource["address"]: resource["values"]
                                 for resource in shown["values"]["root_module"]["resources"]}
            removed = [(address, values_by_address[address]) for address in protected]
            self.terraform(stack_id, "state", "rm", "-no-color", *protected)
        self.terraform(stack_id, "destroy", "-auto-approve", "-input=false", "-no-color")
        for address, values in removed:
            delete_protected_resource(address, values, endpoint=self.endpoint, region=self.region)
        return [address for address, _ in removed]

    # every stack

    def dependencies(self) -> dict[str, set[str]]:
        return stack_dependencies(self.outdir)

    def apply_all(self) -> list[StackResult]:
        return run_in_order(self.dependencies(), self.apply, workers=self.workers, say=self.say, verb="ok")

    def plan_all(self) -> list[StackResult]:
        # Plans only read: no ordering needed, but the same runner gives progress and timing.
        independent = {stack_id: set() for stack_id in self.dependencies()}
        return run_in_order(independent, self.plan, workers=self.workers, say=self.say, verb="planned")

    def destroy_all(self) -> list[StackResult]:
        return run_in_order(reverse_dependencies(self.dependencies()), self.destroy,
                            workers=self.workers, say=self.say, verb="destroyed")

    def print_outputs(self) -> dict[str, dict[str, Any]]:
        order = dependency_order(self.dependencies())
        # `terraform output` only reads state: the stacks' reads overlap, printed in order after.
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            read = dict(zip(order, pool.map(self.outputs, order), strict=True))
        every: dict[str, dict[str, Any]] = {}
        for stack_id in order:
            # cdktf's cross-stack plumbing outputs are for remote state, not for people.
            outputs = {name: output for name, output in read[stack_id].items()
                       if not name.startswith(CROSS_STACK_OUTPUT_PREFIX)}
            every[stack_id] = outputs
            self.say(f"{stack_id}:" + ("" if outputs else " (no outputs)"))
            for name, output in sorted(outputs.items()):
                value = "(sensitive)" if output.get("sensitive") else json.dumps(output.get("value"))
                self.say(f"  {name} = {value}")
        return every


def delete_protected_resource(address: str, values: Mapping[str, Any], *, endpoint: str, region: str) -> None:
    """Delete, on the emulator, a `prevent_destroy` resource taken out of state."""
    resource_type = address.split(".")[0]
    if resource_type == "aws_s3_bucket":
        s3 = boto_client("s3", endpoint=endpoint, region=region)
        bucket = values["bucket"]
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            versions = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if versions:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": versions, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    elif resource_type == "aws_dynamodb_table":
        dynamodb = boto_client("dynamodb", endpoint=endpoint, region=region)
        dynamodb.update_table(TableName=values["name"], DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=values["name"])
    else:
        raise NotImplementedError(
            f"{address} is prevent_destroy and the local destroy does not know how to delete a "
            f"{resource_type}: add it to scripts/deploy_local.py delete_protected_resource")


# --- the emulator this command manages ------------------------------------------------


@dataclass(frozen=True)
class EmulatorRecord:
    endpoint: str
    pid: int | None  # None: given by the user, not ours to stop
    log: str = ""

    def save(self) -> None:
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @staticmethod
    def load() -> EmulatorRecord | None:
        if not STATE_FILE.is_file():
            return None
        try:
            return EmulatorRecord(**json.loads(STATE_FILE.read_text()))
        except (ValueError, TypeError) as error:
            raise LocalStateError(
                f"{STATE_FILE} is not an emulator record ({type(error).__name__}: {error}); it was probably "
                "cut short. If an emulator from an earlier deploy-local still runs (python -m scripts.emulator), "
                "stop it by its pid; then delete the file and run the command again") from None

    @property
    def running(self) -> bool:
        """Ours (started by deploy-local) and still alive on its port."""
        return bool(self.pid) and emulator_module.is_emulator_process(self.pid) \
            and emulator_module.is_listening(port_of(self.endpoint))  # type: ignore[arg-type]


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1].rstrip("/"))


def ensure_emulator(*, port: int, endpoint: str | None, say: Say) -> EmulatorRecord:
    """The emulator to deploy to: given, already running (ours), or started now.

    A recorded emulator of ours that still runs is reused; asking for another port or
    endpoint while it runs is refused, since replacing its record would orphan it.
    """
    known = EmulatorRecord.load()
    if known is not None and known.running:
        wanted = endpoint.rstrip("/") if endpoint else (emulator_module.endpoint_url(port) if port else None)
        if wanted not in (None, known.endpoint):
            raise LocalStateError(
                f"an emulator started by deploy-local runs at {known.endpoint} (pid {known.pid}, recorded in "
                f"{STATE_FILE}): tear it down first with make destroy-local, or drop --port/--endpoint-url "
                "to deploy to it again")
        say(f"emulator: reusing {known.endpoint} (pid {known.pid})")
        return known
    if endpoint:
        record = EmulatorRecord(endpoint=endpoint.rstrip("/"), pid=None)
        say(f"emulator: using {record.endpoint} (given; left running)")
    else:
        started = emulator_module.launch_process(log_path=LOCAL_DIR / "emulator.log", port=port)
        record = EmulatorRecord(endpoint=started.url, pid=started.pid, log=str(started.log_path))
        say(f"emulator: started {record.endpoint} (pid {record.pid}, log {record.log})")
    record.save()
    return record


def repo_has_adoption_files() -> bool:
    return any((REPO_ROOT / "adoption").glob("*/*.json"))


def default_outdir() -> Path:
    return OUTDIR_WITHOUT_ADOPTION if repo_has_adoption_files() else DEFAULT_OUTDIR


def synthesized_environment(outdir: Path) -> str | None:
    """The environment a cdktf.out was synthesized for (00-bootstrap's `Environment` tag)."""
    try:
        (provider,) = stack_json(outdir, BOOTSTRAP_STACK_ID)["provider"]["aws"]
        return str(provider["default_tags"][0]["tags"]["Environment"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def check_synthesized_for(outdir: Path, environment: str) -> None:
    found = synthesized_environment(outdir)
    if found != environment:
        raise LocalStateError(
            f"{outdir} holds {found or 'no synthesized'} stacks but the selected environment is {environment} "
            f"($LGTM_ENVIRONMENT / cdktf.json context): synthesize again (make synth, or deploy without "
            f"--no-synth), or select {found}")


def synthesize(outdir: Path, *, environment: str, say: Say) -> None:
    from components.shared.adoption import ADOPTION_DIR_VARIABLE

    if outdir == DEFAULT_OUTDIR and not repo_has_adoption_files() and synth_is_fresh(outdir) \
            and synthesized_environment(outdir) == environment:
        say(f"synth: cdktf.out ({environment}) is newer than the sources, reused")
        return
    started = time.monotonic()
    NO_ADOPTION_DIR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDKTF_OUTDIR": str(outdir),
           ADOPTION_DIR_VARIABLE: str(NO_ADOPTION_DIR)}
    result = subprocess.run([sys.executable, "main.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"synth failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    say(f"synth: {', '.join(sorted(read_manifest(outdir)['stacks']))} ({time.monotonic() - started:.1f} s)")


def create_bootstrap_bucket(*, endpoint: str, region: str, bucket: str, say: Say) -> None:
    from scripts.bootstrap_bucket import ensure_bootstrap_bucket

    ensure_bootstrap_bucket(boto_client("s3", endpoint=endpoint, region=region), bucket, region,
                            say=lambda line: say(f"bootstrap bucket: {line.strip()}"))


def load_selected_config() -> Any:
    """The config `main.py` synthesizes: $LGTM_ENVIRONMENT or cdktf.json's context, default prod."""
    from config.common import load_config, project_context_environment, selected_environment

    return load_config(selected_environment(project_context_environment()))


@dataclass(frozen=True)
class StateLock:
    path: str
    """`<bucket>/<key>` of the locked state (the lock table's LockID)."""
    info: str
    """Terraform's lock info (ID, Operation, Who, Created), as stored."""

    def describe(self) -> str:
        try:
            info = json.loads(self.info)
        except ValueError:
            return self.path
        return f"{self.path} ({info.get('Operation', '?')} by {info.get('Who', '?')} since {info.get('Created', '?')})"


def state_locks(*, endpoint: str, region: str, table: str) -> list[StateLock]:
    """Locks held in the emulator's lock table (its `-md5` digest items are not locks)."""
    dynamodb = boto_client("dynamodb", endpoint=endpoint, region=region)
    locks: list[StateLock] = []
    try:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            locks.extend(StateLock(item["LockID"]["S"], item["Info"]["S"])
                         for item in page.get("Items", []) if "Info" in item)
    except dynamodb.exceptions.ResourceNotFoundException:
        return []  # 00-bootstrap has not made the table yet: nothing can be locked
    return sorted(locks, key=lambda lock: lock.path)


def check_no_state_locks(config: Any, *, endpoint: str) -> None:
    locks = state_locks(endpoint=endpoint, region=config.aws_region, table=config.state.lock_table)
    if locks:
        raise LocalStateError(
            f"{len(locks)} state lock(s) held in {config.state.lock_table}: "
            + "; ".join(lock.describe() for lock in locks)
            + f". If no terraform is running against {endpoint}, an interrupted run left them: clear them with "
            f"{UNLOCK_COMMAND}, then deploy again")


# --- commands -------------------------------------------------------------------------


def deploy(*, port: int = 0, endpoint: str | None = None, outdir: Path | None = None,
           workers: int = 2, synth: bool = True, say: Say = say_now) -> LocalDeployment:
    began = time.monotonic()
    outdir = outdir or default_outdir()
    config = load_selected_config()
    # Synth first: a config that fails to synthesize must not leave an emulator running.
    if synth:
        synthesize(outdir, environment=config.environment, say=say)
    check_synthesized_for(outdir, config.environment)
    record = ensure_emulator(port=port, endpoint=endpoint, say=say)
    check_no_state_locks(config, endpoint=record.endpoint)
    create_bootstrap_bucket(endpoint=record.endpoint, region=config.aws_region,
                            bucket=config.state.bootstrap_bucket, say=say)
    for old_log in (LOCAL_DIR / "logs").glob("*.log"):
        old_log.unlink()  # each deploy's logs start empty (destroy and plan append to them)
    deployment = LocalDeployment(outdir=outdir, endpoint=record.endpoint, region=config.aws_region,
                                 log_dir=LOCAL_DIR / "logs", workers=workers, say=say)
    results = deployment.apply_all()
    say(f"applied {len(results)} stacks {timeline(results).describe()}; logs: {deployment.log_dir}")
    deployment.print_outputs()
    say(f"deploy: {time.monotonic() - began:.1f} s end to end (synth, emulator, bootstrap bucket, apply, outputs)")
    say(f"emulator: {record.endpoint}   tear down with: make destroy-local")
    return deployment


def plan(*, outdir: Path | None = None, workers: int = 2, say: Say = say_now) -> bool:
    outdir = outdir or default_outdir()
    record = EmulatorRecord.load()
    if record is None:
        raise SystemExit("no local deployment recorded in .local/emulator.json: run make deploy-local")
    config = load_selected_config()
    check_synthesized_for(outdir, config.environment)
    deployment = LocalDeployment(outdir=outdir, endpoint=record.endpoint, region=config.aws_region,
                                 log_dir=LOCAL_DIR / "logs", workers=workers, say=say)
    clean = True
    results = deployment.plan_all()
    say(f"planned {len(results)} stacks {timeline(results).describe()}")
    for result in results:
        for change in result.value.changes:
            clean = False
            say(f"  {result.stack_id}: {change.describe()}")
    say("no changes in any stack" if clean else "changes planned (see above)")
    return clean


def destroy(*, outdir: Path | None = None, workers: int = 2, say: Say = say_now) -> None:
    outdir = outdir or default_outdir()
    record = EmulatorRecord.load()
    if record is None:
        say("nothing to destroy: no local deployment recorded in .local/emulator.json")
        return
    if not emulator_module.is_listening(port_of(record.endpoint)):
        say(f"the emulator at {record.endpoint} is gone (its state with it): nothing to destroy")
    else:
        config = load_selected_config()
        check_synthesized_for(outdir, config.environment)
        deployment = LocalDeployment(outdir=outdir, endpoint=record.endpoint, region=config.aws_region,
                                     log_dir=LOCAL_DIR / "logs", workers=workers, say=say)
        results = deployment.destroy_all()
        for result in results:
            for address in result.value:
                say(f"  {result.stack_id}: {address} is prevent_destroy: removed from state, "
                    "deleted on the emulator")
        say(f"destroyed {len(results)} stacks {timeline(results).describe()}")
    if record.pid is not None:
        if emulator_module.stop_emulator_process(record.pid):
            say(f"emulator: stopped (pid {record.pid})")
    else:
        say(f"emulator: {record.endpoint} was given, left running")
    STATE_FILE.unlink(missing_ok=True)


def unlock(*, say: Say = say_now) -> int:
    """Delete every state lock on the recorded emulator (and S3 lock files); return how many."""
    record = EmulatorRecord.load()
    if record is None or not emulator_module.is_listening(port_of(record.endpoint)):
        say("nothing to unlock: no running local emulator recorded in .local/emulator.json")
        return 0
    config = load_selected_config()
    table = config.state.lock_table
    dynamodb = boto_client("dynamodb", endpoint=record.endpoint, region=config.aws_region)
    locks = state_locks(endpoint=record.endpoint, region=config.aws_region, table=table)
    for lock in locks:
        # Only the lock as it was read: a lock taken since then belongs to a live run.
        dynamodb.delete_item(TableName=table, Key={"LockID": {"S": lock.path}},
                             ConditionExpression="Info = :info",
                             ExpressionAttributeValues={":info": {"S": lock.info}})
        say(f"unlocked {lock.describe()}")
    removed = len(locks) + delete_lock_files(config, endpoint=record.endpoint)
    say(f"{removed} lock(s) removed" if removed else "no state locks held")
    return removed


def delete_lock_files(config: Any, *, endpoint: str) -> int:
    """S3-native lock files (`state.use_lockfile`): `<key>.tflock` in the state buckets."""
    s3 = boto_client("s3", endpoint=endpoint, region=config.aws_region)
    removed = 0
    for bucket in (config.state.bootstrap_bucket, config.state.state_bucket):
        try:
            pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))
        except s3.exceptions.NoSuchBucket:
            continue
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith(".tflock"):
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
                    removed += 1
    return removed


def port_from_environment(parser: argparse.ArgumentParser) -> int:
    """$LGTM_EMULATOR_PORT, read only when deploying (a bad value must not break --help)."""
    value = os.environ.get(PORT_VARIABLE, "0") or "0"
    try:
        return emulator_module.port_number(value)
    except argparse.ArgumentTypeError as error:
        parser.error(f"${PORT_VARIABLE}: {error}")
    raise AssertionError("unreachable")  # parser.error exits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deploy every stack to the local AWS emulator")
    commands = parser.add_subparsers(dest="command", required=True)
    deploy_parser = commands.add_parser("deploy", help="start the emulator (if needed) and apply every stack")
    deploy_parser.add_argument("--port", type=emulator_module.port_number, default=None,
                               help=f"emulator port (default: ${PORT_VARIABLE}, else a free one)")
    deploy_parser.add_argument("--endpoint-url", default=os.environ.get("LGTM_EMULATOR_URL"),
                               help="use this running emulator instead of starting one")
    deploy_parser.add_argument("--no-synth", action="store_true", help="use cdktf.out as it is")
    for sub in (deploy_parser, commands.add_parser("plan", help="plan every stack, report changes"),
                commands.add_parser("destroy", help="destroy every stack, stop the emulator")):
        sub.add_argument("--workers", type=int, default=2, help="stacks run in parallel (default 2)")
    commands.add_parser("unlock", help="delete the state locks an interrupted run left on the emulator")
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy":
            port = args.port if args.port is not None else port_from_environment(deploy_parser)
            deploy(port=port, endpoint=args.endpoint_url, workers=args.workers, synth=not args.no_synth)
        elif args.command == "plan":
            return 0 if plan(workers=args.workers) else 2
        elif args.command == "unlock":
            unlock()
        else:
            destroy(workers=args.workers)
    except KeyboardInterrupt:
        print(f"\nINTERRUPTED: a terraform run may have left a state lock; the next deploy names it and "
              f"{UNLOCK_COMMAND} clears it", file=sys.stderr)
        return 130
    except (RuntimeError, NotImplementedError, ValueError, FileNotFoundError, BotoCoreError, ClientError) as error:
        print(f"\nFAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
