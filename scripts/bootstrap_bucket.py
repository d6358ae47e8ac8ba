"""Create the bootstrap state bucket (the seed's one manual step), idempotently.

`make bootstrap-bucket` runs this with the caller's AWS credentials. It creates
the bucket named in config (`state.bootstrap_bucket`) if missing, then makes sure
it is versioned, encrypted and private, and prints what it did. The environment
decides where it goes (AWS_PROFILE / AWS_REGION / AWS_ENDPOINT_URL for the emulator).
"""

from __future__ import annotations

import argparse
import sys

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from config.common import load_config, project_context_environment, selected_environment
from config.validation import ConfigError

EXIT_FAILED = 1
EXIT_CONFIG = 2
CREDENTIALS_HINT = ("set AWS credentials with administrator rights for this account: AWS_PROFILE (after "
                    "`aws sso login` or `aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(and AWS_SESSION_TOKEN for temporary ones), then run make bootstrap-bucket again")


def ensure_bootstrap_bucket(s3: boto3.client, bucket: str, region: str, say=print) -> list[str]:
    """Bring `bucket` to the hardened state; return what was changed."""
    changed: list[str] = []
    try:
        s3.head_bucket(Bucket=bucket)
        say(f"bucket {bucket} exists")
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
        create_args: dict[str, object] = {"Bucket": bucket}
        if region != "us-east-1":
            create_args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create_args)
        changed.append("created")
        say(f"created bucket {bucket} in {region}")

    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changed.append("versioning")
        say("  turned versioning on")

    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": True,
        }]},
    )
    say("  default encryption: AES256")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    say("  public access: all four blocks on")
    return changed


def failure_message(error: Exception, bucket: str) -> str:
    """One line an operator can act on, for what boto3 raises without credentials, network or rights."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return f"no usable AWS credentials ({error}): {CREDENTIALS_HINT}"
    if isinstance(error, NoRegionError):
        return f"no AWS region: set AWS_REGION ({error})"
    if isinstance(error, EndpointConnectionError):
        return f"could not reach S3 ({error}): check the network, AWS_REGION and AWS_ENDPOINT_URL"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "?")
        message = error.response.get("Error", {}).get("Message", "")
        operation = error.operation_name
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                    "UnrecognizedClientException"):
            return f"AWS refused the credentials ({code}: {message}): {CREDENTIALS_HINT}"
        if code in ("403", "AccessDenied", "Forbidden"):
            return (f"{operation} on bucket {bucket} was denied ({code}): the credentials lack s3 rights on it, "
                    "or another AWS account owns that name (bucket names are global): use an administrator "
                    "of this account, or change state.bootstrap_bucket")
        if code in ("BucketAlreadyExists",):
            return (f"bucket {bucket} belongs to another AWS account (bucket names are global): "
                    "change state.bootstrap_bucket (load_config(state=...), or the name in config/names.py)")
        return f"{operation} on bucket {bucket} failed ({code}: {message})"
    return f"{type(error).__name__}: {error}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default=None, help="config environment (default: prod)")
    args = parser.parse_args(argv)
    try:
        context = args.environment if args.environment is not None else project_context_environment()
        source = "--environment" if args.environment is not None else None
        environment = selected_environment(context, **({"context_source": source} if source else {}))
        cfg = load_config(environment)
    except ConfigError as error:
        print(f"bootstrap bucket not created: {error}", file=sys.stderr)
        return EXIT_CONFIG
    bucket = cfg.state.bootstrap_bucket
    try:
        s3 = boto3.client("s3", region_name=cfg.aws_region)
        changed = ensure_bootstrap_bucket(s3, bucket, cfg.aws_region)
    except (BotoCoreError, ClientError) as error:
        print(f"bootstrap bucket {bucket} not created: {failure_message(error, bucket)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"bootstrap bucket {bucket}: "
          f"{', '.join(changed) + ' changed' if changed else 'already as required, nothing changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
