"""End to end on the local AWS emulator: apply, no drift, state layout, locking, destroy.

The very JSON prod uses (the session's synthesized app) is applied with the real AWS
provider through the real S3 backend and DynamoDB locking; terraform reaches the
emulator through its environment alone. One apply, one plan, one destroy per run:
the provider's fixed waits (2 x 30 s per ALB, 55 s per S3 lifecycle configuration, 10 s per
VPC attribute and ECS cluster change: docs/benchmarks.md) make each full pass take minutes.

The tests run in file order and share one deployment (module-scoped fixtures); the
emulator is started fresh for this module and stopped in the fixture's teardown,
also when a test fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from components.shared.adoption import ADOPTION_DIR_VARIABLE
from config.common import Config
from scripts import emulator_inventory
from scripts.deploy_local import (
    BOOTSTRAP_STACK_ID,
    LocalDeployment,
    StackResult,
    boto_client,
    create_bootstrap_bucket,
    stack_json,
    timeline,
)
from scripts.emulator import EmulatorProcess, is_listening, launch_process
from scripts.plan_summary import terraform_plan_line
from scripts.scan import plans_to_json, scan_plans
from scripts.terraform_cli import terraform_binary
from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent
# A stuck terraform (e.g. the provider retrying an emulator error) fails the run instead of hanging CI.
COMMAND_TIMEOUT_SECONDS = 420.0
TIMINGS: dict[str, float] = {}
DEPLOY_ALL = "cdktf deploy '*'"


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print through pytest's capture so measured times show in CI's output."""
    with capsys.disabled():
        print(f"\n[e2e] {line}", flush=True)


@dataclass
class Run:
    """What the steps share: the deployment, the config, and results of earlier steps."""

    deployment: LocalDeployment
    config: Config
    emulator: EmulatorProcess
    baseline: dict[str, set[str]]
    applied: list[StackResult] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto_client(service, endpoint=self.emulator.url, region=self.config.aws_region)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    process = launch_process(log_path=log_path)
    try:
        yield process
    finally:
        process.stop()
        assert not is_listening(process.port), f"the emulator still listens on {process.url} after stop"


@pytest.fixture(scope="module")
def run(prod: SynthesizedApp, emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Run:
    # A copy: terraform's .terraform directories stay out of the session's synthesized tree.
    outdir = tmp_path_factory.mktemp("e2e") / "cdktf.out"
    shutil.copytree(prod.outdir, outdir)
    deployment = LocalDeployment(
        outdir=outdir, endpoint=emulator.url, region=prod.config.aws_region,
        log_dir=outdir.parent / "logs", workers=2, say=lambda line: None,
        command_timeout=COMMAND_TIMEOUT_SECONDS)
    run = Run(deployment=deployment, config=prod.config, emulator=emulator, baseline={})
    create_bootstrap_bucket(endpoint=emulator.url, region=prod.config.aws_region,
                            bucket=prod.config.state.bootstrap_bucket, say=lambda line: None)
    run.baseline = emulator_inventory.inventory(run.client)
    return run


def non_bootstrap_stacks(run: Run) -> list[str]:
    return [stack for stack in sorted(run.deployment.dependencies()) if stack != BOOTSTRAP_STACK_ID]


# 1. -----------------------------------------------------------------------------------

def test_1_fresh_emulator_holds_only_the_bootstrap_bucket(run: Run) -> None:
    assert run.emulator.url.startswith("http://127.0.0.1:")
    assert run.baseline["s3 bucket"] == {run.config.state.bootstrap_bucket}
    s3 = run.client("s3")
    bucket = run.config.state.bootstrap_bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert run.baseline["dynamodb table"] == set()


# The user's path: npx cdktf deploy 00-bootstrap, then '*', and diff, same environment. It deploys every stack for real
# (the apply below then finds each done and changes nothing), so this costs no extra full apply.

def no_adoption_dir(outdir: Path) -> Path:
    empty = outdir.parent / "no-adoption"
    empty.mkdir(exist_ok=True)
    return empty


def cdktf(run: Run, *args: str, outdir: Path) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx")
    assert npx, "npx is not on PATH: install Node.js 20 + npm (make install runs npm ci)"
    assert (REPO_ROOT / "node_modules" / ".bin" / "cdktf").exists(), \
        "the cdktf CLI is not installed: run make install (npm ci)"
    assert shutil.which("pipenv"), "pipenv is not on PATH: cdktf.json's app is `pipenv run python main.py`"
    env = {**run.deployment.env, "PIPENV_VENV_IN_PROJECT": "1", "PIPENV_IGNORE_VIRTUALENVS": "1",
           "PIPENV_VERBOSITY": "-1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CI": "1",
           "FORCE_COLOR": "0",
           # cdktf otherwise points TF_PLUGIN_CACHE_DIR at ~/.terraform.d/plugin-cache; with the
           # filesystem mirror the second init then fails ("cannot install existing provider
           # directory ... to itself") and the run writes outside the checkout.
           "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",
           # A fresh deployment: the repo's adoption files import a real account's objects.
           ADOPTION_DIR_VARIABLE: str(no_adoption_dir(outdir))}
    # --skip-provider-lock: after init cdktf runs `terraform providers lock -platform=linux_amd64`,
    # which asks registry.terraform.io for checksums; offline (provider mirror only) that fails.
    return subprocess.run([npx, "--no-install", "cdktf", *args, "--skip-provider-lock", "--output", str(outdir)],
                          cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)


def test_2_user_path_cdktf_deploy_bootstrap_then_every_stack(run: Run, capsys: pytest.CaptureFixture[str],
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """The user's path on a fresh account (only the bootstrap bucket exists): `npx cdktf deploy
    00-bootstrap`, then `npx cdktf deploy '*'`. Two commands, because cdktf 0.21 runs `terraform
    init` of every selected stack, one after another, before it deploys any
    (`initializeStacksToRunInSerial` in @cdktf/cli-core): on a fresh account the second stack's
    init finds no state bucket. Once 00-bootstrap exists, `deploy '*'` orders the whole app by the
    manifest, where every stack depends on 00-bootstrap (components/registry.py)."""
    terraform_binary()  # cdktf runs the terraform on PATH: fail with how to fix it if missing
    outdir = tmp_path_factory.mktemp("cdktf-cli") / "cdktf.out"
    started = time.monotonic()
    deployed = cdktf(run, "deploy", BOOTSTRAP_STACK_ID, "--auto-approve", outdir=outdir)
    TIMINGS["cdktf deploy 00-bootstrap"] = time.monotonic() - started
    assert deployed.returncode == 0, f"npx cdktf deploy failed:\n{deployed.stdout[-3000:]}\n{deployed.stderr[-3000:]}"
    started = time.monotonic()
    deployed = cdktf(run, "deploy", "*", "--auto-approve", "--skip-synth", outdir=outdir)
    TIMINGS[DEPLOY_ALL] = time.monotonic() - started
    assert deployed.returncode == 0, f"npx {DEPLOY_ALL} failed:\n{deployed.stdout[-4000:]}\n{deployed.stderr[-3000:]}"
    # It created what 00-bootstrap owns, on the emulator, through the real S3 backend ...
    assert run.client("dynamodb").describe_table(TableName=run.config.state.lock_table)["Table"]
    run.client("s3").head_bucket(Bucket=run.config.state.state_bucket)
    run.client("s3").head_object(Bucket=run.config.state.bootstrap_bucket, Key=run.config.state.bootstrap_state_key)
    # ... and every other stack's state in the bucket it made.
    for stack_id in non_bootstrap_stacks(run):
        run.client("s3").head_object(Bucket=run.config.state.state_bucket, Key=run.config.state.state_key(stack_id))

    started = time.monotonic()
    diffed = cdktf(run, "diff", BOOTSTRAP_STACK_ID, "--skip-synth", outdir=outdir)
    TIMINGS["cdktf diff 00-bootstrap"] = time.monotonic() - started
    assert diffed.returncode == 0, f"npx cdktf diff failed:\n{diffed.stdout[-3000:]}\n{diffed.stderr[-3000:]}"
    assert "No changes" in diffed.stdout, diffed.stdout[-3000:]
    report(capsys, f"npx cdktf deploy 00-bootstrap: {TIMINGS['cdktf deploy 00-bootstrap']:.1f} s, "
                   f"npx {DEPLOY_ALL}: {TIMINGS[DEPLOY_ALL]:.1f} s, "
                   f"npx cdktf diff: {TIMINGS['cdktf diff 00-bootstrap']:.1f} s")


# 2. -----------------------------------------------------------------------------------

def test_3_apply_every_stack_in_dependency_order(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    run.applied = run.deployment.apply_all()
    TIMINGS["apply"] = time.monotonic() - started

    applied = [result.stack_id for result in run.applied]
    assert sorted(applied) == sorted(run.deployment.dependencies())
    finished = {result.stack_id: result.finished for result in run.applied}
    for result in run.applied:
        # Each stack started only once every stack it needs had finished (stacks that need
        # nothing of each other may overlap: the progress lines show it).
        for needed in run.deployment.dependencies()[result.stack_id]:
            assert result.started >= finished[needed], f"{result.stack_id} started before {needed} finished"
    created = emulator_inventory.difference(run.baseline, emulator_inventory.inventory(run.client))
    # The inventory sees what the stacks made (else "nothing remains" below would prove nothing).
    assert {"s3 bucket", "dynamodb table"} <= set(created), created
    report(capsys, f"apply of {len(applied)} stacks {timeline(run.applied).describe()}: "
                   + ", ".join(f"{r.stack_id} +{r.started:.1f}s → +{r.finished:.1f}s" for r in run.applied))
    report(capsys, "created on the emulator: "
                   + ", ".join(f"{kind} x{len(ids)}" for kind, ids in sorted(created.items())))


# 3. -----------------------------------------------------------------------------------

def test_4_second_plan_of_every_stack_shows_no_changes(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    assert run.applied, "the apply step did not complete"
    started = time.monotonic()
    planned = run.deployment.plan_all()
    TIMINGS["plan"] = time.monotonic() - started
    drift = [f"{result.stack_id}: {change.describe()}" for result in planned for change in result.value.changes]
    exit_codes = {result.stack_id: result.value.exit_code for result in planned}
    report(capsys, f"no-drift plans of {len(planned)} stacks: {TIMINGS['plan']:.1f} s")
    assert not drift, "a second plan wants changes (perpetual diff):\n" + "\n".join(drift)
    assert set(exit_codes.values()) == {0}, exit_codes


def test_4b_checkov_on_plan_json(run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """checkov's terraform_plan framework on `terraform show -json` of each stack's saved plan.

    Plan JSON resolves what the synthesized JSON hides from the terraform_json scan:
    container definitions, policy documents, values read from remote state.
    """
    assert run.applied, "the apply step did not complete"
    saved = sorted(path.stem for path in run.deployment.log_dir.glob("*.tfplan"))
    assert saved == sorted(run.deployment.dependencies()), f"test_4 saved plans for {saved} only"
    plans = plans_to_json(tfplans_dir=run.deployment.log_dir, stacks_dir=run.deployment.outdir / "stacks",
                          output_dir=tmp_path)
    result = scan_plans(plans)
    report(capsys, f"checkov on plan JSON: {result.line()}")
    assert result.passed > 0, "checkov evaluated nothing in the plans"
    assert result.ok, "checkov findings in the plans:\n" + "\n".join(result.findings)


PLAN_USER = "lgtm-plan-role-check"


def set_emulator_auth(run: Run, after_requests: str) -> None:
    """moto's switch: enforce IAM on every request after `after_requests` more ("inf": never)."""
    request = urllib.request.Request(f"{run.emulator.url}/moto-api/reset-auth", data=after_requests.encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only: the emulator's url
        assert response.status == 200


def test_4c_every_stack_plans_with_only_the_plan_roles_policy(run: Run, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The plan role's policy, as 00-bootstrap applied it, is all a plan of every stack needs.

    The emulator enforces IAM for this test only: a user holding just that managed policy inits
    and plans every stack (state read through the S3 backend, lock taken and released in
    DynamoDB, every resource refreshed): no changes. The same user is refused a write to a state
    object and any create. (An IAM user and not the role itself: moto cannot assume a web identity
    role without an OIDC token; the user gets the role's very policy.)
    """
    assert run.applied, "the apply step did not complete"
    iam = run.client("iam")
    github = run.config.github
    (plan_policy,) = [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == github.plan_policy_name]
    attached = iam.list_attached_role_policies(RoleName=github.plan_role_name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [plan_policy["Arn"]], "the plan role holds exactly this policy"
    iam.create_user(UserName=PLAN_USER)
    iam.attach_user_policy(UserName=PLAN_USER, PolicyArn=plan_policy["Arn"])
    key = iam.create_access_key(UserName=PLAN_USER)["AccessKey"]
    planner = LocalDeployment(outdir=run.deployment.outdir, endpoint=run.emulator.url, region=run.config.aws_region,
                              log_dir=tmp_path / "plan-role", workers=2, say=lambda line: None,
                              command_timeout=COMMAND_TIMEOUT_SECONDS)
    planner.env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    planner.initialized = set()
    as_planner = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    state = run.config.state
    set_emulator_auth(run, "0")
    try:
        started = time.monotonic()
        planned = planner.plan_all()
        TIMINGS["plans with the plan role"] = time.monotonic() - started
        refused = []
        for name, call in (
                ("s3:PutObject on a state object", lambda: boto3.client(
                    "s3", endpoint_url=run.emulator.url, region_name=run.config.aws_region, **as_planner).put_object(
                    Bucket=state.state_bucket, Key=state.state_key("10-network"), Body=b"{}")),
                ("ec2:CreateVpc", lambda: boto3.client(
                    "ec2", endpoint_url=run.emulator.url, region_name=run.config.aws_region, **as_planner).create_vpc(
                    CidrBlock="10.99.0.0/16")),
                ("iam:PutRolePolicy on the apply role", lambda: boto3.client(
                    "iam", endpoint_url=run.emulator.url, region_name=run.config.aws_region, **as_planner
                ).put_role_policy(RoleName=github.deploy_role_name, PolicyName="x", PolicyDocument="{}"))):
            try:
                call()
            except botocore.exceptions.ClientError as error:
                if error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
                    refused.append(name)
    finally:
        set_emulator_auth(run, "inf")
        iam.detach_user_policy(UserName=PLAN_USER, PolicyArn=plan_policy["Arn"])
        iam.delete_access_key(UserName=PLAN_USER, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=PLAN_USER)
    exit_codes = {result.stack_id: result.value.exit_code for result in planned}
    report(capsys, f"plans of {len(planned)} stacks with only the plan role's policy: "
                   f"{TIMINGS['plans with the plan role']:.1f} s, exit codes {exit_codes}")
    for stack_id in sorted(exit_codes):
        report(capsys, f"  {stack_id} (plan role): {terraform_plan_line(planner.log(stack_id).read_text())}")
    assert sorted(exit_codes) == sorted(run.deployment.dependencies())
    assert set(exit_codes.values()) == {0}, exit_codes
    assert refused == ["s3:PutObject on a state object", "ec2:CreateVpc", "iam:PutRolePolicy on the apply role"]
    locks = [item["LockID"]["S"] for item in run.client("dynamodb").scan(TableName=state.lock_table)["Items"]
             if not item["LockID"]["S"].endswith("-md5")]
    assert locks == [], f"a plan left its lock behind: {locks}"


# 4. -----------------------------------------------------------------------------------

def test_5_state_layout_and_lock_digests(run: Run) -> None:
    assert run.applied, "the apply step did not complete"
    state = run.config.state
    s3, dynamodb = run.client("s3"), run.client("dynamodb")

    bootstrap_keys = {o["Key"] for o in s3.list_objects_v2(Bucket=state.bootstrap_bucket).get("Contents", [])}
    assert bootstrap_keys == {"bootstrap/terraform.tfstate"}

    expected_keys = {state.state_key(stack) for stack in non_bootstrap_stacks(run)}
    assert expected_keys == {f"lgtm-ecs/prod/{stack}/terraform.tfstate" for stack in non_bootstrap_stacks(run)}
    state_keys = {o["Key"] for o in s3.list_objects_v2(Bucket=state.state_bucket).get("Contents", [])}
    assert state_keys == expected_keys

    items = {item["LockID"]["S"]: item for item in dynamodb.scan(TableName=state.lock_table)["Items"]}
    # Terraform keeps one digest item per state (<bucket>/<key>-md5) and no lock is left behind.
    assert set(items) == {f"{state.state_bucket}/{key}-md5" for key in expected_keys}
    for key in expected_keys:
        body = s3.get_object(Bucket=state.state_bucket, Key=key)["Body"].read()
        assert items[f"{state.state_bucket}/{key}-md5"]["Digest"]["S"] == hashlib.md5(body).hexdigest(), key
        assert json.loads(body)["resources"], f"{key} holds no resources"


# 5. -----------------------------------------------------------------------------------

def test_6_a_held_lock_stops_a_second_plan(run: Run) -> None:
    assert run.applied, "the apply step did not complete"
    stack_id = non_bootstrap_stacks(run)[0]
    state = run.config.state
    lock_id = f"{state.state_bucket}/{state.state_key(stack_id)}"
    dynamodb = run.client("dynamodb")
    stack_dir = run.deployment.stack_dir(stack_id)

    # `terraform console` holds the state lock for as long as it runs (until stdin closes).
    holder = subprocess.Popen([terraform_binary(), f"-chdir={stack_dir}", "console"], env=run.deployment.env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        lock_item = None
        while lock_item is None and time.monotonic() < deadline and holder.poll() is None:
            lock_item = dynamodb.get_item(TableName=state.lock_table, Key={"LockID": {"S": lock_id}}).get("Item")
            time.sleep(0.2)
        assert lock_item is not None, f"terraform console took no lock on {lock_id} (exit {holder.poll()})"
        assert json.loads(lock_item["Info"]["S"])["Path"] == lock_id

        second = run.deployment.terraform(stack_id, "plan", "-lock-timeout=1s", "-input=false", "-no-color",
                                          check=False)
        output = second.stdout + second.stderr
        assert second.returncode == 1, output[-2000:]
        assert "Error acquiring the state lock" in output, output[-2000:]
        assert json.loads(lock_item["Info"]["S"])["ID"] in output, "the error names the lock holder"
    finally:
        holder.communicate(input="", timeout=60)  # EOF: console exits and releases the lock
    assert dynamodb.get_item(TableName=state.lock_table, Key={"LockID": {"S": lock_id}}).get("Item") is None


# 6. -----------------------------------------------------------------------------------

def test_7_destroy_in_reverse_order_leaves_nothing(run: Run, prod: SynthesizedApp,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run.applied, "the apply step did not complete"
    started = time.monotonic()
    destroyed = run.deployment.destroy_all()
    TIMINGS["destroy"] = time.monotonic() - started
    report(capsys, f"destroy of {len(destroyed)} stacks: {TIMINGS['destroy']:.1f} s")

    order = [result.stack_id for result in destroyed]
    dependencies = run.deployment.dependencies()
    for position, stack_id in enumerate(order):
        dependents = {s for s, needed in dependencies.items() if stack_id in needed}
        assert dependents <= set(order[:position]), f"{stack_id} destroyed before its dependents"
    assert order[-1] == BOOTSTRAP_STACK_ID

    # prevent_destroy: the state bucket and lock table left terraform's state and were deleted
    # on the emulator; the synthesized configuration still protects both.
    handled = {result.stack_id: result.value for result in destroyed}
    protected = sorted(f"{kind}.{name}" for kind, resources in stack_json(prod.outdir, BOOTSTRAP_STACK_ID)["resource"].items()
                       for name, config in resources.items() if config.get("lifecycle", {}).get("prevent_destroy"))
    assert [address.split(".")[0] for address in protected] == ["aws_dynamodb_table", "aws_s3_bucket"]
    assert sorted(handled[BOOTSTRAP_STACK_ID]) == protected

    leftovers = emulator_inventory.difference(run.baseline, emulator_inventory.inventory(run.client))
    assert leftovers == {}, f"left on the emulator after destroy: {leftovers}"
    report(capsys, "timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items()))
