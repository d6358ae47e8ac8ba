"""The plan role reads what every stack refreshes, locks its state, and can change nothing.

Checked against the same action table as the deploy policy (`tests/deploy_permissions.py`):
every `read` action of every type of every stack is granted, no create/update/tag/delete action
is, the only non-read actions are the lock's, and those only on lock items and `.tflock` files.
The policy is evaluated (resources and conditions) for the ARNs the stacks create, as the deploy
policy's scope test does.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import SynthesizedApp
from tests.deploy_permissions import NAMED_SCOPES, REQUIRED_ACTIONS, missing_actions, policy_allows, scope_gaps
from tests.helpers import json_text
from tests.plan_checks import LOCK_WRITES, mutating_actions, mutating_grants, non_read_actions
from tests.test_deploy_permissions import (
    ACCOUNT,
    BOOTSTRAP,
    PARTITION,
    app_types,
    deploy_policies,
    resolve,
    statements,
)
from tests.test_deploy_permissions import app as app  # noqa: F401 - the prod/staging/every-option fixture

READ_ONLY = {t: replace(needs, create=(), update=(), tag=(), delete=()) for t, needs in REQUIRED_ACTIONS.items()}


def plan_documents(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(resolve(json_text(p["policy"]))) for p in deploy_policies(stack, "plan-policy")]


def test_the_plan_policy_grants_every_read_the_table_lists(app: SynthesizedApp) -> None:
    gaps = missing_actions(app_types(app), plan_documents(app.stack_json(BOOTSTRAP)), READ_ONLY)
    assert gaps == [], "grant in components/plan_permissions.py:\n" + "\n".join(map(str, gaps))


def test_the_plan_policy_grants_no_mutating_action_of_the_table(app: SynthesizedApp) -> None:
    assert len(mutating_actions()) > 100  # the table's create/update/tag/delete actions are all there
    assert mutating_grants(plan_documents(app.stack_json(BOOTSTRAP))) == []


def test_the_only_non_read_actions_are_the_state_lock(app: SynthesizedApp) -> None:
    documents = plan_documents(app.stack_json(BOOTSTRAP))
    assert non_read_actions(documents) == {a.lower() for a in LOCK_WRITES}
    cfg = app.config
    state = cfg.state
    lock_table = f"arn:{PARTITION}:dynamodb:{cfg.aws_region}:{ACCOUNT}:table/{state.lock_table}"
    context = {"aws:RequestedRegion": cfg.aws_region}
    for stack_id in app.manifest["stacks"]:
        backend = app.stack_json(stack_id)["terraform"]["backend"]["s3"]
        state_arn = f"arn:{PARTITION}:s3:::{backend['bucket']}/{backend['key']}"
        assert policy_allows(documents, "s3:GetObject", state_arn, context), stack_id
        assert policy_allows(documents, "s3:ListBucket", f"arn:{PARTITION}:s3:::{backend['bucket']}", context)
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not policy_allows(documents, action, state_arn, context), (stack_id, action)  # state: never
            assert policy_allows(documents, action, state_arn + ".tflock", context), (stack_id, action)
        if "dynamodb_table" in backend:
            for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"):
                assert policy_allows(documents, action, lock_table, context), (stack_id, action)
    for statement in statements(documents):
        writes = [a for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
                  if a in LOCK_WRITES]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        if writes:
            assert all(r.endswith(".tflock") or r == lock_table for r in resources), statement["Sid"]


def test_no_data_reads_beyond_the_state(prod: SynthesizedApp) -> None:
    documents = plan_documents(prod.stack_json(BOOTSTRAP))
    context = {"aws:RequestedRegion": prod.config.aws_region}
    for svc in prod.config.object_storage_services:
        bucket = prod.config.data_bucket(svc.name)
        assert policy_allows(documents, "s3:GetBucketPolicy", f"arn:{PARTITION}:s3:::{bucket}", context)
        assert not policy_allows(documents, "s3:GetObject", f"arn:{PARTITION}:s3:::{bucket}/blocks/x", context)
    parameter = f"arn:{PARTITION}:ssm:{prod.config.aws_region}:{ACCOUNT}:parameter/other/secret"
    assert not policy_allows(documents, "ssm:GetParameter", parameter, context)


def test_the_plan_policy_reads_each_named_resource_the_stacks_create(app: SynthesizedApp) -> None:
    reads = {t: replace(scope, actions=tuple(a for a in scope.actions if a in REQUIRED_ACTIONS[t].read))
             for t, scope in NAMED_SCOPES.items()}
    assert sum(len(scope.actions) for scope in reads.values()) >= 5
    stacks = {stack_id: app.stack_json(stack_id) for stack_id in app.manifest["stacks"]}
    gaps, unresolved = scope_gaps(stacks, plan_documents(app.stack_json(BOOTSTRAP)), partition=PARTITION,
                                  region=app.config.aws_region, account_id=ACCOUNT, scopes=reads, passes={})
    assert gaps == [], "widen components/plan_permissions.py:\n" + "\n".join(map(str, gaps))
    assert unresolved == []


# --- the checks fail when they should -------------------------------------------------

@pytest.mark.parametrize("granted", ["ec2:CreateVpc", "iam:PutRolePolicy", "iam:*", "s3:Put*"])
def test_a_mutating_grant_is_named(prod: SynthesizedApp, granted: str) -> None:
    documents = copy.deepcopy(plan_documents(prod.stack_json(BOOTSTRAP)))
    documents[0]["Statement"].append({"Sid": "Oops", "Effect": "Allow", "Action": granted, "Resource": "*"})
    assert mutating_grants(documents)
    assert granted.lower() in non_read_actions(documents) or granted.endswith("*")


def test_a_missing_read_is_named(prod: SynthesizedApp) -> None:
    documents = copy.deepcopy(plan_documents(prod.stack_json(BOOTSTRAP)))
    for statement in statements(documents):
        if isinstance(statement["Action"], list) and "ec2:DescribeFlowLogs" in statement["Action"]:
            statement["Action"].remove("ec2:DescribeFlowLogs")
    gaps = missing_actions(app_types(prod), documents, READ_ONLY)
    assert {(g.terraform_type, g.action) for g in gaps} == {("aws_flow_log", "ec2:DescribeFlowLogs")}
