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
from botocore.exceptions import ClientError

from config.common import load_config, selected_environment


def ensure_bootstrap_bucket(s3: "boto3.client", bucket: str, region: str, say=print) -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default=None, help="config environment (default: prod)")
    args = parser.parse_args(argv)
    cfg = load_config(selected_environment(args.environment))
    s3 = boto3.client("s3", region_name=cfg.aws_region)
    changed = ensure_bootstrap_bucket(s3, cfg.state.bootstrap_bucket, cfg.aws_region)
    print(f"bootstrap bucket {cfg.state.bootstrap_bucket}: "
          f"{', '.join(changed) + ' changed' if changed else 'already as required, nothing changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
