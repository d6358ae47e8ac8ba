"""`make adopt`: each kind of match, the lookups in AWS, the adoption file, the refusal.

Legacy states are written here the way `terraform show -json` prints them, in the HCL
project's module style; the synthesized side is the session's prod app. AWS lookups run
against an in-process emulator. The same command on a real legacy deployment, with
terraform, is in tests/test_e2e_adoption.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.registry import STACK_IDS
from components.shared.adoption import parse_adoption_file
from scripts import adopt as adopt_module
from scripts.adoption_lookup import boto_clients
from scripts.adoption_match import (
    IDENTITY_ATTRIBUTES,
    MOVED,
    OTHER_STACK,
    SAME_ADDRESS,
    UNMATCHED,
    SynthesizedIdentities,
    import_id,
    legacy_resources,
    match_state,
)
from scripts.emulator import EmulatorThread, start_in_thread
from scripts.plan_summary import Destroyed, PlanSummary, summarize
from tests.conftest import SynthesizedApp

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
LB_ARN = f"{ELB}:loadbalancer/app/lgtm-prod-alb/50dc6c495c0c9188"
LISTENER_ARN = f"{ELB}:listener/app/lgtm-prod-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"


def resource(address: str, values: dict[str, Any]) -> dict[str, Any]:
    kind = address.split(".")[-2]
    return {"address": address, "mode": "managed", "type": kind, "values": values}


def shown_state(root: list[dict[str, Any]], modules: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """`terraform show -json` of a state: root resources and child modules."""
    return {"format_version": "1.0", "values": {"root_module": {
        "resources": root,
        "child_modules": [{"address": name, "resources": found} for name, found in (modules or {}).items()]}}}


def legacy_alb_state() -> dict[str, Any]:
    """The HCL project's 50-alb in module style: modules/alb with for_each target groups and rules."""
    def target_group(key: str) -> dict[str, Any]:
        arn = f"{ELB}:targetgroup/lgtm-prod-{key}/{key}0123456789ab"
        return resource(f'module.alb.aws_lb_target_group.this["{key}"]',
                        {"id": arn, "arn": arn, "name": f"lgtm-prod-{key}", "port": {"grafana": 3000, "mimir": 8080}[key]})
    return shown_state([], {"module.alb": [
        resource("module.alb.aws_security_group.alb", {"id": "sg-0a1b2c3d4e5f60718", "arn": f"arn:aws:ec2:{REGION}:"
                 f"{ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718", "name": "lgtm-ecs-prod-alb"}),
        resource("module.alb.aws_lb.this", {"id": LB_ARN, "arn": LB_ARN, "name": "lgtm-prod-alb"}),
        target_group("grafana"),
        target_group("mimir"),
        resource("module.alb.aws_lb_listener.http", {"id": LISTENER_ARN, "arn": LISTENER_ARN,
                                                      "load_balancer_arn": LB_ARN, "port": 80}),
        resource('module.alb.aws_lb_listener_rule.this["mimir"]', {
            "id": f"{ELB}:listener-rule/app/lgtm-prod-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/0001",
            "arn": f"{ELB}:listener-rule/app/lgtm-prod-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/0001",
            "listener_arn": LISTENER_ARN, "priority": 100}),
    ]})


@pytest.fixture(scope="module")
def identities(prod: SynthesizedApp) -> SynthesizedIdentities:
    return SynthesizedIdentities({stack_id: prod.stack_json(stack_id) for stack_id in STACK_IDS})


def by_address(matches: list[Any]) -> dict[str, Any]:
    return {m.legacy.address: m for m in matches}


# --- each kind of match ------------------------------------------------------------------


def test_a_resource_at_the_same_address_is_kept(identities: SynthesizedIdentities) -> None:
    legacy = legacy_resources(shown_state([
        resource("aws_s3_bucket.terraform_state", {"id": "jsj-lgtm-terraform-state-prod",
                                                   "bucket": "jsj-lgtm-terraform-state-prod"}),
        resource("aws_dynamodb_table.terraform_lock", {"id": "jsj-lgtm-terraform-lock-prod",
                                                       "name": "jsj-lgtm-terraform-lock-prod"})]))
    matches = by_address(match_state("00-bootstrap", legacy, identities))
    assert {m.kind for m in matches.values()} == {SAME_ADDRESS}
    assert matches["aws_s3_bucket.terraform_state"].target.address == "aws_s3_bucket.terraform_state"


def test_module_resources_move_to_the_resource_with_the_same_identity(identities: SynthesizedIdentities) -> None:
    matches = by_address(match_state("50-alb", legacy_resources(legacy_alb_state()), identities))
    moved = {address: m.target.address for address, m in matches.items() if m.kind == MOVED}
    assert moved == {
        "module.alb.aws_lb.this": "aws_lb.alb",
        'module.alb.aws_lb_target_group.this["grafana"]': "aws_lb_target_group.target-group-grafana",
        'module.alb.aws_lb_target_group.this["mimir"]': "aws_lb_target_group.target-group-mimir",
        # A listener is known by its load balancer (an ARN in state, a reference here) and port,
        "module.alb.aws_lb_listener.http": "aws_lb_listener.listener-http",
        # a rule by its listener and priority.
        'module.alb.aws_lb_listener_rule.this["mimir"]': "aws_lb_listener_rule.rule-mimir",
    }
    assert matches["module.alb.aws_lb_listener.http"].identity == \
        "aws_lb_listener load_balancer_arn=<aws_lb name=lgtm-prod-alb>, port=80"


def test_a_resource_another_stack_owns_now_is_removed_here_and_imported_there(
        identities: SynthesizedIdentities) -> None:
    matches = by_address(match_state("50-alb", legacy_resources(legacy_alb_state()), identities))
    group = matches["module.alb.aws_security_group.alb"]
    assert group.kind == OTHER_STACK
    assert (group.target.stack_id, group.target.address) == ("30-security-groups", "aws_security_group.alb-security-group")

    adoption = adopt_module.Adoption("prod", "50-alb", "s3://state/50-alb", matches=list(matches.values()))
    document = adoption.document()
    assert document["removed"] == [{"from": "module.alb.aws_security_group.alb",
                                    "now": "30-security-groups aws_security_group.alb-security-group",
                                    "identity": "aws_security_group name=lgtm-ecs-prod-alb"}]
    assert [(i["stack"], i["to"], i["id"]) for i in document["import"]] == [
        ("30-security-groups", "aws_security_group.alb-security-group", "sg-0a1b2c3d4e5f60718")]
    assert adoption.stacks_changed() == ["30-security-groups", "50-alb"]


def test_a_resource_nothing_matches_is_unmatched_and_would_be_destroyed(identities: SynthesizedIdentities) -> None:
    legacy = legacy_resources(shown_state([], {"module.alb": [
        resource("module.alb.aws_lb_target_group.tempo_otlp", {"id": "arn:tg/old", "arn": "arn:tg/old",
                                                               "name": "lgtm-prod-tempo-otlp-4318"}),
        resource("module.alb.aws_s3_bucket.logs", {"id": "jsj-lgtm-alb-logs", "bucket": "jsj-lgtm-alb-logs"})]}))
    matches = match_state("50-alb", legacy, identities)
    assert {m.kind for m in matches} == {UNMATCHED}
    assert all("Terraform would destroy it" in m.note for m in matches)


def test_two_legacy_resources_claiming_one_target_are_both_unmatched(identities: SynthesizedIdentities) -> None:
    legacy = legacy_resources(shown_state([
        resource("aws_lb.first", {"id": "arn:lb/1", "arn": "arn:lb/1", "name": "lgtm-prod-alb"}),
        resource("module.old.aws_lb.this", {"id": "arn:lb/2", "arn": "arn:lb/2", "name": "lgtm-prod-alb"})]))
    matches = match_state("50-alb", legacy, identities)
    assert [m.kind for m in matches] == [UNMATCHED, UNMATCHED]
    assert "2 legacy resources match 50-alb aws_lb.alb" in matches[0].note


def test_a_reference_to_an_object_outside_the_state_does_not_match(identities: SynthesizedIdentities) -> None:
    """A listener whose load balancer is not in this state cannot be told apart by its ARN alone."""
    legacy = legacy_resources(shown_state([resource("module.alb.aws_lb_listener.http", {
        "id": LISTENER_ARN, "arn": LISTENER_ARN, "load_balancer_arn": LB_ARN, "port": 80})]))
    (only,) = match_state("50-alb", legacy, identities)
    assert only.kind == UNMATCHED


def test_security_group_rules_match_through_their_group(identities: SynthesizedIdentities) -> None:
    group = resource("module.ecs_sg.aws_security_group.this", {"id": "sg-0ecs", "arn": "arn:sg/0ecs",
                                                               "name": "lgtm-ecs-prod-ecs"})
    rule = resource('module.ecs_sg.aws_vpc_security_group_ingress_rule.self["9095"]', {
        "id": "sgr-1", "arn": "arn:sgr/1", "security_group_id": "sg-0ecs", "referenced_security_group_id": "sg-0ecs",
        "ip_protocol": "tcp", "from_port": 9095, "to_port": 9095, "cidr_ipv4": None})
    egress = resource('module.ecs_sg.aws_vpc_security_group_egress_rule.cidr["https"]', {
        "id": "sgr-2", "arn": "arn:sgr/2", "security_group_id": "sg-0ecs", "cidr_ipv4": "0.0.0.0/0",
        "ip_protocol": "tcp", "from_port": 443, "to_port": 443, "referenced_security_group_id": None})
    matches = by_address(match_state("30-security-groups", legacy_resources(shown_state([group, rule, egress])),
                                     identities))
    assert {a: (m.kind, m.target.address) for a, m in matches.items()} == {
        "module.ecs_sg.aws_security_group.this": (MOVED, "aws_security_group.ecs-security-group"),
        'module.ecs_sg.aws_vpc_security_group_ingress_rule.self["9095"]':
            (MOVED, "aws_vpc_security_group_ingress_rule.ecs-ingress-intra-tcp-9095"),
        'module.ecs_sg.aws_vpc_security_group_egress_rule.cidr["https"]':
            (MOVED, "aws_vpc_security_group_egress_rule.ecs-egress-https"),
    }


def test_every_resource_type_the_app_synthesizes_has_an_identity(synthesized: Any) -> None:
    """Default and every-option configurations: a new type needs its identity before it can be adopted."""
    from tests.variants import VARIANT

    types = {kind for app in (synthesized("prod"), synthesized("prod", **VARIANT))
             for stack_id in STACK_IDS for kind in app.stack_json(stack_id).get("resource", {})}
    assert types - set(IDENTITY_ATTRIBUTES) == set(), "add the type to scripts/adoption_match.py IDENTITY_ATTRIBUTES"


def test_import_ids_are_what_terraform_import_takes() -> None:
    assert import_id("aws_lb", {"id": LB_ARN}) == LB_ARN
    assert import_id("aws_iam_role_policy_attachment", {"id": "r-2024", "role": "deploy",
                                                        "policy_arn": "arn:aws:iam::1:policy/p"}) == \
        "deploy/arn:aws:iam::1:policy/p"
    assert import_id("aws_ecs_service", {"id": "arn:svc", "name": "grafana",
                                         "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/lgtm"}) == "lgtm/grafana"


# --- objects in AWS but in no state ----------------------------------------------------


@pytest.fixture(scope="module")
def aws() -> Iterator[EmulatorThread]:
    server = start_in_thread()
    yield server
    server.stop()


def emulator_env(aws: EmulatorThread) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_REGION": REGION}


def test_objects_made_by_hand_are_imported_not_created(aws: EmulatorThread, identities: SynthesizedIdentities) -> None:
    clients = boto_clients(emulator_env(aws), REGION)
    iam = clients("iam")
    policy_arn = iam.create_policy(PolicyName="jsj_github_action_LGTM", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))[
        "Policy"]["Arn"]
    provider_arn = iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                                       ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    iam.create_role(RoleName="jsj-github-action-lgtm", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                    "Statement": []}))

    found, new = adopt_module.look_up_in_aws("00-bootstrap", identities, [], clients, say=lambda line: None)
    imported = {item.address.split(".")[0]: item.import_id for item in found}
    assert imported == {"aws_iam_policy": policy_arn, "aws_iam_openid_connect_provider": provider_arn,
                        "aws_iam_role": "jsj-github-action-lgtm"}
    # The second policy part, the attachments and the bucket's hardening do not exist yet: created.
    assert "aws_iam_policy.github-deploy-access_policy-2_7BABCA2E" in {r.address for r in new}
    assert all("in no state of 00-bootstrap" in item.found for item in found)


def test_buckets_tables_and_security_groups_are_found_by_name(aws: EmulatorThread,
                                                              identities: SynthesizedIdentities) -> None:
    clients = boto_clients(emulator_env(aws), REGION)
    clients("s3").create_bucket(Bucket="jsj-lgtm-mimir-prod", CreateBucketConfiguration={"LocationConstraint": REGION})
    vpc = clients("ec2").create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    group = clients("ec2").create_security_group(GroupName="lgtm-ecs-prod-efs", Description="x", VpcId=vpc)["GroupId"]
    found, _ = adopt_module.look_up_in_aws("20-storage", identities, [], clients, say=lambda line: None)
    assert {(item.address, item.import_id) for item in found} == {
        ("aws_s3_bucket.mimir-bucket_32860536", "jsj-lgtm-mimir-prod"), ("aws_security_group.efs-security-group", group)}


def test_matched_resources_are_not_looked_up(aws: EmulatorThread, identities: SynthesizedIdentities) -> None:
    legacy = legacy_resources(shown_state([resource("aws_s3_bucket.mimir", {"id": "jsj-lgtm-mimir-prod",
                                                                            "bucket": "jsj-lgtm-mimir-prod"})]))
    matches = match_state("20-storage", legacy, identities)
    found, _ = adopt_module.look_up_in_aws("20-storage", identities, matches, boto_clients(emulator_env(aws), REGION),
                                           say=lambda line: None)
    assert "aws_s3_bucket.mimir-bucket_32860536" not in {item.address for item in found}


# --- plans, refusal --------------------------------------------------------------------


def test_a_replacement_counts_as_a_destroy() -> None:
    plan = {"resource_changes": [
        {"address": "aws_iam_policy.p", "mode": "managed", "previous_address": "module.x.aws_iam_policy.p",
         "change": {"actions": ["delete", "create"], "replace_paths": [["description"]]}},
        {"address": "aws_lb.alb", "mode": "managed", "change": {"actions": ["update"], "importing": {"id": "arn"}}},
        {"address": "aws_security_group.g", "mode": "managed", "change": {"actions": ["forget"]}},
    ]}
    summary = summarize("00-bootstrap", plan, "...\nPlan: 1 to import, 1 to add, 1 to change, 1 to destroy.\n")
    assert (summary.destroy, summary.replace, summary.imports, summary.forget, summary.moves) == (1, 1, 1, 1, 1)
    assert summary.line == "Plan: 1 to import, 1 to add, 1 to change, 1 to destroy."
    (destroyed,) = summary.destroyed
    assert destroyed.describe() == "aws_iam_policy.p (was module.x.aws_iam_policy.p): replace, forced by description"
    assert destroyed.names() == {"aws_iam_policy.p", "module.x.aws_iam_policy.p"}


@pytest.fixture
def stubbed_adopt(monkeypatch: pytest.MonkeyPatch, aws: EmulatorThread) -> None:
    """adopt with its two terraform steps replaced: the state is legacy_alb_state() plus a leftover bucket,
    and every plan destroys that bucket. Synth, matching, lookups and the file are real."""
    state = legacy_alb_state()
    state["values"]["root_module"]["child_modules"][0]["resources"].append(
        resource("module.alb.aws_s3_bucket.logs", {"id": "jsj-lgtm-alb-logs", "bucket": "jsj-lgtm-alb-logs"}))
    monkeypatch.setattr(adopt_module, "read_legacy_state", lambda stack_dir, env: state)

    def plan(stack_id: str, stack_dir: Path, env: dict[str, str], reads: Any) -> PlanSummary:
        destroyed = (Destroyed("module.alb.aws_s3_bucket.logs", None, "delete"),) if stack_id == "50-alb" else ()
        return PlanSummary(stack_id, f"Plan: 0 to add, 0 to change, {len(destroyed)} to destroy.", 0, 0,
                           len(destroyed), 0, 0, 0, 0, destroyed)

    monkeypatch.setattr(adopt_module, "plan", plan)
    for name, value in emulator_env(aws).items():  # lookups go to the in-process emulator only
        monkeypatch.setenv(name, value)


def test_adopt_refuses_a_destroy_lists_it_and_writes_nothing(stubbed_adopt: None, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert adopt_module.main(["--stack", "50-alb", "--adoption-dir", str(tmp_path)]) == 1
    output = capsys.readouterr()
    assert "REFUSED: the plan would destroy or replace 1 object(s)" in output.err
    assert "50-alb: module.alb.aws_s3_bucket.logs: delete" in output.err
    assert "--allow-destroy 'module.alb.aws_s3_bucket.logs'" in output.err
    assert not (tmp_path / "prod" / "50-alb.json").exists()
    # The table still showed what was found.
    assert "move across stacks" in output.out and "matched (moved)" in output.out and "unmatched" in output.out


def test_allow_destroy_names_it_and_the_file_is_written(stubbed_adopt: None, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert adopt_module.main(["--stack", "50-alb", "--adoption-dir", str(tmp_path),
                              "--allow-destroy", "module.alb.aws_s3_bucket.logs"]) == 0
    path = tmp_path / "prod" / "50-alb.json"
    document = json.loads(path.read_text())
    assert document["allowed_destroy"] == ["module.alb.aws_s3_bucket.logs"]
    assert [u["address"] for u in document["unmatched"]] == ["module.alb.aws_s3_bucket.logs"]
    assert len(document["moved"]) == 5
    parsed = parse_adoption_file(path, environment="prod", stack_ids=STACK_IDS)
    assert parsed.removed == ("module.alb.aws_security_group.alb",)
    assert f"wrote {path}" in capsys.readouterr().out


def test_adopt_without_a_stack_says_which_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert adopt_module.main([]) == 2
    assert "make adopt needs STACK=<stack id>, one of: 00-bootstrap, 10-network" in capsys.readouterr().err


def test_adopt_of_an_unknown_stack_fails_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert adopt_module.main(["--stack", "55-nope"]) == 1
    error = capsys.readouterr().err
    assert "--stack must be one of 00-bootstrap" in error and "'55-nope'" in error and "Traceback" not in error
