"""Each emulator patch fixes the moto 5.2.x gap it names (fast: in-process server, boto3).

Each test makes the call Terraform makes and asserts the answer Terraform needs;
without the patch the call fails (500) or reads back without the field.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.exceptions
import pytest

from scripts.emulator import PATCHES, EmulatorThread, start_in_thread
from tests.conftest import SynthesizedApp

REGION = "ap-northeast-2"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(emulator: EmulatorThread) -> Any:
    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=emulator.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return make


def test_every_patch_has_a_name_and_a_reason() -> None:
    assert len(PATCHES) == 11
    for patch in PATCHES:
        assert patch.name.startswith("patch_") and len(patch.reason) > 60, patch


def test_server_listens_on_localhost_only(emulator: EmulatorThread) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")


def _vpc_with_groups(ec2: Any) -> tuple[str, str, str]:
    vpc_id = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    first = ec2.create_security_group(GroupName="first", Description="first", VpcId=vpc_id)["GroupId"]
    second = ec2.create_security_group(GroupName="second", Description="second", VpcId=vpc_id)["GroupId"]
    return vpc_id, first, second


def test_concurrent_rule_changes_on_one_group_all_land(client: Any) -> None:
    """Terraform creates a group's rules in parallel; none may be lost or doubled."""
    from concurrent.futures import ThreadPoolExecutor

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    assert hasattr(DomainDispatcherApplication.__call__, "__wrapped__"), "requests are not serialized"
    ec2 = client("ec2")
    _, group, _ = _vpc_with_groups(ec2)
    ports = range(20000, 20040)

    def authorize(port: int) -> None:
        client("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": f"port {port}"}]}])

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(authorize, ports))
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    found = sorted(r["FromPort"] for r in rules["SecurityGroupRules"] if not r["IsEgress"])
    assert found == list(ports)


def test_security_group_rule_referencing_a_group_keeps_its_description(client: Any) -> None:
    ec2 = client("ec2")
    _, first, second = _vpc_with_groups(ec2)
    created = ec2.authorize_security_group_ingress(GroupId=first, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 3000, "ToPort": 3000,
        "UserIdGroupPairs": [{"GroupId": second, "Description": "from the ALB"}]}])
    rule_id = created["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    (rule,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert rule["ReferencedGroupInfo"]["GroupId"] == second
    assert rule.get("Description") == "from the ALB"


def test_security_group_rule_to_a_prefix_list_keeps_its_description(client: Any) -> None:
    ec2 = client("ec2")
    _, first, _ = _vpc_with_groups(ec2)
    created = ec2.authorize_security_group_egress(GroupId=first, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "PrefixListIds": [{"PrefixListId": "pl-78a54011", "Description": "to S3"}]}])
    rule_id = created["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    (rule,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert rule.get("Description") == "to S3"


def test_delete_objects_removes_versions_and_delete_markers(client: Any) -> None:
    s3 = client("s3")
    bucket = "lgtm-patch-check"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="state", Body=b"{}")
    s3.delete_object(Bucket=bucket, Key="state")  # leaves a delete marker
    listing = s3.list_object_versions(Bucket=bucket)
    versions = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    assert len(versions) == 2
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": versions})
    assert len(answer["Deleted"]) == 2 and not answer.get("Errors")
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


def _service(client: Any, **extra: Any) -> dict[str, Any]:
    ec2, ecs = client("ec2"), client("ecs")
    vpc_id, group, _ = _vpc_with_groups(ec2)
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    cluster = ecs.create_cluster(clusterName=f"patch-check-{len(extra)}")["cluster"]["clusterName"]
    ecs.register_task_definition(family="patch-check", requiresCompatibilities=["FARGATE"],
                                 networkMode="awsvpc", cpu="256", memory="512",
                                 containerDefinitions=[{"name": "app", "image": "nginx"}])
    ecs.create_service(
        cluster=cluster, serviceName="app", taskDefinition="patch-check", desiredCount=1,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
        **extra)
    (service,) = ecs.describe_services(cluster=cluster, services=["app"])["services"]
    return service


def test_ecs_create_service_keeps_the_fields_moto_drops(client: Any) -> None:
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    deployment = {"maximumPercent": 100, "minimumHealthyPercent": 0,
                  "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    service = _service(
        client, capacityProviderStrategy=strategy, enableExecuteCommand=True,
        healthCheckGracePeriodSeconds=60, availabilityZoneRebalancing="DISABLED",
        deploymentConfiguration=deployment)
    assert service["capacityProviderStrategy"] == strategy
    assert "launchType" not in service  # capacity providers place it, AWS reports no launch type
    assert service["enableExecuteCommand"] is True
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["availabilityZoneRebalancing"] == "DISABLED"
    assert service["deploymentConfiguration"] == deployment


def test_ecs_service_with_a_launch_type_keeps_it(client: Any) -> None:
    service = _service(client, launchType="FARGATE")
    assert service["launchType"] == "FARGATE"
    assert service["enableExecuteCommand"] is False


def test_tls_only_bucket_policy_does_not_block_the_emulator(client: Any) -> None:
    s3 = client("s3")
    bucket = "lgtm-policy-check"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    s3.put_object(Bucket=bucket, Key="state", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="state")["Body"].read() == b"{}"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)


def test_unconditional_deny_in_a_bucket_policy_still_denies(client: Any) -> None:
    s3 = client("s3")
    bucket = "lgtm-policy-deny-check"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="state", Body=b"{}")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    with pytest.raises(botocore.exceptions.ClientError, match="403|AccessDenied|Forbidden"):
        s3.get_object(Bucket=bucket, Key="state")


def test_efs_backup_policy_can_be_put_and_read_back(client: Any) -> None:
    efs = client("efs")
    file_system = efs.create_file_system(CreationToken="patch-check", Encrypted=True)["FileSystemId"]
    answer = efs.put_backup_policy(FileSystemId=file_system, BackupPolicy={"Status": "ENABLED"})
    assert answer["BackupPolicy"]["Status"] == "ENABLED"
    assert efs.describe_backup_policy(FileSystemId=file_system)["BackupPolicy"]["Status"] == "ENABLED"
    efs.put_backup_policy(FileSystemId=file_system, BackupPolicy={"Status": "DISABLED"})
    assert efs.describe_backup_policy(FileSystemId=file_system)["BackupPolicy"]["Status"] == "DISABLED"
    efs.delete_file_system(FileSystemId=file_system)


def test_efs_file_system_policy_can_be_deleted(client: Any) -> None:
    efs = client("efs")
    file_system = efs.create_file_system(CreationToken="policy-check", Encrypted=True)["FileSystemId"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    efs.put_file_system_policy(FileSystemId=file_system, Policy=policy)
    assert json.loads(efs.describe_file_system_policy(FileSystemId=file_system)["Policy"]) == json.loads(policy)
    efs.delete_file_system_policy(FileSystemId=file_system)
    with pytest.raises(botocore.exceptions.ClientError, match="PolicyNotFound"):
        efs.describe_file_system_policy(FileSystemId=file_system)
    efs.delete_file_system(FileSystemId=file_system)


def test_update_table_turns_encryption_on_and_it_reads_back(client: Any) -> None:
    """00-bootstrap encrypts the HCL project's unencrypted lock table with UpdateTable."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(TableName="legacy-lock", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
    assert "SSEDescription" not in dynamodb.describe_table(TableName="legacy-lock")["Table"]
    dynamodb.update_table(TableName="legacy-lock", SSESpecification={"Enabled": True, "SSEType": "KMS"})
    described = dynamodb.describe_table(TableName="legacy-lock")["Table"]["SSEDescription"]
    assert described["Status"] == "ENABLED" and described["SSEType"] == "KMS"
    assert described["KMSMasterKeyArn"].startswith("arn:aws:kms:")
    dynamodb.update_table(TableName="legacy-lock", SSESpecification={"Enabled": False})
    assert "SSEDescription" not in dynamodb.describe_table(TableName="legacy-lock")["Table"]



@contextmanager
def attempt_of(service_client: Any, operation: str, invocation: str, attempt: int) -> Iterator[None]:
    """Calls of `operation` made inside carry the SDK's retry headers: one invocation, this attempt."""
    event = f"before-send.{service_client.meta.service_model.endpoint_prefix}.{operation}"

    def stamp(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = invocation
        request.headers["amz-sdk-request"] = f"attempt={attempt}; max=3"

    service_client.meta.events.register_first(event, stamp, unique_id=f"{invocation}-{attempt}")
    try:
        yield
    finally:
        service_client.meta.events.unregister(event, unique_id=f"{invocation}-{attempt}")


def test_a_retried_lock_put_succeeds_and_a_competing_one_still_fails(client: Any) -> None:
    """Terraform's lock PutItem, retried by the SDK after the emulator applied it, is not refused."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(TableName="lock-retry", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])

    def take_lock(lock_id: str) -> None:
        dynamodb.put_item(TableName="lock-retry", ConditionExpression="attribute_not_exists(LockID)",
                          Item={"LockID": {"S": "bucket/key"}, "Info": {"S": json.dumps({"ID": lock_id})}})

    with attempt_of(dynamodb, "PutItem", "lock-retry-1", 1):
        take_lock("first")
    with attempt_of(dynamodb, "PutItem", "lock-retry-1", 2):
        take_lock("first")  # the retry of a put already applied
    with pytest.raises(botocore.exceptions.ClientError, match="ConditionalCheckFailed"):
        take_lock("second")  # another holder's lock: refused, as on AWS
    stored = dynamodb.get_item(TableName="lock-retry", Key={"LockID": {"S": "bucket/key"}})["Item"]
    assert json.loads(stored["Info"]["S"]) == {"ID": "first"}


def test_a_retry_of_an_answered_call_gets_the_first_answer_again(client: Any) -> None:
    """An SDK retry (same invocation id, attempt 2) of a rule the emulator already created."""
    ec2 = client("ec2")
    group = ec2.create_security_group(GroupName="retry-check", Description="retry check")["GroupId"]
    permission = {"IpProtocol": "tcp", "FromPort": 3200, "ToPort": 3200, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}

    with attempt_of(ec2, "AuthorizeSecurityGroupIngress", "retry-check-1", 1):
        first = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    with attempt_of(ec2, "AuthorizeSecurityGroupIngress", "retry-check-1", 2):
        retried = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    assert retried["SecurityGroupRules"] == first["SecurityGroupRules"]
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidPermission.Duplicate"):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])  # a new call: refused

@contextmanager
def iam_user(client: Any, name: str, statements: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    """An IAM user holding exactly `statements`; yields its access key, removes it after."""
    iam = client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        yield key
    finally:
        iam.delete_user_policy(UserName=name, PolicyName="only")
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)


@contextmanager
def iam_enforced(emulator: EmulatorThread) -> Iterator[None]:
    """moto's switch (`/moto-api/reset-auth`): enforce IAM on every request inside the block."""
    def enforce(after: str) -> None:
        request = urllib.request.Request(f"{emulator.url}/moto-api/reset-auth", data=after.encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10).close()  # 127.0.0.1 only: the emulator's url

    enforce("0")
    try:
        yield
    finally:
        enforce("inf")


def as_user(emulator: EmulatorThread, service: str, key: dict[str, str], *, secret: str | None = None,
            access_key: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=emulator.url, region_name=REGION,
                        aws_access_key_id=access_key or key["AccessKeyId"],
                        aws_secret_access_key=secret or key["SecretAccessKey"])


def test_with_iam_enforced_s3_still_checks_the_key_and_the_policy_but_not_the_signature(
        emulator: EmulatorThread, client: Any) -> None:
    bucket = "patch-sigcheck"
    client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    allow_list = [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}]
    with iam_user(client, "sigcheck", allow_list) as key, iam_enforced(emulator):
        # EFS's signature moto recomputes wrongly even for boto3: the policy answers, not the signature.
        with pytest.raises(botocore.exceptions.ClientError, match="not authorized to perform"):
            as_user(emulator, "efs", key).describe_file_systems()
        # A signature moto computes differently (here: a wrong secret) no longer decides ...
        assert as_user(emulator, "s3", key, secret="not-the-secret").list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        # ... the policy still does, and so does the key.
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            as_user(emulator, "s3", key).put_object(Bucket=bucket, Key="x", Body=b"1")
        with pytest.raises(botocore.exceptions.ClientError, match="InvalidAccessKeyId"):
            as_user(emulator, "s3", key, secret="whatever",
                    access_key="AKIANOTAUSERKEY00000").list_objects_v2(Bucket=bucket)


def test_with_iam_enforced_a_scoped_allow_admits_a_call_moto_cannot_place(emulator: EmulatorThread,
                                                                            client: Any) -> None:
    client("dynamodb").create_table(
        TableName="patch-locks", KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    allow_get = [{"Effect": "Allow", "Action": ["dynamodb:GetItem"],
                  "Resource": f"arn:aws:dynamodb:{REGION}:123456789012:table/patch-locks"}]
    with iam_user(client, "scoped", allow_get) as key, iam_enforced(emulator):
        dynamodb = as_user(emulator, "dynamodb", key)
        assert "Item" not in dynamodb.get_item(TableName="patch-locks", Key={"LockID": {"S": "a"}})
        with pytest.raises(botocore.exceptions.ClientError, match="not authorized to perform: dynamodb:PutItem"):
            dynamodb.put_item(TableName="patch-locks", Item={"LockID": {"S": "a"}})  # the action still decides


def test_with_iam_enforced_head_bucket_is_authorized_as_list_bucket(emulator: EmulatorThread, client: Any) -> None:
    bucket = "patch-headbucket"
    client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    allow_list = [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}]
    with iam_user(client, "header", allow_list) as key, iam_enforced(emulator):
        s3 = as_user(emulator, "s3", key)
        s3.head_bucket(Bucket=bucket)  # s3:ListBucket is what AWS asks for
        with pytest.raises(botocore.exceptions.ClientError, match="403"):
            s3.head_bucket(Bucket="patch-other-bucket")  # still scoped to the granted bucket


# The provider's lifecycle wait (waitLifecycleConfigEquals, docs/emulator.md) polls
# GetBucketLifecycleConfiguration until the rules read back deep-equal the rules it sent, ten
# times in a row; a rule moto reads back differently makes every apply wait its 3-minute
# timeout and fail. These are the fields our synthesized rules use, in the S3 API's shape.
LIFECYCLE_RULE_FIELDS = {
    "id": lambda value: {"ID": value},
    "status": lambda value: {"Status": value},
    "filter": lambda value: {"Filter": {"Prefix": value[0]["prefix"]}},
    "abort_incomplete_multipart_upload": lambda value: {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": value[0]["days_after_initiation"]}},
    "noncurrent_version_expiration": lambda value: {
        "NoncurrentVersionExpiration": {"NoncurrentDays": value[0]["noncurrent_days"]}},
}


def lifecycle_rule_as_sent(rule: dict[str, Any]) -> dict[str, Any]:
    """A synthesized `rule` block as the provider puts it (an unknown field fails: extend the table)."""
    unknown = set(rule) - set(LIFECYCLE_RULE_FIELDS)
    assert not unknown, f"lifecycle rule fields this check does not translate yet: {sorted(unknown)}"
    sent: dict[str, Any] = {}
    for name, value in rule.items():
        sent.update(LIFECYCLE_RULE_FIELDS[name](value))
    return sent


def test_lifecycle_rules_read_back_exactly_as_the_stacks_write_them(client: Any, prod: SynthesizedApp) -> None:
    s3 = client("s3")
    configurations = [(stack_id, name, config)
                      for stack_id in ("00-bootstrap", "20-storage")
                      for name, config in prod.stack_json(stack_id)["resource"]
                      ["aws_s3_bucket_lifecycle_configuration"].items()]
    assert len(configurations) == 5, [name for _, name, _ in configurations]
    for index, (stack_id, name, config) in enumerate(configurations):
        bucket = f"lgtm-lifecycle-check-{index}"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        sent = [lifecycle_rule_as_sent(rule) for rule in config["rule"]]
        # The provider sends its default transition size explicitly (x-amz-transition-default-minimum-object-size).
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": sent},
            TransitionDefaultMinimumObjectSize="all_storage_classes_128K")
        read = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        assert read["Rules"] == sent, f"{stack_id} {name}: read back {read['Rules']}, sent {sent}"
        assert read["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K", stack_id
