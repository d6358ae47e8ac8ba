"""Taking over the HCL project's deployment on the emulator: nothing destroyed, addresses kept.

(a) The HCL project's 00-bootstrap (tests/fixtures/legacy_hcl/00-bootstrap), applied with
    its recorded backend flags. This project's 00-bootstrap plans over that very state with
    0 to destroy and 0 to replace, applies, and plans clean (test_11).
(c) The hand-made policy `jsj_github_action_LGTM` exists before: adopt imports it, the
    apply keeps its policy ID, and there is still exactly one.
    The address lock's demonstration: a renamed construct plans a destroy without its
    move and none with it.
(b) Module-style 30-security-groups and 50-alb (`module.alb.aws_lb.this`, target groups
    and listener rules behind `for_each`, the ALB's group inside `modules/alb`), applied,
    adopted, applied with this project, planned clean: every object keeps its ID.
    And the refusal: a legacy 40-iam role this project does not have.

50-alb and the refusal go through `make adopt` itself; 00-bootstrap and 30-security-groups
call the `adopt` it runs in this process, sparing a provider import each.

The tests run in file order and share one emulator, started fresh for this module and
stopped in the fixture's teardown, also when a test fails. Long applies overlap, as most
of an apply is the provider waiting: (b)'s ground (this project's 10-network and
20-storage, the legacy stacks) applies in the background while (a) and (c) run, the
00-bootstrap apply while (b) runs, and the refusal's `make adopt` next to (b)'s adoption.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.shared.adoption import ADOPTION_DIR_VARIABLE, adoption_path
from config.common import Config, load_config
from config.names import BOOTSTRAP_STACK_ID
from scripts import address_lock
from scripts.adopt import Outcome, adopt, synthesize
from scripts.adoption_lookup import boto_clients
from scripts.bootstrap_bucket import ensure_bootstrap_bucket
from scripts.deploy_local import boto_client, emulator_environment
from scripts.emulator import EmulatorProcess, is_listening, launch_process
from scripts.plan_summary import PlanSummary, summarize
from scripts.terraform_cli import run_terraform, write_cli_config
from tests.lock_demo import NEW_ID, OLD_ID, demo_address, rename_move, synth_demo

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "legacy_hcl"
COMMAND_TIMEOUT_SECONDS = 420.0
BOOTSTRAP = BOOTSTRAP_STACK_ID
HAND_MADE_POLICY = "jsj_github_action_LGTM"
DEPLOY_POLICY_ADDRESS = "aws_iam_policy.github-deploy-access_policy-1_DD29A347"
TIMINGS: dict[str, float] = {}


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[e2e adoption] {line}", flush=True)


@dataclass
class Takeover:
    """One emulator, one scratch tree, one adoption directory: what the steps share."""

    config: Config
    emulator: EmulatorProcess
    env: dict[str, str]
    root: Path
    adoption_dir: Path
    outdir: Path | None = None
    synths: int = 0
    initialized: set[Path] = field(default_factory=set)
    legacy_ids: dict[str, str] = field(default_factory=dict)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=3))
    background: Future[None] | None = None
    bootstrap_apply: Future[str] | None = None
    refusal: Future[subprocess.CompletedProcess[str]] | None = None

    def client(self, service: str) -> Any:
        return boto_client(service, endpoint=self.emulator.url, region=self.config.aws_region)

    # this project

    def synth(self) -> None:
        """Synthesize with the adoption files written so far (in-process: the provider is imported once)."""
        self.synths += 1
        outdir = self.root / f"synth-{self.synths}"
        synthesize(self.config, self.adoption_dir, outdir)
        self.outdir = outdir  # only once complete: background applies copy from it

    def terraform(self, directory: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_terraform(directory, *args, env=self.env, check=check, timeout=COMMAND_TIMEOUT_SECONDS,
                             log=self.root / "terraform.log")

    def init(self, directory: Path, *args: str) -> Path:
        if directory not in self.initialized:
            self.terraform(directory, "init", "-input=false", "-no-color", *args)
            self.initialized.add(directory)
        return directory

    def stack_dir(self, stack_id: str) -> Path:
        """A lasting directory per stack (initialized once) holding the latest synthesized JSON."""
        assert self.outdir is not None, "synthesize first"
        directory = self.root / "stacks" / stack_id
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.outdir / "stacks" / stack_id / "cdk.tf.json", directory / "cdk.tf.json")
        return self.init(directory)

    def plan_dir(self, directory: Path, name: str) -> tuple[PlanSummary, dict[str, Any]]:
        planned = self.terraform(directory, "plan", "-input=false", "-no-color", "-out=tfplan")
        shown = json.loads(self.terraform(directory, "show", "-json", "-no-color", "tfplan").stdout)
        return summarize(name, shown, planned.stdout), shown

    def plan(self, stack_id: str) -> tuple[PlanSummary, dict[str, Any]]:
        return self.plan_dir(self.stack_dir(stack_id), stack_id)

    def apply(self, stack_id: str) -> str:
        started = time.monotonic()
        applied = self.terraform(self.stack_dir(stack_id), "apply", "-auto-approve", "-input=false", "-no-color")
        TIMINGS[f"apply {stack_id}"] = time.monotonic() - started
        return [line for line in applied.stdout.splitlines() if line.startswith("Apply complete!")][-1]

    def apply_saved_plan(self, stack_id: str) -> str:
        """`terraform apply tfplan`: exactly the plan the test just checked, as an operator applies it."""
        started = time.monotonic()
        applied = self.terraform(self.root / "stacks" / stack_id, "apply", "-input=false", "-no-color", "tfplan")
        TIMINGS[f"apply {stack_id}"] = time.monotonic() - started
        return [line for line in applied.stdout.splitlines() if line.startswith("Apply complete!")][-1]

    def outputs(self, stack_id: str) -> dict[str, Any]:
        shown = self.terraform(self.stack_dir(stack_id), "output", "-json", "-no-color").stdout
        return {name: output["value"] for name, output in json.loads(shown).items()}

    def state(self, directory: Path) -> dict[str, dict[str, Any]]:
        """Address -> values of every managed resource in a directory's state."""
        shown = json.loads(self.terraform(directory, "show", "-json", "-no-color").stdout)
        modules = [shown.get("values", {}).get("root_module", {})]
        found: dict[str, dict[str, Any]] = {}
        while modules:
            module = modules.pop()
            found.update({r["address"]: r["values"] for r in module.get("resources", []) if r["mode"] == "managed"})
            modules.extend(module.get("child_modules", []))
        return found

    # the HCL project

    def legacy(self, name: str) -> Path:
        """A copy of a legacy fixture (and the modules it calls), initialized with -backend-config flags."""
        directory = self.root / "legacy" / name
        shutil.copytree(FIXTURES / name, directory)
        if (FIXTURES / "modules").is_dir() and not (self.root / "legacy" / "modules").exists():
            shutil.copytree(FIXTURES / "modules", self.root / "legacy" / "modules")
        state = self.config.state
        flags = [f"-backend-config=region={self.config.aws_region}", "-backend-config=encrypt=true"]
        if name == BOOTSTRAP:
            flags.insert(0, f"-backend-config=bucket={state.bootstrap_bucket}")
        else:
            flags += [f"-backend-config=bucket={state.state_bucket}",
                      f"-backend-config=dynamodb_table={state.lock_table}"]
        return self.init(directory, *flags)

    def apply_legacy(self, directory: Path, **variables: Any) -> None:
        started = time.monotonic()
        flags = [f"-var={name}={json.dumps(value) if not isinstance(value, str) else value}"
                 for name, value in variables.items()]
        self.terraform(directory, "apply", "-auto-approve", "-input=false", "-no-color", *flags)
        TIMINGS[f"legacy apply {directory.name}"] = time.monotonic() - started

    # make adopt

    def make_adopt(self, stack_id: str, *args: str, adoption_dir: Path) -> subprocess.CompletedProcess[str]:
        """`make adopt STACK=<id>`, exactly as an operator runs it, against the emulator."""
        started = time.monotonic()
        env = {**self.env, ADOPTION_DIR_VARIABLE: str(adoption_dir)}
        result = subprocess.run(
            ["make", "--no-print-directory", "adopt", f"STACK={stack_id}",
             f"ADOPT_ARGS={' '.join(shlex.quote(a) for a in args)}"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)
        TIMINGS[f"make adopt {stack_id}"] = time.monotonic() - started
        return result

    def adopt(self, stack_id: str, *allow: str) -> tuple[Outcome, list[str]]:
        """The same command in this process (what `make adopt` runs, without a second provider import)."""
        started = time.monotonic()
        lines: list[str] = []
        outcome = adopt(stack_id, environment=self.config.environment, adoption_root=self.adoption_dir,
                        allow_destroy=allow, base_env=self.env,
                        clients=boto_clients(self.env, self.config.aws_region), say=lines.append)
        TIMINGS[f"adopt {stack_id}"] = time.monotonic() - started
        return outcome, lines


def prepare_module_stacks(takeover: Takeover) -> None:
    """(b)'s ground: this project's 10-network, then its 20-storage next to the legacy stacks on that network."""
    takeover.apply("10-network")
    network = takeover.outputs("10-network")
    region = takeover.config.aws_region

    def legacy_stacks() -> None:
        takeover.apply_legacy(takeover.legacy("30-security-groups"), aws_region=region, vpc_id=network["vpc_id"])
        takeover.apply_legacy(takeover.legacy("50-alb"), aws_region=region, vpc_id=network["vpc_id"],
                              public_subnet_ids=network["public_subnet_ids"])
        takeover.apply_legacy(takeover.legacy("40-iam"), aws_region=region)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(takeover.apply, "20-storage"), pool.submit(legacy_stacks)]:
            done.result()


@pytest.fixture(scope="module")
def takeover(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Takeover]:
    root = tmp_path_factory.mktemp("takeover")
    process = launch_process(log_path=root / "emulator.log")
    state: Takeover | None = None
    try:
        config = load_config("prod")
        env = emulator_environment(endpoint=process.url, region=config.aws_region,
                                   cli_config=write_cli_config(root))
        adoption_dir = root / "adoption"
        adoption_dir.mkdir()
        state = Takeover(config=config, emulator=process, env=env, root=root, adoption_dir=adoption_dir)
        yield state
    finally:
        if state is not None:
            # Let a background apply finish against the emulator it runs on, then stop both.
            state.pool.shutdown(wait=True, cancel_futures=True)
        process.stop()
        assert not is_listening(process.port), f"the emulator still listens on {process.url} after stop"


def no_changes(summary: PlanSummary) -> bool:
    return summary.line.startswith("No changes.")


# (a) the HCL bootstrap --------------------------------------------------------------------


def test_1_the_recorded_bootstrap_does_not_plan_without_its_lock_table_attribute(takeover: Takeover) -> None:
    assert takeover.emulator.url.startswith("http://127.0.0.1:")
    # The bootstrap bucket as the HCL project made it: `aws s3 mb`, nothing else.
    takeover.client("s3").create_bucket(Bucket=takeover.config.state.bootstrap_bucket, CreateBucketConfiguration={
        "LocationConstraint": takeover.config.aws_region})
    # main.tf as recorded, without the override file that adds the attribute.
    directory = takeover.root / "legacy" / "recorded-00-bootstrap"
    directory.mkdir(parents=True)
    for name in ("main.tf", "variables.tf", "common.tfvars"):
        shutil.copyfile(FIXTURES / BOOTSTRAP / name, directory / name)
    takeover.init(directory, f"-backend-config=bucket={takeover.config.state.bootstrap_bucket}",
                  f"-backend-config=region={takeover.config.aws_region}", "-backend-config=encrypt=true")
    planned = takeover.terraform(directory, "plan", "-input=false", "-no-color", "-var-file=common.tfvars",
                                 check=False)
    assert planned.returncode == 1, planned.stdout[-2000:]
    assert 'Unmatched indexes: ["LockID"]' in planned.stdout + planned.stderr


def test_2_the_hcl_bootstrap_applies_with_its_recorded_backend_flags(takeover: Takeover) -> None:
    directory = takeover.legacy(BOOTSTRAP)
    takeover.apply_legacy(directory, state_bucket=takeover.config.state.state_bucket,
                          state_lock_table=takeover.config.state.lock_table)
    assert set(takeover.state(directory)) == {"aws_s3_bucket.terraform_state", "aws_dynamodb_table.terraform_lock"}
    keys = [o["Key"] for o in takeover.client("s3").list_objects_v2(
        Bucket=takeover.config.state.bootstrap_bucket)["Contents"]]
    assert keys == [takeover.config.state.bootstrap_state_key]
    # Migration step 1: `make bootstrap-bucket` on the hand-made bucket turns versioning on.
    changed = ensure_bootstrap_bucket(takeover.client("s3"), takeover.config.state.bootstrap_bucket,
                                      takeover.config.aws_region, say=lambda line: None)
    assert changed == ["versioning"]
    # ... and the policy made by hand in the console.
    policy = takeover.client("iam").create_policy(PolicyName=HAND_MADE_POLICY, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    takeover.legacy_ids["policy"] = policy["Policy"]["PolicyId"]
    takeover.legacy_ids["policy_arn"] = policy["Policy"]["Arn"]
    takeover.legacy_ids["table"] = str(takeover.client("dynamodb").describe_table(
        TableName=takeover.config.state.lock_table)["Table"]["CreationDateTime"])


def test_3_a_this_projects_bootstrap_plans_no_destroy_over_the_hcl_state(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    takeover.synth()
    # The state bucket and lock table exist (the HCL project made them): (b)'s ground can start.
    takeover.background = takeover.pool.submit(prepare_module_stacks, takeover)
    summary, shown = takeover.plan(BOOTSTRAP)
    report(capsys, f"(a) 00-bootstrap over the HCL state, no adoption file: {summary.line}")
    assert (summary.destroy, summary.replace) == (0, 0), [d.describe() for d in summary.destroyed]
    kept = {c["address"]: c["change"]["actions"] for c in shown["resource_changes"]}
    assert kept["aws_s3_bucket.terraform_state"] == ["update"]
    assert kept["aws_dynamodb_table.terraform_lock"] == ["update"]
    # What would still fail on AWS: the hand-made policy would be created again (EntityAlreadyExists).
    created = [c["change"]["after"]["name"] for c in shown["resource_changes"]
               if c["type"] == "aws_iam_policy" and c["change"]["actions"] == ["create"]]
    assert HAND_MADE_POLICY in created


def test_4_c_adopt_imports_the_hand_made_policy(takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    outcome, lines = takeover.adopt(BOOTSTRAP)
    assert outcome.written, "\n".join(lines)
    plan = outcome.plans[BOOTSTRAP]
    report(capsys, f"(c) adopt 00-bootstrap ({TIMINGS['adopt 00-bootstrap']:.0f} s): {plan.line}")
    table = "\n".join(lines)
    assert "matched (kept)  aws_s3_bucket.terraform_state" in table
    assert "matched (kept)  aws_dynamodb_table.terraform_lock" in table
    assert (plan.destroy, plan.replace, plan.imports) == (0, 0, 1)
    document = json.loads(adoption_path(takeover.adoption_dir, "prod", BOOTSTRAP).read_text())
    assert [(i["to"], i["id"]) for i in document["import"]] == [(DEPLOY_POLICY_ADDRESS, takeover.legacy_ids["policy_arn"])]
    assert document["moved"] == [] and document["removed"] == [] and document["unmatched"] == []


def test_5_ac_the_bootstrap_plan_imports_the_policy_and_destroys_nothing(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    takeover.synth()
    summary, shown = takeover.plan(BOOTSTRAP)
    report(capsys, f"(a)+(c) 00-bootstrap with the adoption file: {summary.line}")
    assert (summary.destroy, summary.replace, summary.imports) == (0, 0, 1)
    imported = [c["address"] for c in shown["resource_changes"] if c["change"].get("importing")]
    assert imported == [DEPLOY_POLICY_ADDRESS]
    # The apply (a minute of the provider waiting on the lifecycle rule) runs while the rest goes
    # on; test_11 checks it.
    takeover.bootstrap_apply = takeover.pool.submit(takeover.apply_saved_plan, BOOTSTRAP)


# The address lock on terraform ---------------------------------------------------------------


def test_6_a_renamed_construct_destroys_without_its_move_and_not_with_it(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    directory = takeover.root / "lock-demo"
    directory.mkdir()

    def write(stack_json: dict[str, Any]) -> None:
        (directory / "cdk.tf.json").write_text(json.dumps(stack_json))

    old = synth_demo(OLD_ID)
    write(old)
    takeover.init(directory)
    takeover.terraform(directory, "apply", "-auto-approve", "-input=false", "-no-color")
    group_name = old["resource"]["aws_cloudwatch_log_group"][OLD_ID]["name"]
    created = takeover.client("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"][0]

    renamed = synth_demo(NEW_ID)
    lock = address_lock.vanished("prod", {"demo": address_lock.stack_addresses(old)},
                                 {"demo": address_lock.stack_addresses(renamed)}, {})
    assert [v.address for v in lock] == [demo_address(OLD_ID)]
    write(renamed)
    without_move, _ = takeover.plan_dir(directory, "demo")
    assert [d.address for d in without_move.destroyed] == [demo_address(OLD_ID)]

    with_move = synth_demo(NEW_ID, moves=[rename_move()])
    assert address_lock.vanished("prod", {"demo": address_lock.stack_addresses(old)},
                                 {"demo": address_lock.stack_addresses(with_move)}, {}) == []
    write(with_move)
    moved, _ = takeover.plan_dir(directory, "demo")
    report(capsys, f"lock demo: renamed without the move: {without_move.line} | with it: {moved.line}")
    assert (moved.destroy, moved.moves) == (0, 1)
    takeover.terraform(directory, "apply", "-auto-approve", "-input=false", "-no-color")
    again, _ = takeover.plan_dir(directory, "demo")
    assert no_changes(again)
    after = takeover.client("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert [g["creationTime"] for g in after] == [created["creationTime"]], "the same log group"


# (b) module-style 30-security-groups and 50-alb ----------------------------------------------


def test_7_b_the_hcl_module_stacks_run_on_this_projects_network(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    """10-network and 20-storage come from this project (adopted before, as the order says);
    the HCL project's 30-security-groups, 50-alb and 40-iam are applied on that network."""
    assert takeover.background is not None, "test_3 starts the background applies"
    started = time.monotonic()
    takeover.background.result()
    TIMINGS["waited for the background"] = time.monotonic() - started
    alb = takeover.state(takeover.root / "legacy" / "50-alb")
    assert {'module.alb.aws_lb_target_group.this["grafana"]', 'module.alb.aws_lb_listener_rule.this["mimir"]',
            "module.alb.aws_lb.this", "module.alb.aws_security_group.alb"} <= set(alb)
    takeover.legacy_ids.update({address: values["id"] for address, values in alb.items()})
    groups = takeover.state(takeover.root / "legacy" / "30-security-groups")
    takeover.legacy_ids.update({address: values["id"] for address, values in groups.items()})
    report(capsys, "(b) applied in the background: " + ", ".join(
        f"{k} {v:.0f} s" for k, v in TIMINGS.items() if "10-" in k or "20-" in k or "legacy apply" in k)
        + f"; waited {TIMINGS['waited for the background']:.0f} s for it")


def test_8_b_adopting_30_moves_the_module_groups_and_imports_the_alb_group(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    # The refusal (test_10) runs `make adopt` meanwhile, on its own copy of the adoption files.
    refusal_dir = takeover.root / "adoption-refusal"
    shutil.copytree(takeover.adoption_dir, refusal_dir)
    takeover.refusal = takeover.pool.submit(takeover.make_adopt, "40-iam", adoption_dir=refusal_dir)
    outcome, lines = takeover.adopt("30-security-groups")
    assert outcome.written, "\n".join(lines)
    moved = {m.legacy.address: m.target.address for m in outcome.adoption.matches if m.kind == "moved"}
    assert moved == {
        "module.ecs_sg.aws_security_group.this": "aws_security_group.ecs-security-group",
        'module.ecs_sg.aws_vpc_security_group_ingress_rule.from_self["grpc"]':
            "aws_vpc_security_group_ingress_rule.ecs-ingress-intra-tcp-9095",
        'module.ecs_sg.aws_vpc_security_group_ingress_rule.from_self["memberlist"]':
            "aws_vpc_security_group_ingress_rule.ecs-ingress-intra-tcp-7946",
        'module.ecs_sg.aws_vpc_security_group_egress_rule.to_cidr["https"]':
            "aws_vpc_security_group_egress_rule.ecs-egress-https",
    }
    # modules/alb made the ALB's group in 50-alb's state: found in AWS by name, imported here.
    assert [(i.address, i.import_id) for i in outcome.adoption.found_in_aws] == [
        ("aws_security_group.alb-security-group", takeover.legacy_ids["module.alb.aws_security_group.alb"])]
    plan = outcome.plans["30-security-groups"]
    report(capsys, f"(b) adopt 30-security-groups ({TIMINGS['adopt 30-security-groups']:.0f} s): {plan.line}")
    assert (plan.destroy, plan.moves, plan.imports) == (0, 4, 1)

    takeover.synth()
    planned, _ = takeover.plan("30-security-groups")
    assert (planned.destroy, planned.replace) == (0, 0)
    takeover.apply_saved_plan("30-security-groups")
    again, _ = takeover.plan("30-security-groups")
    assert no_changes(again), again.counts()
    state = takeover.state(takeover.stack_dir("30-security-groups"))
    assert state["aws_security_group.ecs-security-group"]["id"] == \
        takeover.legacy_ids["module.ecs_sg.aws_security_group.this"]


def test_9_b_make_adopt_50_moves_every_module_resource_and_hands_the_group_over(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    adopted = takeover.make_adopt("50-alb", adoption_dir=takeover.adoption_dir)
    assert adopted.returncode == 0, adopted.stdout[-4000:] + adopted.stderr[-3000:]
    report(capsys, f"(b) make adopt STACK=50-alb ({TIMINGS['make adopt 50-alb']:.0f} s):\n"
           + "\n".join(line for line in adopted.stdout.splitlines() if line.startswith("  ")))
    document = json.loads(adoption_path(takeover.adoption_dir, "prod", "50-alb").read_text())
    assert {m["from"]: m["to"] for m in document["moved"]} == {
        "module.alb.aws_lb.this": "aws_lb.alb",
        'module.alb.aws_lb_target_group.this["grafana"]': "aws_lb_target_group.target-group-grafana",
        'module.alb.aws_lb_target_group.this["mimir"]': "aws_lb_target_group.target-group-mimir",
        "module.alb.aws_lb_listener.http": "aws_lb_listener.listener-http",
        'module.alb.aws_lb_listener_rule.this["mimir"]': "aws_lb_listener_rule.rule-mimir",
    }
    assert [r["from"] for r in document["removed"]] == ["module.alb.aws_security_group.alb"]
    assert [(i["stack"], i["to"], i["id"]) for i in document["import"]] == [
        ("30-security-groups", "aws_security_group.alb-security-group",
         takeover.legacy_ids["module.alb.aws_security_group.alb"])]
    # 30-security-groups imported the group already: the repeated import changes nothing there.
    assert "plan 30-security-groups: No changes." in adopted.stdout

    takeover.synth()
    alb, _ = takeover.plan("50-alb")
    report(capsys, f"(b) 50-alb with the adoption file: {alb.line} [{alb.counts()}]")
    assert (alb.destroy, alb.replace, alb.moves, alb.forget) == (0, 0, 5, 1)
    applied = takeover.apply_saved_plan("50-alb")
    report(capsys, f"(b) 50-alb: {applied} ({TIMINGS['apply 50-alb']:.0f} s)")
    again, _ = takeover.plan("50-alb")
    assert no_changes(again), again.counts()
    state = takeover.state(takeover.stack_dir("50-alb"))
    assert state["aws_lb.alb"]["id"] == takeover.legacy_ids["module.alb.aws_lb.this"]
    assert state["aws_lb_target_group.target-group-grafana"]["id"] == \
        takeover.legacy_ids['module.alb.aws_lb_target_group.this["grafana"]']
    assert state["aws_lb_listener_rule.rule-mimir"]["id"] == \
        takeover.legacy_ids['module.alb.aws_lb_listener_rule.this["mimir"]']
    assert "module.alb.aws_security_group.alb" not in state


# The refusal --------------------------------------------------------------------------------


def test_10_make_adopt_refuses_to_destroy_a_legacy_role_and_writes_nothing(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    assert takeover.refusal is not None, "test_8 starts it"
    refused = takeover.refusal.result()
    report(capsys, f"refusal: make adopt STACK=40-iam ({TIMINGS['make adopt 40-iam']:.0f} s), exit "
                   f"{refused.returncode}:\n" + refused.stderr.strip())
    # The command exits 1; make reports that as "Error 1" and exits 2 itself.
    assert refused.returncode != 0 and "[Makefile" in refused.stderr and "adopt] Error 1" in refused.stderr, \
        refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "REFUSED: the plan would destroy or replace 1 object(s)" in refused.stderr
    assert "40-iam: module.iam.aws_iam_role.ci: delete" in refused.stderr
    assert "--allow-destroy 'module.iam.aws_iam_role.ci'" in refused.stderr
    assert not adoption_path(takeover.root / "adoption-refusal", "prod", "40-iam").exists()
    # The task roles it holds were matched all the same (--allow-destroy: tests/test_adopt.py).
    moved = [line for line in refused.stdout.splitlines() if line.lstrip().startswith("matched (moved)")]
    assert len(moved) == 2 and all("-task-role" in line for line in moved), moved


def test_11_ac_the_bootstrap_applied_plans_clean_and_the_policy_is_the_same(
        takeover: Takeover, capsys: pytest.CaptureFixture[str]) -> None:
    assert takeover.bootstrap_apply is not None, "test_5 starts it"
    applied = takeover.bootstrap_apply.result()
    report(capsys, f"(a)+(c) 00-bootstrap: {applied} ({TIMINGS['apply 00-bootstrap']:.0f} s)")
    # 11 of the seed's own plus the plan role, its policy and their attachment.
    assert applied == "Apply complete! Resources: 1 imported, 14 added, 3 changed, 0 destroyed."
    again, _ = takeover.plan(BOOTSTRAP)
    report(capsys, f"(a)+(c) 00-bootstrap planned again: {again.line}")
    assert no_changes(again), again.counts()
    iam = takeover.client("iam")
    ours = [p for page in iam.get_paginator("list_policies").paginate(Scope="Local") for p in page["Policies"]
            if p["PolicyName"] == HAND_MADE_POLICY]
    assert [p["PolicyId"] for p in ours] == [takeover.legacy_ids["policy"]], "imported, not duplicated"
    assert str(takeover.client("dynamodb").describe_table(TableName=takeover.config.state.lock_table)["Table"][
        "CreationDateTime"]) == takeover.legacy_ids["table"], "the lock table is the HCL project's table"
    assert takeover.client("s3").get_bucket_versioning(Bucket=takeover.config.state.state_bucket)["Status"] == "Enabled"
    report(capsys, "timings: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in TIMINGS.items()))
