"""Objects that exist in AWS but in no state: found by name with read-only describe calls.

`make adopt` asks, for each resource of the stack that its state does not hold, whether
AWS already has an object of that name (the hand-made deploy policy, an OIDC provider
or role made earlier, a bucket whose state was lost, a security group another legacy
stack still holds). Found objects become `import` blocks; creating them would fail
(EntityAlreadyExists, BucketAlreadyOwnedByYou, InvalidGroup.Duplicate).

Only List/Get/Describe/Head calls are made. `ClientFactory` gives a boto3 client per
service; the default uses the caller's AWS environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ClientFactory = Callable[[str], Any]


class LookupFailed(RuntimeError):
    """A describe call failed for another reason than "not found" (credentials, permissions)."""


@dataclass(frozen=True)
class Found:
    import_id: str
    how: str
    """What was asked and what answered, for the reviewer (e.g. `iam ListPolicies: jsj_github_action_LGTM`)."""


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _call(what: str, call: Callable[[], Any], *, absent: tuple[str, ...]) -> Any | None:
    """Run one read-only call; None when AWS says the object does not exist."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as error:
        if _error_code(error) in absent:
            return None
        raise LookupFailed(f"{what} failed: {_error_code(error) or error} (adopt needs read-only access: "
                           "iam:ListPolicies, iam:GetRole, iam:ListOpenIDConnectProviders, s3:ListBucket, "
                           "dynamodb:DescribeTable, ec2:DescribeSecurityGroups)") from None
    except BotoCoreError as error:
        raise LookupFailed(f"{what} failed: {error}") from None


def find_policy(clients: ClientFactory, name: str) -> Found | None:
    iam = clients("iam")
    pages = _call(f"iam ListPolicies (looking for {name})",
                  lambda: list(iam.get_paginator("list_policies").paginate(Scope="Local")), absent=())
    for page in pages or []:
        for policy in page.get("Policies", []):
            if policy["PolicyName"] == name:
                return Found(policy["Arn"], f"iam ListPolicies: customer-managed policy {name}")
    return None


def find_role(clients: ClientFactory, name: str) -> Found | None:
    iam = clients("iam")
    role = _call(f"iam GetRole {name}", lambda: iam.get_role(RoleName=name), absent=("NoSuchEntity",))
    return Found(name, f"iam GetRole: role {name}") if role else None


def find_oidc_provider(clients: ClientFactory, url: str) -> Found | None:
    iam = clients("iam")
    host = url.removeprefix("https://").rstrip("/")
    listed = _call("iam ListOpenIDConnectProviders", lambda: iam.list_open_id_connect_providers(), absent=())
    for provider in (listed or {}).get("OpenIDConnectProviderList", []):
        if provider["Arn"].endswith(f":oidc-provider/{host}"):
            return Found(provider["Arn"], f"iam ListOpenIDConnectProviders: provider for {host}")
    return None


def find_bucket(clients: ClientFactory, name: str) -> Found | None:
    s3 = clients("s3")
    head = _call(f"s3 HeadBucket {name}", lambda: s3.head_bucket(Bucket=name), absent=("404", "NoSuchBucket"))
    return Found(name, f"s3 HeadBucket: bucket {name}") if head is not None else None


def find_table(clients: ClientFactory, name: str) -> Found | None:
    dynamodb = clients("dynamodb")
    table = _call(f"dynamodb DescribeTable {name}", lambda: dynamodb.describe_table(TableName=name),
                  absent=("ResourceNotFoundException",))
    return Found(name, f"dynamodb DescribeTable: table {name}") if table else None


def find_security_group(clients: ClientFactory, name: str) -> Found | None:
    ec2 = clients("ec2")
    answer = _call(f"ec2 DescribeSecurityGroups group-name={name}", lambda: ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]), absent=())
    groups = (answer or {}).get("SecurityGroups", [])
    if len(groups) > 1:
        raise LookupFailed(f"ec2 DescribeSecurityGroups: {len(groups)} groups are named {name} "
                           f"({', '.join(g['GroupId'] for g in groups)}); add the right one to the adoption "
                           "file by hand")
    return Found(groups[0]["GroupId"], f"ec2 DescribeSecurityGroups: group {name} in {groups[0]['VpcId']}") \
        if groups else None


FINDERS: Mapping[str, tuple[str, Callable[[ClientFactory, str], Found | None]]] = {
    "aws_iam_policy": ("name", find_policy),
    "aws_iam_role": ("name", find_role),
    "aws_iam_openid_connect_provider": ("url", find_oidc_provider),
    "aws_s3_bucket": ("bucket", find_bucket),
    "aws_dynamodb_table": ("name", find_table),
    "aws_security_group": ("name", find_security_group),
}
"""Type -> (the attribute that names the object, the lookup)."""


def boto_clients(env: Mapping[str, str], region: str) -> ClientFactory:
    """boto3 clients with the credentials and endpoint of `env` (the caller's, or the emulator's)."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"), aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"), profile_name=env.get("AWS_PROFILE"), region_name=region)
    endpoint = env.get("AWS_ENDPOINT_URL")
    return lambda service: session.client(service, endpoint_url=endpoint)
