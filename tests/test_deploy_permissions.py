"""The GitHub Actions deploy policy covers every Terraform type the app uses.

Every resource and data source type of every synthesized stack needs an entry in
`tests.deploy_permissions.REQUIRED_ACTIONS`, and every action an entry lists
must be granted by the deploy policy 00-bootstrap synthesizes (parsed from its
`aws_iam_policy` resources). The policy is hand-written per service and the table
per Terraform type, so this compares two independent statements of the need.
Negative tests run the same checker on a mutated table or policy.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting  # not `Testing`: pytest would try to collect it

from components.bootstrap import BootstrapStack
from components.github_deploy_access import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_URL,
    MANAGED_POLICY_MAX_CHARS,
    pack_statements,
    policy_size,
)
from components.registry import STACK_IDS
from components.shared.policy import policy_json
from config.common import GitHubConfig, load_config
from config.names import BOOTSTRAP_STACK_ID
from tests.conftest import SynthesizedApp, only, resources
from tests.deploy_permissions import (
    BACKEND_ACTIONS,
    NAMED_SCOPES,
    REQUIRED_ACTIONS,
    ROLE_PASSES,
    Gap,
    Needs,
    ScopeGap,
    is_granted,
    missing_actions,
    scope_gaps,
    stack_types,
    unmapped_types,
)
from tests.helpers import as_list, json_text, json_value, synth_json

BOOTSTRAP = BOOTSTRAP_STACK_ID
ACCOUNT = "123456789012"
PARTITION = "aws"
# Terraform references the policy documents carry, replaced as AWS would see them.
_TOKENS = {
    re.compile(r"\$\{data\.aws_partition\.[^.}]+\.partition\}"): PARTITION,
    re.compile(r"\$\{data\.aws_caller_identity\.[^.}]+\.account_id\}"): ACCOUNT,
}
# Actions that read or write data (not configuration): never on "*".
DATA_ACTIONS = ("s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "dynamodb:GetItem", "dynamodb:PutItem",
                "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "ssm:GetParameter*",
                "secretsmanager:GetSecretValue", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                "logs:GetLogEvents", "elasticfilesystem:Client*")


def resolve(document: str) -> str:
    for pattern, value in _TOKENS.items():
        document = pattern.sub(value, document)
    assert "${" not in document, f"unresolved reference in the deploy policy: {document[document.index('${'):][:80]}"
    return document


def deploy_policies(stack: dict[str, Any], part: str = "policy") -> list[dict[str, Any]]:
    """The deploy (apply) policy resources of a synthesized 00-bootstrap, in name order
    (`part="plan-policy"`: the plan role's), found by construct path: the plan policy's name
    starts with the deploy policy's (jsj_github_action_LGTM_plan)."""
    found = [p for logical_id, p in resources(stack, "aws_iam_policy").items()
             if re.fullmatch(rf"github-deploy-access_{part}-\d+_[0-9A-F]{{8}}", logical_id)]
    assert found, f"00-bootstrap has no aws_iam_policy at github-deploy-access/{part}-N"
    return sorted(found, key=lambda p: (len(p["name"]), p["name"]))


def policy_documents(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(resolve(json_text(p["policy"]))) for p in deploy_policies(stack)]


def statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for document in documents for s in document["Statement"]]



def allows(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether some Allow statement names both the action and the resource (conditions aside)."""
    return any(
        s["Effect"] == "Allow"
        and is_granted(action, [a.lower() for a in as_list(s["Action"])])
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(s["Resource"]))
        for s in statements(documents))


def app_types(app: SynthesizedApp) -> dict[str, list[str]]:
    """Every resource / data source type of every stack -> the stacks that use it."""
    found: dict[str, list[str]] = {}
    for stack_id in app.manifest["stacks"]:
        for terraform_type in stack_types(app.stack_json(stack_id)):
            found.setdefault(terraform_type, []).append(stack_id)
    return found


def bootstrap_alone(**github: object) -> dict[str, Any]:
    """00-bootstrap on its own with other GitHub settings (cheap: one stack, no full app)."""
    config = load_config(github=replace(GitHubConfig(), **github))  # type: ignore[arg-type]
    return synth_json(BootstrapStack(CdktfTesting.app(), BOOTSTRAP, config=config))


# --- coverage ---------------------------------------------------------------------

@pytest.fixture(params=["prod", "staging", "every-option"])
def app(request: pytest.FixtureRequest, synthesized: Any) -> SynthesizedApp:
    """Both environments' apps, and prod with every opt-in setting on (its extra resource
    types: access logging, WAF association, KMS), each synthesized once per session."""
    if request.param == "every-option":
        from tests.variants import VARIANT

        return synthesized("prod", **VARIANT)
    return request.getfixturevalue(request.param)


def test_the_app_has_every_stack(prod: SynthesizedApp) -> None:
    assert sorted(prod.manifest["stacks"]) == sorted(STACK_IDS)


def test_every_terraform_type_of_every_stack_has_a_table_entry(app: SynthesizedApp) -> None:
    types = app_types(app)
    assert {"aws_dynamodb_table", "aws_iam_policy", "data.aws_caller_identity"} <= set(types)
    unmapped = unmapped_types(types)
    assert unmapped == [], "add these types to tests/deploy_permissions.py REQUIRED_ACTIONS: " + ", ".join(
        f"{t} (in {', '.join(types[t])})" for t in unmapped)


def test_the_deploy_policy_grants_every_action_the_table_requires(app: SynthesizedApp) -> None:
    gaps = missing_actions(app_types(app), policy_documents(app.stack_json(BOOTSTRAP)))
    assert gaps == [], "grant in components/github_deploy_access.py:\n" + "\n".join(map(str, gaps))


def test_every_stack_backend_can_read_write_and_lock_its_state(app: SynthesizedApp) -> None:
    documents = policy_documents(app.stack_json(BOOTSTRAP))
    locked = []
    for stack_id in app.manifest["stacks"]:
        backend = app.stack_json(stack_id)["terraform"]["backend"]["s3"]
        bucket_arn = f"arn:{PARTITION}:s3:::{backend['bucket']}"
        for key in (backend["key"], backend["key"] + ".tflock"):
            for action in BACKEND_ACTIONS["state objects"]:
                assert allows(documents, action, f"{bucket_arn}/{key}"), (stack_id, action, key)
        for action in BACKEND_ACTIONS["state buckets"]:
            assert allows(documents, action, bucket_arn), (stack_id, action)
        if "dynamodb_table" in backend:
            table_arn = f"arn:{PARTITION}:dynamodb:{backend['region']}:{ACCOUNT}:table/{backend['dynamodb_table']}"
            for action in BACKEND_ACTIONS["lock table"]:
                assert allows(documents, action, table_arn), (stack_id, action)
            locked.append(stack_id)
    assert sorted(locked) == sorted(set(app.manifest["stacks"]) - {BOOTSTRAP})


def test_the_lock_table_lifecycle_the_seed_added_by_hand(prod: SynthesizedApp) -> None:
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    table_arn = f"arn:{PARTITION}:dynamodb:{prod.config.aws_region}:{ACCOUNT}:table/{prod.config.state.lock_table}"
    for action in ("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:TagResource",
                   "dynamodb:UntagResource", "dynamodb:UpdateTable", "dynamodb:DescribeTable",
                   "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
                   "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"):
        assert allows(documents, action, table_arn), action
    assert not allows(documents, "dynamodb:DeleteTable",
                      f"arn:{PARTITION}:dynamodb:{prod.config.aws_region}:{ACCOUNT}:table/someone-elses")


# --- the checker fails when it should ----------------------------------------------

def test_checker_names_a_type_whose_entry_was_removed(prod: SynthesizedApp) -> None:
    types = app_types(prod)
    table = dict(REQUIRED_ACTIONS)
    del table["aws_dynamodb_table"]
    assert set(unmapped_types(types, table)) - set(unmapped_types(types)) == {"aws_dynamodb_table"}


def test_checker_names_a_new_type_without_an_entry(prod: SynthesizedApp) -> None:
    types = app_types(prod)
    assert set(unmapped_types([*types, "aws_sqs_queue"])) - set(unmapped_types(types)) == {"aws_sqs_queue"}


def test_checker_names_an_action_removed_from_the_policy(prod: SynthesizedApp) -> None:
    types = app_types(prod)
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    baseline = set(missing_actions(types, documents))
    mutated = copy.deepcopy(documents)
    for statement in statements(mutated):
        if "dynamodb:CreateTable" in as_list(statement["Action"]):
            statement["Action"] = [a for a in as_list(statement["Action"]) if a != "dynamodb:CreateTable"]
    assert set(missing_actions(types, mutated)) - baseline == {Gap("aws_dynamodb_table", "dynamodb:CreateTable")}


def test_checker_names_an_action_a_table_entry_adds(prod: SynthesizedApp) -> None:
    types = app_types(prod)
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    table = dict(REQUIRED_ACTIONS)
    table["aws_s3_bucket"] = replace(table["aws_s3_bucket"],
                                     update=(*table["aws_s3_bucket"].update, "s3:PutBucketAcl"))
    gaps = set(missing_actions(types, documents, table)) - set(missing_actions(types, documents))
    assert gaps == {Gap("aws_s3_bucket", "s3:PutBucketAcl")}


def test_checker_ignores_deny_statements_and_matches_wildcards_case_insensitively() -> None:
    document = {"Statement": [
        {"Effect": "Allow", "Action": "EC2:Describe*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:CreateVpc", "Resource": "*"},
    ]}
    table = {"aws_vpc": Needs(create=("ec2:CreateVpc",), read=("ec2:DescribeVpcs",))}
    assert missing_actions(["aws_vpc"], [document], table) == [Gap("aws_vpc", "ec2:CreateVpc")]
    assert not is_granted("ec2:DeleteVpc", ["ec2:describe*"])


# --- scope ------------------------------------------------------------------------

def app_scope_gaps(app: SynthesizedApp, documents: list[dict[str, Any]]) -> tuple[list[ScopeGap], list[str]]:
    stacks = {stack_id: app.stack_json(stack_id) for stack_id in app.manifest["stacks"]}
    return scope_gaps(stacks, documents, partition=PARTITION, region=app.config.aws_region, account_id=ACCOUNT)


def test_the_policy_allows_each_named_resource_role_pass_and_state_read(app: SynthesizedApp) -> None:
    """Evaluate the policy (resources and conditions) for the ARNs the stacks will create."""
    types = app_types(app)
    assert {"aws_cloudwatch_log_group", "aws_iam_role", "aws_s3_bucket", "aws_lb"} <= set(types) & set(NAMED_SCOPES)
    assert set(ROLE_PASSES) <= set(types), "every role-passing type is in the app, so each pass is checked"
    gaps, unresolved = app_scope_gaps(app, policy_documents(app.stack_json(BOOTSTRAP)))
    assert gaps == [], "widen components/github_deploy_access.py (or rename the resource):\n" + "\n".join(
        map(str, gaps))
    assert unresolved == [], f"names or roles not known at synth, so their scope is unchecked: {unresolved}"


def test_scope_check_names_a_log_group_outside_the_policy(prod: SynthesizedApp) -> None:
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    baseline = set(app_scope_gaps(prod, documents)[0])
    mutated = copy.deepcopy(documents)
    (logs,) = [s for s in statements(mutated) if s["Sid"] == "ProjectLogGroups"]
    logs["Resource"] = [r for r in logs["Resource"] if ":log-group:/ecs/" in r]  # drop the flow log group
    new = set(app_scope_gaps(prod, mutated)[0]) - baseline
    assert {gap.address.split(".")[0] for gap in new} == {"10-network: aws_cloudwatch_log_group"}
    assert {gap.resource for gap in new} == {
        f"arn:{PARTITION}:logs:{prod.config.aws_region}:{ACCOUNT}:log-group:/vpc/lgtm-ecs-prod/flow-logs"}
    assert "logs:CreateLogGroup" in {gap.action for gap in new}


def test_scope_check_names_a_role_pass_the_condition_refuses(prod: SynthesizedApp) -> None:
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    baseline = set(app_scope_gaps(prod, documents)[0])
    mutated = copy.deepcopy(documents)
    (passing,) = [s for s in statements(mutated) if "iam:PassRole" in as_list(s["Action"])]
    passing["Condition"] = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    new = set(app_scope_gaps(prod, mutated)[0]) - baseline
    assert {(gap.action, gap.address.split(": ")[1].split(".")[0]) for gap in new} == {("iam:PassRole", "aws_flow_log")}
    assert {gap.resource for gap in new} == {f"arn:{PARTITION}:iam::{ACCOUNT}:role/lgtm-ecs-prod-vpc-flow-logs"}

def test_no_data_actions_on_data_buckets_or_other_state_keys(prod: SynthesizedApp) -> None:
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    cfg = prod.config
    assert cfg.object_storage_services
    for svc in cfg.object_storage_services:
        bucket_arn = f"arn:{PARTITION}:s3:::{cfg.data_bucket(svc.name)}"
        assert allows(documents, "s3:PutBucketPolicy", bucket_arn), svc.name  # configuration: yes
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert not allows(documents, action, f"{bucket_arn}/blocks/anything"), (svc.name, action)
    assert not allows(documents, "s3:GetObject", f"arn:{PARTITION}:s3:::{cfg.state.state_bucket}/other/file")
    assert not allows(documents, "s3:CreateBucket", f"arn:{PARTITION}:s3:::someone-elses-bucket")


def test_wildcard_resources_never_carry_data_actions_or_service_wildcards(prod: SynthesizedApp) -> None:
    for statement in statements(policy_documents(prod.stack_json(BOOTSTRAP))):
        actions = as_list(statement["Action"])
        assert all(not a.endswith(":*") and a != "*" for a in actions), statement["Sid"]
        if "*" in as_list(statement["Resource"]):
            data = [a for a in actions if any(fnmatch.fnmatchcase(a.lower(), d.lower()) for d in DATA_ACTIONS)]
            assert data == [], f"{statement['Sid']} grants data actions on every resource: {data}"


def test_iam_writes_reach_only_this_projects_roles_and_the_deploy_access(prod: SynthesizedApp) -> None:
    documents = policy_documents(prod.stack_json(BOOTSTRAP))
    cfg = prod.config
    role = f"arn:{PARTITION}:iam::{ACCOUNT}:role/"
    assert allows(documents, "iam:PutRolePolicy", role + cfg.resource_name("mimir-task"))
    assert allows(documents, "iam:UpdateAssumeRolePolicy", role + cfg.github.deploy_role_name)
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:CreateRole", "iam:PassRole"):
        assert not allows(documents, action, role + "OrganizationAccountAccessRole"), action
    assert not allows(documents, "iam:CreatePolicyVersion", f"arn:{PARTITION}:iam::{ACCOUNT}:policy/Admin")
    attach = next(s for s in statements(documents) if "iam:AttachRolePolicy" in as_list(s["Action"]))
    assert attach["Condition"] == {"ArnLike": {"iam:PolicyARN": [
        f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{cfg.github.deploy_policy_name}*",
        f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{cfg.github.plan_policy_name}*"]}}
    assert allows(documents, "iam:UpdateAssumeRolePolicy", role + cfg.github.plan_role_name)
    pass_role = next(s for s in statements(documents) if "iam:PassRole" in as_list(s["Action"]))
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": [
        "ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}}


def test_ec2_deletes_need_this_projects_tags(prod: SynthesizedApp) -> None:
    cfg = prod.config
    deleting = [s for s in statements(policy_documents(prod.stack_json(BOOTSTRAP)))
                if any(a in ("ec2:DeleteVpc", "ec2:DeleteSubnet", "ec2:DeleteNatGateway")
                       for a in as_list(s["Action"]))]
    assert len(deleting) == 1
    assert deleting[0]["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": cfg.aws_region, "aws:ResourceTag/Project": cfg.project,
        "aws:ResourceTag/Environment": cfg.environment}
    # The provider's default tags put exactly those tags on every resource.
    tags = prod.stack_json("10-network")["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert (tags["Project"], tags["Environment"]) == (cfg.project, cfg.environment)


# --- size -------------------------------------------------------------------------

def test_each_deploy_policy_fits_the_managed_policy_limit(app: SynthesizedApp) -> None:
    stack = app.stack_json(BOOTSTRAP)
    policies = deploy_policies(stack)
    base = app.config.github.deploy_policy_name
    assert [p["name"] for p in policies] == [base] + [f"{base}-{n}" for n in range(2, len(policies) + 1)]
    for policy in policies:
        size = policy_size(resolve(json_text(policy["policy"])).replace(f"arn:{PARTITION}:", "arn:aws-us-gov:"))
        assert size <= MANAGED_POLICY_MAX_CHARS, f"{policy['name']} is {size} characters"
    attached = {a["policy_arn"] for a in resources(stack, "aws_iam_role_policy_attachment").values()
                if a["role"].startswith("${aws_iam_role.github-deploy-access_role_")}
    assert len(attached) == len(policies) and all("_policy-" in arn for arn in attached)


def test_packing_splits_statements_that_do_not_fit_one_policy() -> None:
    big = [{"Sid": f"S{n}", "Effect": "Allow", "Action": "s3:GetBucketTagging",
            "Resource": [f"arn:aws:s3:::{'b' * 50}-{n}-{i}" for i in range(60)]} for n in range(3)]
    one = policy_size(policy_json(big[:1], compact=True))
    assert 2 * one > MANAGED_POLICY_MAX_CHARS >= one
    packs = pack_statements(big)
    assert packs == [[0], [1], [2]]
    assert pack_statements(big, limit=3 * one) == [[0, 1, 2]]
    with pytest.raises(ValueError, match="S0"):
        pack_statements(big, limit=one - 1)


# --- trust and the variants -------------------------------------------------------

def github_roles(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The apply role (construct `role`, the seed's address) and the plan role, by kind."""
    roles = resources(stack, "aws_iam_role")
    return {kind: roles[f"github-deploy-access_{logical}"] for kind, logical in
            (("apply", "role_CF39BDE0"), ("plan", "plan-role_F8C6CB10")) if f"github-deploy-access_{logical}" in roles}


def test_the_apply_role_is_trusted_only_by_the_prod_environment_through_github_oidc(prod: SynthesizedApp) -> None:
    stack = prod.stack_json(BOOTSTRAP)
    provider = only(stack, "aws_iam_openid_connect_provider")
    assert provider["url"] == GITHUB_OIDC_URL
    assert provider["client_id_list"] == [GITHUB_OIDC_AUDIENCE]
    role = github_roles(stack)["apply"]
    assert role["name"] == prod.config.github.deploy_role_name == "jsj-github-action-lgtm"
    (statement,) = json_value(role["assume_role_policy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].startswith("${aws_iam_openid_connect_provider.")
    assert statement["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                         "token.actions.githubusercontent.com:sub": "repo:jsj/lgtm-ecs:environment:prod"},
    }
    for attachment in resources(stack, "aws_iam_role_policy_attachment").values():
        assert attachment["role"].startswith("${aws_iam_role.")
    assert {"github_deploy_role_arn", "github_plan_role_arn"} <= set(stack["output"])


def test_the_plan_role_is_trusted_only_by_main_and_pull_requests(prod: SynthesizedApp) -> None:
    stack = prod.stack_json(BOOTSTRAP)
    role = github_roles(stack)["plan"]
    assert role["name"] == prod.config.github.plan_role_name == "jsj-github-action-lgtm-plan"
    (statement,) = json_value(role["assume_role_policy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].startswith("${aws_iam_openid_connect_provider.")
    assert statement["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                         "token.actions.githubusercontent.com:sub": ["repo:jsj/lgtm-ecs:ref:refs/heads/main",
                                                                     "repo:jsj/lgtm-ecs:pull_request"]},
    }
    plan_policy_ids = {logical_id for logical_id in resources(stack, "aws_iam_policy") if "_plan-policy-" in logical_id}
    attached = {a["policy_arn"] for a in resources(stack, "aws_iam_role_policy_attachment").values()
                if a["role"] == "${aws_iam_role.github-deploy-access_plan-role_F8C6CB10.name}"}
    assert plan_policy_ids and attached == {f"${{aws_iam_policy.{uid}.arn}}" for uid in plan_policy_ids}


def test_staging_roles_trust_the_staging_environment(staging: SynthesizedApp) -> None:
    roles = github_roles(staging.stack_json(BOOTSTRAP))
    (apply,) = json_value(roles["apply"]["assume_role_policy"])["Statement"]
    assert apply["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:jsj/lgtm-ecs:environment:staging"
    assert roles["plan"]["name"] == "jsj-github-action-lgtm-staging-plan"


def test_an_existing_oidc_provider_is_looked_up() -> None:
    stack = bootstrap_alone(create_oidc_provider=False)
    assert resources(stack, "aws_iam_openid_connect_provider") == {}
    (lookup,) = stack["data"]["aws_iam_openid_connect_provider"].values()
    assert lookup["url"] == GITHUB_OIDC_URL
    for role in github_roles(stack).values():
        (statement,) = json_value(role["assume_role_policy"])["Statement"]
        assert statement["Principal"]["Federated"].startswith("${data.aws_iam_openid_connect_provider.")


def test_an_existing_role_gets_the_policy_instead() -> None:
    stack = bootstrap_alone(existing_role_name="legacy-github-actions")
    assert resources(stack, "aws_iam_role") == {}  # single-role mode: no plan role either
    assert "github_plan_role_arn" not in stack["output"]
    assert resources(stack, "aws_iam_openid_connect_provider") == {}
    attachments = resources(stack, "aws_iam_role_policy_attachment").values()
    assert attachments and {a["role"] for a in attachments} == {"legacy-github-actions"}
    assert deploy_policies(stack)


def test_a_deploy_policy_never_gets_replaced_for_its_description(prod: SynthesizedApp) -> None:
    """Description is force-new on aws_iam_policy: a replacement detaches the policy from the role
    running the apply, and an imported hand-made policy has a description of its own."""
    policies = resources(prod.stack_json("00-bootstrap"), "aws_iam_policy")
    assert policies
    for name, policy in policies.items():
        assert policy["lifecycle"]["ignore_changes"] == ["description"], name
