"""`StateConfig.backend = "hcp"`: every stack keeps its state in an HCP Terraform workspace.

Each stack synthesizes a `cloud` block (organization, workspace `lgtm-ecs-<env>-<stack>`, project),
cdktf's cross-stack references become `terraform_remote_state` data sources of backend "remote"
on the producer's workspace, and 00-bootstrap adds HCP Terraform's OIDC provider and a role per
run phase. The s3 default stays byte for byte what it was. `terraform validate` of the hcp variant
runs in tests/test_terraform_validate.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from components.github_deploy_access import HCP_OIDC_AUDIENCE
from components.registry import STACK_IDS
from config.common import default_state
from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value
from tests.variants import HCP_ORGANIZATION, HCP_PROJECT, HCP_VARIANT

BOOTSTRAP = "00-bootstrap"


@pytest.fixture(scope="module")
def hcp(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", **HCP_VARIANT)


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_every_stack_has_a_cloud_block_on_its_own_workspace(hcp: SynthesizedApp, stack_id: str) -> None:
    terraform = hcp.stack_json(stack_id)["terraform"]
    assert "backend" not in terraform
    assert terraform["cloud"] == {"hostname": "app.terraform.io", "organization": HCP_ORGANIZATION,
                                  "workspaces": {"name": f"lgtm-ecs-prod-{stack_id}", "project": HCP_PROJECT}}


def test_cross_stack_references_read_the_producers_workspace(hcp: SynthesizedApp) -> None:
    read = {}
    for stack_id in STACK_IDS:
        for name, remote in hcp.stack_json(stack_id).get("data", {}).get("terraform_remote_state", {}).items():
            assert remote["backend"] == "remote", (stack_id, name)
            assert remote["config"]["organization"] == HCP_ORGANIZATION
            assert remote["config"]["hostname"] == "app.terraform.io"
            read.setdefault(stack_id, set()).add(remote["config"]["workspaces"]["name"])
    assert read["60-ecs"] == {f"lgtm-ecs-prod-{s}" for s in ("10-network", "20-storage", "30-security-groups",
                                                            "40-iam", "50-alb")}
    assert read["20-storage"] == {"lgtm-ecs-prod-10-network"}


def hcp_roles(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    roles = resources(stack, "aws_iam_role")
    return {phase: next(r for logical_id, r in roles.items() if f"_hcp-{phase}-role_" in logical_id)
            for phase in ("plan", "apply")}


def test_bootstrap_trusts_hcp_terraform_per_run_phase(hcp: SynthesizedApp) -> None:
    stack = hcp.stack_json(BOOTSTRAP)
    providers = {p["url"]: p for p in resources(stack, "aws_iam_openid_connect_provider").values()}
    assert providers["https://app.terraform.io"]["client_id_list"] == [HCP_OIDC_AUDIENCE] == ["aws.workload.identity"]
    roles = hcp_roles(stack)
    assert {phase: role["name"] for phase, role in roles.items()} == {
        "plan": "jsj-github-action-lgtm-plan-hcp", "apply": "jsj-github-action-lgtm-hcp"}
    for phase, role in roles.items():
        (statement,) = json_value(role["assume_role_policy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"].startswith(
            "${aws_iam_openid_connect_provider.github-deploy-access_hcp-oidc-provider_")
        assert statement["Condition"] == {
            "StringEquals": {"app.terraform.io:aud": "aws.workload.identity"},
            "StringLike": {"app.terraform.io:sub": f"organization:{HCP_ORGANIZATION}:project:{HCP_PROJECT}:"
                                                   f"workspace:lgtm-ecs-prod-*:run_phase:{phase}"},
        }
    attachments = resources(stack, "aws_iam_role_policy_attachment").values()

    def attached(phase: str) -> set[str]:
        return {a["policy_arn"] for a in attachments if f"_hcp-{phase}-role_" in a["role"]}
    assert attached("plan") and all("_plan-policy-" in arn for arn in attached("plan"))
    assert attached("apply") and all("_policy-" in arn and "_plan-" not in arn for arn in attached("apply"))
    assert {"hcp_plan_role_arn", "hcp_apply_role_arn"} <= set(stack["output"])


def test_the_apply_policy_may_manage_the_hcp_roles_and_provider(hcp: SynthesizedApp) -> None:
    documents = [json_value(p["policy"]) for p in resources(hcp.stack_json(BOOTSTRAP), "aws_iam_policy").values()]
    text = json.dumps(documents)
    assert "role/jsj-github-action-lgtm-hcp" in text and "role/jsj-github-action-lgtm-plan-hcp" in text
    assert "oidc-provider/app.terraform.io" in text


def test_the_s3_default_is_unchanged_by_the_hcp_settings(synthesized: Callable[..., SynthesizedApp],
                                                        prod: SynthesizedApp) -> None:
    """hcp_* fields only count with backend "hcp": prod's s3 JSON stays identical with them set."""
    state = replace(default_state("prod"), hcp_organization=HCP_ORGANIZATION, hcp_project=HCP_PROJECT)
    with_fields = synthesized("prod", state=state)
    for stack_id in STACK_IDS:
        assert with_fields.stack_json(stack_id) == prod.stack_json(stack_id), stack_id
        assert "cloud" not in prod.stack_json(stack_id)["terraform"]
    assert not any("hcp" in logical_id for logical_id in resources(prod.stack_json(BOOTSTRAP), "aws_iam_role"))
