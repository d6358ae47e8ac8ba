"""40-iam: the execution role and least-privilege task roles, checked statement by statement."""

from __future__ import annotations

from typing import Any

import pytest

from components.iam import IamStack
from tests.conftest import SynthesizedApp, resources
from tests.helpers import as_list, json_value
from tests.references import referenced_resource

STACK = "40-iam"
SERVICES = ["alloy", "grafana", "loki", "mimir", "pyroscope", "tempo"]
BACKENDS = ["loki", "mimir", "pyroscope", "tempo"]
ACCOUNT = "${data.aws_caller_identity.account.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"
# Actions AWS only grants on "*" (no resource-level permissions), each read-only.
STAR_RESOURCE_ALLOWED = {"ecr:GetAuthorizationToken", "ecs:ListTasks"}


@pytest.fixture(scope="module")
def iam(prod: SynthesizedApp) -> dict[str, Any]:
    return prod.testing_synth(STACK)


def role_name(iam: dict[str, Any], logical_id: str) -> str:
    return resources(iam, "aws_iam_role")[logical_id]["name"]


def policy_of(iam: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Statements of the inline policy attached to one role (parsed JSON)."""
    found = [json_value(p["policy"]) for p in resources(iam, "aws_iam_role_policy").values()
             if p["role"] == f"${{aws_iam_role.{role_logical_id}.id}}"]
    assert len(found) == 1, f"{role_logical_id}: {len(found)} inline policies"
    assert found[0]["Version"] == "2012-10-17"
    return found[0]["Statement"]



def statement(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    (found,) = [s for s in statements if s.get("Sid") == sid]
    return found


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in as_list(s["Action"])}


def test_one_execution_role_and_one_task_role_per_service(iam: dict[str, Any], prod: SynthesizedApp) -> None:
    roles = resources(iam, "aws_iam_role")
    assert sorted(roles) == sorted(["execution-role", *(f"{s}-task-role" for s in SERVICES)])
    assert roles["execution-role"]["name"] == "lgtm-ecs-prod-task-execution"
    assert roles["grafana-task-role"]["name"] == "lgtm-ecs-prod-grafana-task"
    stack = prod.stacks[STACK]
    assert isinstance(stack, IamStack)
    assert sorted(stack.task_role_arns) == SERVICES
    assert isinstance(stack.execution_role_arn, str)
    assert sorted(iam["output"]["task_role_arns"]["value"]) == SERVICES


def test_roles_trust_ecs_tasks_of_this_account_only(iam: dict[str, Any]) -> None:
    for logical_id, role in resources(iam, "aws_iam_role").items():
        (trust,) = json_value(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, logical_id
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:{PARTITION}:ecs:ap-northeast-2:{ACCOUNT}:*"


def test_no_statement_grants_a_data_action_on_every_resource(iam: dict[str, Any]) -> None:
    every = [(name, s) for name, p in resources(iam, "aws_iam_role_policy").items()
             for s in json_value(p["policy"])["Statement"]]
    assert len(every) >= 12
    for name, s in every:
        assert s["Effect"] == "Allow", name
        actions = as_list(s["Action"])
        assert not any(a == "*" or a.endswith(":*") for a in actions), (name, actions)
        for resource in as_list(s["Resource"]):
            if resource == "*":
                assert set(actions) <= STAR_RESOURCE_ALLOWED, (name, actions)
            # Wildcards only below a scoped ARN, never in place of the account or bucket.
            assert not resource.startswith("arn:aws:s3:::*") and ":*:" not in resource, (name, resource)
    # ListTasks on "*" is pinned to this project's cluster by condition.
    (list_tasks,) = [s for _, s in every if s["Action"] == "ecs:ListTasks"]
    assert list_tasks["Condition"] == {"ArnEquals": {
        "ecs:cluster": f"arn:{PARTITION}:ecs:ap-northeast-2:{ACCOUNT}:cluster/lgtm-ecs-prod-cluster"}}


def test_execution_role_writes_only_this_projects_log_groups(iam: dict[str, Any], prod: SynthesizedApp) -> None:
    logs = statement(policy_of(iam, "execution-role"), "WriteThisProjectsLogs")
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    prefix = f"arn:{PARTITION}:logs:ap-northeast-2:{ACCOUNT}:log-group:"
    expected = sorted(f"{prefix}{prod.config.log_group(s)}{suffix}" for s in SERVICES
                      for suffix in ("", ":log-stream:*"))
    assert sorted(logs["Resource"]) == expected
    assert prod.config.log_group("grafana") == "/ecs/lgtm-ecs-prod/grafana"


def test_execution_role_reads_only_this_projects_parameters_and_secrets(iam: dict[str, Any]) -> None:
    statements = policy_of(iam, "execution-role")
    ssm = statement(statements, "ReadThisProjectsParameters")
    assert ssm["Action"] == "ssm:GetParameters"
    assert ssm["Resource"] == f"arn:{PARTITION}:ssm:ap-northeast-2:{ACCOUNT}:parameter/lgtm-ecs/prod/*"
    secrets = statement(statements, "ReadThisProjectsSecrets")
    assert secrets["Action"] == "secretsmanager:GetSecretValue"
    assert secrets["Resource"] == f"arn:{PARTITION}:secretsmanager:ap-northeast-2:{ACCOUNT}:secret:/lgtm-ecs/prod/*"
    pull = statement(statements, "EcrPullFromThisAccount")
    assert pull["Resource"] == f"arn:{PARTITION}:ecr:ap-northeast-2:{ACCOUNT}:repository/*"
    assert actions_of(statements) == {
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents", "ssm:GetParameters",
        "secretsmanager:GetSecretValue"}


def bucket_named_by(reference: str, prod: SynthesizedApp) -> str:
    """The bucket name behind a 40-iam bucket ARN reference (followed into 20-storage)."""
    resource_type, body, attribute = referenced_resource(reference, prod.stack_json, "20-storage")
    assert (resource_type, attribute) == ("aws_s3_bucket", "arn")
    return body["bucket"]


@pytest.mark.parametrize("service", BACKENDS)
def test_backend_task_role_reaches_only_its_own_bucket(iam: dict[str, Any], prod: SynthesizedApp,
                                                       service: str) -> None:
    statements = policy_of(iam, f"{service}-task-role")
    listing = statement(statements, "ListOwnBucket")
    assert bucket_named_by(listing["Resource"], prod) == prod.config.data_bucket(service)
    objects = statement(statements, "ReadWriteOwnObjects")
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= set(objects["Action"])
    for resource in as_list(objects["Resource"]):
        arn, _, key_pattern = resource.partition("}/")
        assert bucket_named_by(arn + "}", prod) == prod.config.data_bucket(service)
        assert key_pattern.endswith("*")
    # Nothing but S3 on its own bucket.
    assert {a.split(":")[0] for a in actions_of(statements)} == {"s3"}
    assert len(statements) == 2


def test_mimir_objects_only_under_its_three_prefixes(iam: dict[str, Any], prod: SynthesizedApp) -> None:
    objects = statement(policy_of(iam, "mimir-task-role"), "ReadWriteOwnObjects")
    key_patterns = sorted(r.partition("}/")[2] for r in objects["Resource"])
    prefixes = prod.config.storage.mimir_prefixes
    assert key_patterns == sorted(f"{p}/*" for p in (prefixes.blocks, prefixes.ruler, prefixes.alertmanager))
    assert key_patterns == ["alertmanager/*", "blocks/*", "ruler/*"]


def test_tempo_may_tag_its_objects(iam: dict[str, Any]) -> None:
    objects = statement(policy_of(iam, "tempo-task-role"), "ReadWriteOwnObjects")
    assert {"s3:GetObjectTagging", "s3:PutObjectTagging"} <= set(objects["Action"])


def test_grafana_mounts_only_its_access_point(iam: dict[str, Any], prod: SynthesizedApp) -> None:
    (mount,) = policy_of(iam, "grafana-task-role")
    assert sorted(mount["Action"]) == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resource_type, _, attribute = referenced_resource(mount["Resource"], prod.stack_json, "20-storage")
    assert (resource_type, attribute) == ("aws_efs_file_system", "arn")
    access_point = mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
    resource_type, body, attribute = referenced_resource(access_point, prod.stack_json, "20-storage")
    assert (resource_type, attribute) == ("aws_efs_access_point", "arn")
    assert body["root_directory"]["path"] == "/grafana"


def test_alloy_gets_read_only_task_discovery_and_nothing_else(iam: dict[str, Any]) -> None:
    statements = policy_of(iam, "alloy-task-role")
    assert actions_of(statements) == {"ecs:ListTasks", "ecs:DescribeTasks"}
    describe = statement(statements, "DescribeTasksInThisCluster")
    assert describe["Resource"] == f"arn:{PARTITION}:ecs:ap-northeast-2:{ACCOUNT}:task/lgtm-ecs-prod-cluster/*"


def test_customer_managed_keys_are_usable_only_where_config_names_them(
        iam: dict[str, Any], synthesized: Any) -> None:
    """Prod names no KMS key: no kms action anywhere. The variant's keys: data keys for each bucket
    owner (through S3, for its own bucket), decrypt for the execution role (through SSM)."""
    from tests.variants import KMS_KEY_ARN, VARIANT

    prod_policies = [json_value(p["policy"]) for p in resources(iam, "aws_iam_role_policy").values()]
    assert not {a for p in prod_policies for a in actions_of(p["Statement"]) if a.startswith("kms:")}
    variant = synthesized("prod", **VARIANT)
    variant_iam = variant.testing_synth(STACK)
    execution = statement(policy_of(variant_iam, "execution-role"), "DecryptThisProjectsSecrets")
    assert (execution["Action"], execution["Resource"]) == ("kms:Decrypt", KMS_KEY_ARN)
    assert execution["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.ap-northeast-2.amazonaws.com"}}
    for svc in variant.config.services:
        statements = policy_of(variant_iam, f"{svc.name}-task-role") if svc.object_storage or svc.efs or \
            svc.name == "alloy" else []
        kms = [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))]
        if not svc.object_storage:
            assert kms == [], svc.name
            continue
        (data_key,) = kms
        assert sorted(as_list(data_key["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert data_key["Resource"] == KMS_KEY_ARN
        bucket_arn = statement(statements, "ListOwnBucket")["Resource"]
        assert data_key["Condition"]["StringEquals"] == {"kms:ViaService": "s3.ap-northeast-2.amazonaws.com"}
        assert data_key["Condition"]["ArnLike"] == {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]}
