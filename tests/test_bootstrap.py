"""00-bootstrap: the state bucket and lock table, hardened and protected."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SynthesizedApp, only, resources
from tests.helpers import json_value

STACK = "00-bootstrap"


def test_state_bucket_is_named_from_config_and_protected(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    bucket = only(stack, "aws_s3_bucket")
    assert bucket["bucket"] == "jsj-lgtm-terraform-state-prod"
    assert bucket["lifecycle"]["prevent_destroy"] is True


def test_state_bucket_versioning_encryption_and_public_access(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    assert only(stack, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    rule = only(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] in ("AES256", "aws:kms")
    block = only(stack, "aws_s3_bucket_public_access_block")
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                    "restrict_public_buckets"):
        assert block[setting] is True, setting


def test_state_bucket_policy_denies_non_tls(prod: SynthesizedApp) -> None:
    policy = json_value(only(prod.testing_synth(STACK), "aws_s3_bucket_policy")["policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "s3:*"


def test_noncurrent_state_versions_expire_after_configured_days(synthesized) -> None:
    from dataclasses import replace

    from config.common import default_state

    app = synthesized("prod", state=replace(default_state("prod"), noncurrent_version_expiration_days=45))
    rule = only(app.testing_synth(STACK), "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 45


def test_lock_table_matches_terraform_s3_backend_contract(prod: SynthesizedApp) -> None:
    table = only(prod.testing_synth(STACK), "aws_dynamodb_table")
    assert table["name"] == "jsj-lgtm-terraform-lock-prod"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]


def test_lock_table_is_hardened_and_protected(prod: SynthesizedApp) -> None:
    table = only(prod.testing_synth(STACK), "aws_dynamodb_table")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"]["prevent_destroy"] is True


def test_outputs_name_and_arn_of_bucket_and_table(prod: SynthesizedApp) -> None:
    outputs = prod.testing_synth(STACK)["output"]
    assert {"state_bucket_name", "state_bucket_arn", "lock_table_name", "lock_table_arn"} <= set(outputs)


def test_staging_gets_its_own_bucket_and_table(staging: SynthesizedApp) -> None:
    stack = staging.testing_synth(STACK)
    assert only(stack, "aws_s3_bucket")["bucket"] == "jsj-lgtm-terraform-state-staging"
    assert only(stack, "aws_dynamodb_table")["name"] == "jsj-lgtm-terraform-lock-staging"
    assert resources(stack, "aws_s3_bucket_policy")


LEGACY_BOOTSTRAP = Path(__file__).parent / "fixtures" / "legacy_hcl" / "00-bootstrap"


def hcl_resource_addresses(directory: Path) -> set[str]:
    """`type.name` of every `resource` block in a directory's .tf files (override files included)."""
    pattern = re.compile(r'^resource\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"', re.MULTILINE)
    return {f"{kind}.{name}" for path in directory.glob("*.tf") for kind, name in pattern.findall(path.read_text())}


def test_state_bucket_and_lock_table_keep_the_hcl_projects_addresses(prod: SynthesizedApp) -> None:
    """An HCL bootstrap state holds exactly these two addresses: both must still be declared,
    or Terraform destroys the bucket that holds every state and the table that locks them."""
    legacy = hcl_resource_addresses(LEGACY_BOOTSTRAP)
    assert legacy == {"aws_s3_bucket.terraform_state", "aws_dynamodb_table.terraform_lock"}
    stack = prod.stack_json(STACK)
    synthesized = {f"{kind}.{name}" for kind, named in stack["resource"].items() for name in named}
    assert legacy <= synthesized
    # Each keeps what made it the state bucket / lock table.
    assert stack["resource"]["aws_s3_bucket"]["terraform_state"]["bucket"] == "jsj-lgtm-terraform-state-prod"
    assert stack["resource"]["aws_dynamodb_table"]["terraform_lock"]["name"] == "jsj-lgtm-terraform-lock-prod"


def test_earlier_addresses_of_this_project_move_to_the_hcl_ones(prod: SynthesizedApp) -> None:
    moved = {(block["from"], block["to"]) for block in prod.stack_json(STACK)["moved"]}
    assert ("aws_s3_bucket.state-bucket_828F7150", "aws_s3_bucket.terraform_state") in moved
    assert ("aws_dynamodb_table.lock-table", "aws_dynamodb_table.terraform_lock") in moved


def test_the_hardening_resources_refer_to_the_state_bucket_by_its_hcl_address(prod: SynthesizedApp) -> None:
    stack = prod.stack_json(STACK)
    for kind in ("aws_s3_bucket_versioning", "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy",
                 "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
                 "aws_s3_bucket_ownership_controls"):
        assert only(stack, kind)["bucket"] == "${aws_s3_bucket.terraform_state.id}", kind


def test_staging_deploy_access_has_names_of_its_own_and_looks_up_the_oidc_provider(
        prod: SynthesizedApp, staging: SynthesizedApp) -> None:
    """Role, policy and OIDC provider are account-wide: staging in prod's account must not collide."""
    ours, theirs = staging.testing_synth(STACK), prod.testing_synth(STACK)
    role_names = {which: sorted(r["name"] for r in resources(stack, "aws_iam_role").values())
                  for which, stack in (("ours", ours), ("theirs", theirs))}
    assert role_names == {"ours": ["jsj-github-action-lgtm-staging", "jsj-github-action-lgtm-staging-plan"],
                          "theirs": ["jsj-github-action-lgtm", "jsj-github-action-lgtm-plan"]}
    staging_policies = {p["name"] for p in resources(ours, "aws_iam_policy").values()}
    assert staging_policies and all(name.startswith("jsj_github_action_LGTM_staging") for name in staging_policies)
    assert not staging_policies & {p["name"] for p in resources(theirs, "aws_iam_policy").values()}
    assert resources(theirs, "aws_iam_openid_connect_provider")
    assert not resources(ours, "aws_iam_openid_connect_provider")
    assert ours["data"]["aws_iam_openid_connect_provider"]
