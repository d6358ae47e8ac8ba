"""20-storage: one hardened bucket per object-storage service, EFS with per-service access points."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from components.storage import StorageStack
from config.common import load_config
from tests.conftest import SynthesizedApp, only, resources
from tests.helpers import json_value, synth_stack
from tests.references import resolve

STACK = "20-storage"
BACKENDS = ["loki", "mimir", "pyroscope", "tempo"]


@pytest.fixture(scope="module")
def storage(prod: SynthesizedApp) -> dict[str, Any]:
    return prod.testing_synth(STACK)


def bucket_ref(stack: dict[str, Any], bucket_name: str) -> str:
    """`${aws_s3_bucket.<id>.id}` of the bucket named `bucket_name`."""
    (logical_id,) = [k for k, b in resources(stack, "aws_s3_bucket").items() if b["bucket"] == bucket_name]
    return f"${{aws_s3_bucket.{logical_id}.id}}"


def for_bucket(stack: dict[str, Any], resource_type: str, bucket_name: str) -> dict[str, Any]:
    ref = bucket_ref(stack, bucket_name)
    (found,) = [r for r in resources(stack, resource_type).values() if r["bucket"] == ref]
    return found


def test_one_bucket_per_backend_named_from_config(storage: dict[str, Any], prod: SynthesizedApp) -> None:
    names = sorted(b["bucket"] for b in resources(storage, "aws_s3_bucket").values())
    assert names == [prod.config.data_bucket(s) for s in BACKENDS]
    assert names == [f"jsj-lgtm-{s}-prod" for s in BACKENDS]
    stack = prod.stacks[STACK]
    assert isinstance(stack, StorageStack) and sorted(stack.buckets) == BACKENDS


def test_buckets_follow_the_object_storage_setting_not_a_hard_coded_list() -> None:
    cfg = load_config()
    services = tuple(replace(s, object_storage=False) if s.name == "pyroscope" else s for s in cfg.services)
    storage = synth_stack(STACK, services=services)
    assert sorted(b["bucket"] for b in resources(storage, "aws_s3_bucket").values()) == \
        ["jsj-lgtm-loki-prod", "jsj-lgtm-mimir-prod", "jsj-lgtm-tempo-prod"]


@pytest.mark.parametrize("service", BACKENDS)
def test_each_bucket_is_encrypted_private_tls_only_and_versioned(storage: dict[str, Any], service: str) -> None:
    name = f"jsj-lgtm-{service}-prod"
    encryption = for_bucket(storage, "aws_s3_bucket_server_side_encryption_configuration", name)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    block = for_bucket(storage, "aws_s3_bucket_public_access_block", name)
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    policy = json_value(for_bucket(storage, "aws_s3_bucket_policy", name)["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    versioning = for_bucket(storage, "aws_s3_bucket_versioning", name)
    assert versioning["versioning_configuration"]["status"] == "Enabled"


@pytest.mark.parametrize("service", ["mimir", "loki", "pyroscope", "tempo"])
def test_lifecycle_cleans_up_but_never_expires_current_data(storage: dict[str, Any], prod: SynthesizedApp,
                                                            service: str) -> None:
    # Retention belongs to each backend's compactor (tests/test_durability.py): an object-age rule
    # would delete blocks and chunks under a live index.
    lifecycle = for_bucket(storage, "aws_s3_bucket_lifecycle_configuration", f"jsj-lgtm-{service}-prod")
    (rule,) = lifecycle["rule"]
    cfg = prod.config.storage
    assert rule["filter"] == [{"prefix": ""}] and rule["status"] == "Enabled"
    assert not rule.get("expiration")
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": cfg.noncurrent_version_expiration_days}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": cfg.abort_incomplete_multipart_days}]


def test_mimir_prefixes_are_distinct_and_do_not_overlap(prod: SynthesizedApp) -> None:
    prefixes = list(prod.config.storage.mimir_prefixes.as_dict().values())
    assert sorted(prod.config.storage.mimir_prefixes.as_dict()) == ["alertmanager", "blocks", "ruler"]
    assert len(set(prefixes)) == 3
    overlapping = [(a, b) for i, a in enumerate(prefixes) for j, b in enumerate(prefixes)
                   if i != j and a.startswith(b)]
    assert overlapping == []


def test_efs_is_encrypted_with_the_configured_lifecycle(storage: dict[str, Any], prod: SynthesizedApp) -> None:
    efs = only(storage, "aws_efs_file_system")
    assert efs["encrypted"] is True
    assert efs["lifecycle_policy"] == [{"transition_to_ia": prod.config.storage.efs_transition_to_ia}]
    assert only(storage, "aws_efs_backup_policy")["backup_policy"] == {"status": "ENABLED"}


def test_efs_policy_refuses_clients_without_tls(storage: dict[str, Any]) -> None:
    policy = json_value(only(storage, "aws_efs_file_system_policy")["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == "${aws_efs_file_system.file-system.arn}"


def test_a_mount_target_in_every_private_subnet_behind_the_efs_group(prod: SynthesizedApp) -> None:
    storage = prod.stack_json(STACK)
    network = prod.stack_json("10-network")
    mount_targets = resources(storage, "aws_efs_mount_target").values()
    subnets = sorted(resolve(m["subnet_id"], prod.stack_json) for m in mount_targets)
    assert subnets == network["output"]["private_subnet_ids"]["value"]
    assert all(m["security_groups"] == ["${aws_security_group.efs-security-group.id}"] for m in mount_targets)
    group = resources(storage, "aws_security_group")["efs-security-group"]
    assert resolve(group["vpc_id"], prod.stack_json) == "${aws_vpc.vpc.id}"
    # Rules come from 30-security-groups only; an inline block here would fight them.
    assert "ingress" not in group and "egress" not in group


def test_grafana_access_point_has_its_own_user_and_root(storage: dict[str, Any], prod: SynthesizedApp) -> None:
    access_points = resources(storage, "aws_efs_access_point")
    assert sorted(access_points) == sorted(f"{s.name}-access-point" for s in prod.config.efs_services)
    grafana = access_points["grafana-access-point"]
    assert grafana["posix_user"] == {"uid": 472, "gid": 472}
    assert grafana["root_directory"] == {
        "path": "/grafana",
        "creation_info": {"owner_uid": 472, "owner_gid": 472, "permissions": "0750"}}
    assert prod.config.service("grafana").efs.container_path == "/var/lib/grafana"  # type: ignore[union-attr]
    stack = prod.stacks[STACK]
    assert isinstance(stack, StorageStack)
    assert sorted(stack.access_point_ids) == sorted(stack.access_point_arns) == ["grafana"]
    assert isinstance(stack.efs_security_group_id, str) and isinstance(stack.file_system_arn, str)


def test_outputs_name_buckets_and_efs(storage: dict[str, Any]) -> None:
    outputs = storage["output"]
    for service in BACKENDS:
        assert outputs[f"{service}_bucket"]["value"].startswith("${aws_s3_bucket.")
    assert outputs["file_system_id"]["value"] == "${aws_efs_file_system.file-system.id}"
    assert outputs["efs_security_group_id"]["value"] == "${aws_security_group.efs-security-group.id}"
