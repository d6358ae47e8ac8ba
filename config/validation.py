"""Rules the settings (`config.settings`) must satisfy before any stack reads them.

Each check names the field (as a dotted path from the config root), the rule and
the offending value, so a bad setting stops synth with a message a platform
engineer can act on. All violations are collected and raised as one error.

Two passes (`violations`):

1. Shape (`shape_violations`), generic over the dataclasses' annotations: a bool is a
   bool (the string "false" would count as true), an int is an int and not a bool, a
   tuple is a tuple of its element type, tags are a mapping of str to str, an optional
   value is None or its type. No string has whitespace at either end or a control
   character (newline, tab) anywhere: a stray one is a typo that would reach AWS or a
   rendered config unnoticed. A wrong type stops here: the value rules would misread it.
2. Values (`RULE_GROUPS`): each setting against AWS's and the services' rules, then
   settings against each other and against the other environments in `ENVIRONMENTS`.

Every pattern is matched with `re.fullmatch` (`^...$` with `re.match` lets a trailing
newline through). AWS facts are cited where they are defined; docs/configuration.md
lists the rules.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import ipaddress
import re
import types
import typing
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from config.names import (
    COLLECTOR_KIND,
    CORE_SERVICES,
    DEFAULT_TAG_KEYS,
    ENVIRONMENTS,
    RESOURCE_TAG_KEYS,
    STATE_BACKENDS,
    environment_names,
)
from config.service_kinds import CONFIG_MOUNT, KINDS, TMP_DIR

if TYPE_CHECKING:
    from config.settings import ServiceConfig, Settings, Target


class ConfigError(ValueError):
    """One or more settings break a rule."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"invalid config ({len(violations)} problem(s)):\n{lines}")


class Violation:
    def __init__(self, field: str, rule: str, value: object) -> None:
        self.field, self.rule, self.value = field, rule, value

    def __str__(self) -> str:
        return f"{self.field}: {self.rule} (got {self.value!r})"


# --- limits and patterns, from the AWS and Grafana documentation -----------------------

S3_BUCKET_RULE = ("S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
                  "begin and end with a letter or digit, have no '..', are not an IP address, "
                  "and do not start with 'xn--' or 'sthree-' or end with '-s3alias' or '--ol-s3'")
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
DYNAMODB_TABLE_RULE = "DynamoDB table names are 3-255 characters of letters, digits, '_', '-' and '.'"
_DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
REGION_RULE = "AWS regions look like 'ap-northeast-2' or 'us-gov-west-1'"
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
# Mimir/Loki/Tempo/Pyroscope share dskit's tenant rules: at most 150 characters
# from this set, and not '.' or '..'. Pipes are excluded: they join tenants.
TENANT_RULE = ("tenant IDs are 1-150 characters of letters, digits and !-_.*'(), "
               "and are not '.', '..' or '__mimir_cluster'")
_TENANT = re.compile(r"[A-Za-z0-9!\-_.*'()]{1,150}")
ENVIRONMENT_RULE = "environment names are 2-16 characters: a lowercase letter, then lowercase letters, digits or '-'"
_ENVIRONMENT = re.compile(r"[a-z][a-z0-9-]{1,15}")
PROJECT_RULE = "project names are 2-32 characters: a lowercase letter, then lowercase letters, digits or '-'"
_PROJECT = re.compile(r"[a-z][a-z0-9-]{1,31}")
ELB_NAME_RULE = ("ALB and target group names are 1-32 characters of letters, digits and '-', "
                 "and do not begin or end with '-'")
_ELB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
PORT_RULE = "ports are integers from 1 to 65535"
PRIORITY_RULE = "listener-rule priorities are unique integers from 1 to 50000"
CIDR_RULE = "must be an IPv4 CIDR block such as 10.0.0.0/16"
# VPCs and their subnets: "/16 (65,536 addresses) to /28 (16)", Amazon VPC User Guide,
# "VPC CIDR blocks" and "Subnet CIDR blocks" (docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
VPC_PREFIX_LENGTHS = range(16, 29)
# An ALB path pattern: at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & and the
# wildcards * (any run) and ? (one character), case-sensitive; Elastic Load Balancing guide,
# "Condition types for listener rules", path conditions.
PATH_PATTERN_RULE = ("ALB path patterns start with '/', are at most 128 characters of letters, digits, "
                     "_-.$/~\"'@:+& and the wildcards * and ?")
_PATH_PATTERN = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}")
# A URL path (RFC 3986 pchar and '/'): what a health check requests and services prefix.
URL_PATH_RULE = "URL paths start with '/' and hold only letters, digits and -._~!$&'()*+,;=:@%/ (no spaces)"
_URL_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]{0,1023}")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}")
IAM_NAME_RULE = "IAM names are 1-64 characters of letters, digits and +=,.@_-"
_IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
# Customer-managed policy names are up to 128 characters (IAM API reference, CreatePolicy).
IAM_POLICY_NAME_RULE = "IAM policy names are 1-128 characters of letters, digits and +=,.@_-"
_IAM_POLICY_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,128}")
_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{1,20}")
# Mimir accepts storage prefixes of letters and digits only.
MIMIR_PREFIX_RULE = "Mimir storage prefixes are 1-64 letters and digits"
_MIMIR_PREFIX = re.compile(r"[A-Za-z0-9]{1,64}")
_EFS_TRANSITIONS = ("AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS",
                    "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS")
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                       1827, 2192, 2557, 2922, 3288, 3653)
# Fargate's valid (cpu units, memory MiB) pairs: "Troubleshoot Amazon ECS task definition invalid CPU or
# memory errors", docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html (8 and 16
# vCPU need Linux platform 1.4.0 or later; the services run platform LATEST).
FARGATE_TASK_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
# Security group rule descriptions: "Up to 255 characters in length. Allowed characters are a-z,
# A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*" (EC2 API reference, IpRange Description).
SG_DESCRIPTION_RULE = ("security group rule descriptions are 1-255 characters of letters, digits, spaces "
                       "and ._-:/()#,@[]+=&;{}!$*")
_SG_DESCRIPTION = re.compile(r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}")
# Tags: keys 1-128 and values 0-256 characters of letters, digits, spaces and + - = . _ : / @, no
# 'aws:' prefix, 50 per resource (ECS API reference, Tag; the same for every service the stacks tag).
MAX_TAGS_PER_RESOURCE = 50
TAG_RULE = ("tag keys are 1-128 and values 0-256 characters of letters, digits, spaces and +-=._:/@, "
            "neither starting with 'aws:'")
_TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,256}")
# Predefined ALB security policies ("Security policies for your Application Load Balancer",
# docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html, 2026).
# An ALB has no custom policies: a name outside this list fails at apply. AWS adds policies over
# time: add a new one here with the page's date.
ALB_SSL_POLICIES = frozenset({
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08", "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    *(f"ELBSecurityPolicy-TLS13-{variant}-2021-06"
      for variant in ("1-0", "1-1", "1-2", "1-2-Res", "1-2-Ext1", "1-2-Ext2", "1-3")),
    *(f"ELBSecurityPolicy-TLS13-{variant}-FIPS-2023-04"
      for variant in ("1-0", "1-1", "1-2", "1-2-Res", "1-2-Ext0", "1-2-Ext1", "1-2-Ext2", "1-3")),
    *(f"ELBSecurityPolicy-TLS13-{variant}-2023-07"
      for variant in ("1-2-RFC9151-FIPS", "1-2-Ext0-RFC9151-FIPS", "1-3-RFC9151-FIPS",
                      *(f"1-2-RFC9151-INTEROP{n}-FIPS" for n in range(1, 5)))),
    *(f"ELBSecurityPolicy-TLS13-{variant}-PQ-2025-09"
      for variant in ("1-0", "1-2", "1-2-Res", "1-2-Ext1", "1-2-Ext2", "1-3",
                      "1-0-FIPS", "1-2-FIPS", "1-2-Res-FIPS", "1-2-Ext0-FIPS", "1-2-Ext1-FIPS",
                      "1-2-Ext2-FIPS", "1-3-FIPS")),
})
# Availability zones are the region's name and one letter ("AWS Availability Zones",
# docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html). For the
# regions below the letters are the zones that exist (in the oldest regions each account maps
# its own letters onto the zones, so these are every letter any account sees); other regions are
# checked for the shape only.
AVAILABILITY_ZONE_LETTERS: dict[str, str] = {
    "ap-northeast-1": "abcd",
    "ap-northeast-2": "abcd",
    "eu-central-1": "abc",
    "eu-west-1": "abc",
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-2": "abcd",
}
# Container images (the OCI distribution reference grammar): a repository, then a tag and/or digest.
_REPOSITORY = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
IMAGE_RULE = ("images are a repository such as 'grafana/grafana' (the tag goes in `tag`): lowercase "
              "path components, an optional registry host first")
TAG_PIN_RULE = ("images are pinned to an explicit tag other than 'latest' (1-128 characters of letters, "
                "digits and _.-, optionally followed by @sha256:<digest>)")
IMAGE_REFERENCE_RULE = ("image references are pinned: '<repository>:<tag>' with a tag other than 'latest', "
                        "or '<repository>@sha256:<digest>'")
GRAFANA_USER_RULE = "Grafana admin logins are 1-100 characters of letters, digits and ._@+-"
_GRAFANA_USER = re.compile(r"[A-Za-z0-9._@+-]{1,100}")
KMS_KEY_RULE = "KMS key ARNs look like 'arn:aws:kms:<region>:<account>:key/<key id>' (a key, not an alias)"
_KMS_KEY = re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/[A-Za-z0-9-]+")
WEB_ACL_RULE = "regional WAFv2 web ACL ARNs look like 'arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>'"
_WEB_ACL = re.compile(r"arn:aws[a-z-]*:wafv2:(?P<region>[a-z0-9-]+):\d{12}:regional/webacl/[\w-]+/[\w-]+")
CERTIFICATE_RULE = "ACM certificate ARNs look like 'arn:aws:acm:<region>:<account>:certificate/<id>'"
_CERTIFICATE = re.compile(r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[\w-]+")
USER_RULE = "container users are a numeric 'uid' or 'uid:gid' other than root (uid 0)"
_USER = re.compile(r"[1-9]\d{0,9}(:\d{1,10})?")
_AWS_ID = {"vpc": re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
           "subnet": re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
           "rtb": re.compile(r"rtb-(?:[0-9a-f]{8}|[0-9a-f]{17})")}
_NAMESPACE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_OCTAL_MODE = re.compile(r"[0-7]{3,4}")
_INGRESS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
# HCP Terraform: organization names are letters, digits, '-' and '_' (HCP Terraform docs,
# "Organizations"); project names at most 40 characters of letters, digits, spaces, '-' and '_'
# ("Projects"). Neither may hold ':', the separator of the dynamic-credentials `sub` claim.
HCP_ORGANIZATION_RULE = "HCP Terraform organization names are 1-40 characters of letters, digits, '-' and '_'"
_HCP_ORGANIZATION = re.compile(r"[A-Za-z0-9_-]{1,40}")
HCP_PROJECT_RULE = "HCP Terraform project names are 1-40 characters of letters, digits, spaces, '-' and '_'"
_HCP_PROJECT = re.compile(r"[A-Za-z0-9_ -]{1,40}")
HOSTNAME_RULE = "host names are DNS names such as 'app.terraform.io' (no scheme, port or path)"
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
# A GitHub environment or branch in an OIDC `sub` claim: no ':' (the claim's separator) and no
# IAM wildcard, since the trust policy compares the claim exactly.
GITHUB_CLAIM_RULE = ("GitHub environment and branch names in a trust policy are 1-255 characters of "
                     "letters, digits and ._/- (no ':', '*' or '?': the claim is compared exactly)")
_GITHUB_CLAIM = re.compile(r"[A-Za-z0-9._/-]{1,255}")
WHITESPACE_RULE = ("no whitespace at either end and no control characters (newline, tab) anywhere: "
                   "a stray one would reach AWS or a rendered config")


# --- shared checks --------------------------------------------------------------------


def check_s3_bucket(field: str, name: str) -> Iterator[Violation]:
    bad = (not isinstance(name, str) or not _S3_BUCKET.fullmatch(name) or ".." in name
           or _is_ip(name) or name.startswith(("xn--", "sthree-"))
           or name.endswith(("-s3alias", "--ol-s3")))
    if bad:
        yield Violation(field, S3_BUCKET_RULE, name)


def check_port(field: str, port: object) -> Iterator[Violation]:
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        yield Violation(field, PORT_RULE, port)


def check_cidr(field: str, cidr: str) -> Iterator[Violation]:
    if _network(cidr) is None:
        yield Violation(field, CIDR_RULE, cidr)


def check_vpc_block(field: str, cidr: str) -> Iterator[Violation]:
    """A VPC's or subnet's CIDR: a block AWS accepts for either (/16 to /28)."""
    net = _network(cidr)
    if net is None:
        yield Violation(field, CIDR_RULE, cidr)
    elif net.prefixlen not in VPC_PREFIX_LENGTHS:
        yield Violation(field, "VPC and subnet CIDR blocks are /16 to /28", cidr)


def check_pattern(field: str, value: object, pattern: re.Pattern[str], rule: str) -> Iterator[Violation]:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        yield Violation(field, rule, value)


def check_positive(field: str, value: object) -> Iterator[Violation]:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        yield Violation(field, "must be a positive integer", value)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _network(cidr: object) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(cidr, strict=True)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def _regional_arn(field: str, arn: str | None, pattern: re.Pattern[str], rule: str,
                  region: str) -> Iterator[Violation]:
    """An ARN of the given shape in the config's region (S3, DynamoDB, EFS, logs and ALBs use
    only keys, certificates and web ACLs of their own region)."""
    if arn is None:
        return
    match = pattern.fullmatch(arn)
    if not match:
        yield Violation(field, rule, arn)
    elif match.group("region") != region:
        yield Violation(field, f"must be in aws_region {region}", arn)


def service_field(index: int, svc: ServiceConfig) -> str:
    return f"services[{index}]({svc.name})"


def target_field(index: int, svc: ServiceConfig, target_index: int, target: Target) -> str:
    return f"{service_field(index, svc)}.targets[{target_index}]({target.name})"


# --- pass 1: shape --------------------------------------------------------------------

# Items of these classes are named in paths by their `name` too, e.g. services[0](grafana).
_NAMED_ITEM_CLASSES = ("ServiceConfig", "Target")


@cache
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _item_path(path: str, index: int, item: object) -> str:
    name = getattr(item, "name", None)
    if type(item).__name__ in _NAMED_ITEM_CLASSES and isinstance(name, str):
        return f"{path}[{index}]({name})"
    return f"{path}[{index}]"


def _describe(annotation: Any) -> str:
    """A type as an operator reads it: 'int', 'tuple of str', 'mapping of str to str', 'str or None'."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("None" if a is type(None) else _describe(a) for a in args)
    if origin is tuple:
        return f"tuple of {_describe(args[0])}"
    if origin is collections.abc.Mapping:
        return f"mapping of {_describe(args[0])} to {_describe(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


def _a(description: str) -> str:
    return f"{'an' if description[:1] in 'aeiouAEIOU' else 'a'} {description}"


def _leaf_violations(path: str, value: object, annotation: type) -> Iterator[Violation]:
    if annotation is bool and not isinstance(value, bool):
        hint = ": a string counts as true, even 'false'" if isinstance(value, str) else ""
        yield Violation(path, f"must be a bool (True or False){hint}", value)
    elif annotation is int and (not isinstance(value, int) or isinstance(value, bool)):
        yield Violation(path, "must be an int (a number without quotes, not a bool)", value)
    elif annotation is str:
        if not isinstance(value, str):
            yield Violation(path, "must be a str", value)
        elif value != value.strip() or any(ord(char) < 32 or ord(char) == 127 for char in value):
            yield Violation(path, WHITESPACE_RULE, value)


def _type_violations(path: str, value: object, annotation: Any) -> Iterator[Violation]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        (inner, *others) = [a for a in args if a is not type(None)]
        if others or not _accepts_outer(value, inner):
            yield Violation(path, f"must be {_a(_describe(annotation))}", value)
            return
        yield from _type_violations(path, value, inner)
    elif isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, annotation):
            yield Violation(path, f"must be {_a(_describe(annotation))}", value)
            return
        for name, field_type in _field_types(annotation):
            yield from _type_violations(f"{path}.{name}" if path else name, getattr(value, name), field_type)
    elif origin is tuple:
        if not isinstance(value, tuple):
            yield Violation(path, f"must be {_a(_describe(annotation))} (write (a, b), not [a, b])", value)
            return
        for index, item in enumerate(value):
            yield from _type_violations(_item_path(path, index, item), item, args[0])
    elif origin is collections.abc.Mapping:
        if not isinstance(value, collections.abc.Mapping):
            yield Violation(path, f"must be {_a(_describe(annotation))}", value)
            return
        for key, item in value.items():
            yield from _type_violations(f"{path}[{key!r}]", key, args[0])
            yield from _type_violations(f"{path}[{key!r}]", item, args[1])
    else:
        yield from _leaf_violations(path, value, annotation)


def _accepts_outer(value: object, annotation: Any) -> bool:
    """Whether `value` has the outer type of a non-None union member (its items are checked after)."""
    origin = typing.get_origin(annotation) or annotation
    if origin is collections.abc.Mapping:
        return isinstance(value, collections.abc.Mapping)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin)


def shape_violations(cfg: Settings) -> list[Violation]:
    """Every field against its annotation (see the module docstring), by dotted path."""
    return list(_type_violations("", cfg, type(cfg)))


def _is_type_violation(violation: Violation) -> bool:
    return violation.rule != WHITESPACE_RULE


# --- pass 2: values -------------------------------------------------------------------


def _identity(cfg: Settings) -> Iterator[Violation]:
    yield from check_pattern("project", cfg.project, _PROJECT, PROJECT_RULE)
    yield from check_pattern("environment", cfg.environment, _ENVIRONMENT, ENVIRONMENT_RULE)
    if cfg.environment not in ENVIRONMENTS:
        yield Violation("environment", f"must be one of the known environments {ENVIRONMENTS} "
                        "(config/names.py ENVIRONMENTS; README 'Configuration' says how to add one)",
                        cfg.environment)
    yield from check_pattern("aws_region", cfg.aws_region, _REGION, REGION_RULE)
    if not _is_tenant(cfg.tenant_id):
        yield Violation("tenant_id", TENANT_RULE, cfg.tenant_id)
    yield from _legacy_tenants(cfg)


def _is_tenant(tenant: object) -> bool:
    return isinstance(tenant, str) and bool(_TENANT.fullmatch(tenant)) and tenant not in (".", "..", "__mimir_cluster")


def _legacy_tenants(cfg: Settings) -> Iterator[Violation]:
    for signal in ("metrics", "logs", "traces"):
        tenants = getattr(cfg.legacy_read_tenants, signal)
        field = f"legacy_read_tenants.{signal}"
        for index, tenant in enumerate(tenants):
            if not _is_tenant(tenant):
                yield Violation(f"{field}[{index}]", TENANT_RULE, tenant)
            elif tenant == cfg.tenant_id:
                yield Violation(f"{field}[{index}]", "a legacy tenant is not the current tenant_id", tenant)
            elif tenants.index(tenant) != index:
                yield Violation(f"{field}[{index}]", "legacy tenants are listed once each", tenant)


def _tags(cfg: Settings) -> Iterator[Violation]:
    stack_keys = {key.lower(): key for key in (*DEFAULT_TAG_KEYS, *RESOURCE_TAG_KEYS)}
    for key, value in cfg.tags.items():
        field = f"tags[{key!r}]"
        if not _TAG_KEY.fullmatch(key) or not _TAG_VALUE.fullmatch(value) \
                or key.lower().startswith("aws:") or value.lower().startswith("aws:"):
            yield Violation(field, TAG_RULE, value)
        # IAM matches tag keys in conditions case-insensitively: 'environment' would be read as
        # the deploy policy's `aws:ResourceTag/Environment`.
        if key.lower() in stack_keys:
            yield Violation(field, f"the stacks set the tag {stack_keys[key.lower()]!r} themselves "
                            f"(reserved: {DEFAULT_TAG_KEYS + RESOURCE_TAG_KEYS}); choose another key", key)
    room = MAX_TAGS_PER_RESOURCE - len(DEFAULT_TAG_KEYS) - len(RESOURCE_TAG_KEYS)
    if len(cfg.tags) > room:
        yield Violation("tags", f"AWS allows {MAX_TAGS_PER_RESOURCE} tags per resource and the stacks set up "
                        f"to {MAX_TAGS_PER_RESOURCE - room} themselves: at most {room} tags here",
                        len(cfg.tags))


def _state(cfg: Settings) -> Iterator[Violation]:
    s = cfg.state
    yield from check_s3_bucket("state.bootstrap_bucket", s.bootstrap_bucket)
    yield from check_s3_bucket("state.state_bucket", s.state_bucket)
    if s.bootstrap_bucket == s.state_bucket:
        yield Violation("state.state_bucket", "must differ from state.bootstrap_bucket "
                        "(bootstrap's state cannot live in the bucket it creates)", s.state_bucket)
    yield from check_pattern("state.lock_table", s.lock_table, _DYNAMODB_TABLE, DYNAMODB_TABLE_RULE)
    for name in ("bootstrap_state_key", "state_key_prefix"):
        key = getattr(s, name)
        if not key or key.startswith("/") or key.endswith("/") or "//" in key:
            yield Violation(f"state.{name}", "S3 keys are non-empty, neither begin nor end with '/' "
                            "and have no '//'", key)
    yield from check_positive("state.noncurrent_version_expiration_days", s.noncurrent_version_expiration_days)
    yield from _hcp_state(cfg)


def _hcp_state(cfg: Settings) -> Iterator[Violation]:
    """backend "hcp": the workspaces' organization and project, which the roles' trust names."""
    s = cfg.state
    if s.backend not in STATE_BACKENDS:
        yield Violation("state.backend", f"must be one of {STATE_BACKENDS}", s.backend)
        return
    if s.backend != "hcp":
        return
    for name, pattern, rule in (("hcp_organization", _HCP_ORGANIZATION, HCP_ORGANIZATION_RULE),
                                ("hcp_project", _HCP_PROJECT, HCP_PROJECT_RULE)):
        value = getattr(s, name)
        if value is None:
            yield Violation(f"state.{name}", "is required with state.backend 'hcp' (the cloud block and the "
                            "roles' trust name it)", value)
        else:
            yield from check_pattern(f"state.{name}", value, pattern, rule)
    yield from check_pattern("state.hcp_hostname", s.hcp_hostname, _HOSTNAME, HOSTNAME_RULE)
    if s.use_lockfile:
        yield Violation("state.use_lockfile", "is an S3 backend setting: HCP Terraform locks its workspaces "
                        "itself (set it False with state.backend 'hcp')", s.use_lockfile)


def _account_wide_names(cfg: Settings) -> dict[str, object]:
    """What two environments must never share: state location and lock, and the deploy access."""
    return {
        "state.state_bucket": cfg.state.state_bucket,
        "state.lock_table": cfg.state.lock_table,
        "state.state_key_prefix": cfg.state.state_key_prefix,
        "state.bootstrap_state_key": (cfg.state.bootstrap_bucket, cfg.state.bootstrap_state_key),
        "github.deploy_role_name": cfg.github.deploy_role_name if cfg.github.existing_role_name is None else None,
        "github.deploy_policy_name": cfg.github.deploy_policy_name,
        "github.plan_role_name": cfg.github.plan_role_name if cfg.github.existing_role_name is None else None,
        "github.plan_policy_name": cfg.github.plan_policy_name,
    }


def _defaults_of(environment: str) -> dict[str, object]:
    names = environment_names(environment)
    return {
        "state.state_bucket": names.state_bucket,
        "state.lock_table": names.lock_table,
        "state.state_key_prefix": names.state_key_prefix,
        "state.bootstrap_state_key": (names.bootstrap_bucket, names.bootstrap_state_key),
        "github.deploy_role_name": names.deploy_role_name,
        "github.deploy_policy_name": names.deploy_policy_name,
        "github.plan_role_name": names.plan_role_name,
        "github.plan_policy_name": names.plan_policy_name,
    }


def _environment_isolation(cfg: Settings) -> Iterator[Violation]:
    """Another known environment's state, lock and deploy names are not ours to use (staging built
    with `default_state("prod")` would write prod's state under prod's lock)."""
    ours = _account_wide_names(cfg)
    for other in ENVIRONMENTS:
        if other == cfg.environment:
            continue
        for field, value in _defaults_of(other).items():
            if ours[field] is not None and ours[field] == value:
                shown = value[1] if isinstance(value, tuple) else value
                yield Violation(field, f"belongs to environment {other!r} (config.common.default_state / "
                                f"default_github({other!r})): {cfg.environment} needs its own", shown)


def validate_apart(configs: Iterable[Settings]) -> None:
    """Raise ConfigError when two configs (of different environments) would create or write the
    same thing: each config's own rules compare it with the other environments' defaults only."""
    found = distinct_violations(configs)
    if found:
        raise ConfigError(found)


def distinct_violations(configs: Iterable[Settings]) -> list[Violation]:
    """Two configs (of different environments) that would create or write the same thing."""
    found: list[Violation] = []
    seen: dict[tuple[str, object], str] = {}
    for cfg in configs:
        for field, value in _account_wide_names(cfg).items():
            if value is None:
                continue
            owner = seen.setdefault((field, value), cfg.environment)
            if owner != cfg.environment:
                found.append(Violation(f"{cfg.environment}: {field}", f"environment {owner!r} uses it too",
                                       value[1] if isinstance(value, tuple) else value))
    return found


def _buckets(cfg: Settings) -> Iterator[Violation]:
    """Each bucket has one owner: two stacks creating one bucket fail at apply (or the second
    silently adopts the first's)."""
    data = {cfg.data_bucket(svc.name): f"data_bucket({svc.name!r})" for svc in cfg.object_storage_services}
    for field, bucket in (("state.state_bucket", cfg.state.state_bucket),
                          ("state.bootstrap_bucket", cfg.state.bootstrap_bucket)):
        if bucket in data:
            yield Violation(field, f"must not be a data bucket ({data[bucket]} is {bucket!r}, made by 20-storage)",
                            bucket)
    logs = cfg.alb.access_logs_bucket
    made = {**data, cfg.state.state_bucket: "state.state_bucket", cfg.state.bootstrap_bucket: "state.bootstrap_bucket"}
    if logs is not None and logs in made:
        yield Violation("alb.access_logs_bucket", f"must be a bucket of its own, not {made[logs]}", logs)


def _network_rules(cfg: Settings) -> Iterator[Violation]:
    n = cfg.network
    if n.existing_vpc is not None:
        yield from _existing_vpc(cfg)
        return
    if n.flow_log_retention_days is not None and n.flow_log_retention_days not in _LOG_RETENTION_DAYS:
        yield Violation("network.flow_log_retention_days", f"CloudWatch accepts only {_LOG_RETENTION_DAYS}",
                        n.flow_log_retention_days)
    vpc = _network(n.vpc_cidr)
    yield from check_vpc_block("network.vpc_cidr", n.vpc_cidr)
    yield from _availability_zones(cfg)
    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for name in ("public_subnet_cidrs", "private_subnet_cidrs"):
        cidrs = getattr(n, name)
        if len(cidrs) != len(n.availability_zones):
            yield Violation(f"network.{name}", "one subnet per availability zone", cidrs)
        for i, cidr in enumerate(cidrs):
            field = f"network.{name}[{i}]"
            net = _network(cidr)
            yield from check_vpc_block(field, cidr)
            if net is None:
                continue
            if vpc is not None and not net.subnet_of(vpc):
                yield Violation(field, f"subnets must lie inside network.vpc_cidr {n.vpc_cidr}", cidr)
            for other_field, other in subnets:
                if net.overlaps(other):
                    yield Violation(field, f"subnets must not overlap ({other_field} is {other})", cidr)
            subnets.append((field, net))


def _availability_zones(cfg: Settings) -> Iterator[Violation]:
    zones = cfg.network.availability_zones
    if len(zones) < 2 or len(set(zones)) != len(zones):
        yield Violation("network.availability_zones", "an ALB needs at least two distinct AZs", zones)
    letters = AVAILABILITY_ZONE_LETTERS.get(cfg.aws_region)
    for i, zone in enumerate(zones):
        field = f"network.availability_zones[{i}]"
        if not re.fullmatch(re.escape(cfg.aws_region) + "[a-z]", zone):
            yield Violation(field, f"AZs are aws_region {cfg.aws_region} and one letter, e.g. "
                            f"{cfg.aws_region}a", zone)
        elif letters is not None and zone[-1] not in letters:
            yield Violation(field, f"{cfg.aws_region} has the zones "
                            f"{[cfg.aws_region + letter for letter in letters]}", zone)


def _existing_vpc(cfg: Settings) -> Iterator[Violation]:
    n = cfg.network
    e = n.existing_vpc
    assert e is not None
    yield from check_pattern("network.existing_vpc.vpc_id", e.vpc_id, _AWS_ID["vpc"],
                             "VPC IDs look like 'vpc-0123abcd' (8 or 17 hexadecimal digits)")
    for name in ("public_subnet_ids", "private_subnet_ids"):
        ids = getattr(e, name)
        if len(ids) < 2 or not all(_AWS_ID["subnet"].fullmatch(i) for i in ids):
            yield Violation(f"network.existing_vpc.{name}", "an existing VPC needs at least two subnet IDs "
                            "('subnet-' and 8 or 17 hexadecimal digits) in different AZs for the ALB and ECS", ids)
    for i, rt in enumerate(e.private_route_table_ids):
        yield from check_pattern(f"network.existing_vpc.private_route_table_ids[{i}]", rt, _AWS_ID["rtb"],
                                 "route table IDs look like 'rtb-0123abcd' (8 or 17 hexadecimal digits)")
    if n.s3_gateway_endpoint and not e.private_route_table_ids:
        # An existing VPC often has its S3 endpoint already: creating one is an explicit choice.
        yield Violation("network.existing_vpc.private_route_table_ids", "the S3 gateway endpoint "
                        "(network.s3_gateway_endpoint) attaches to the private route tables: list them, "
                        "or set network.s3_gateway_endpoint=False", e.private_route_table_ids)


def _storage(cfg: Settings) -> Iterator[Violation]:
    for svc in cfg.object_storage_services:
        yield from check_s3_bucket(f"data_bucket({svc.name!r})", cfg.data_bucket(svc.name))
    yield from check_positive("storage.abort_incomplete_multipart_days",
                              cfg.storage.abort_incomplete_multipart_days)
    yield from check_positive("storage.noncurrent_version_expiration_days",
                              cfg.storage.noncurrent_version_expiration_days)
    if cfg.storage.efs_transition_to_ia not in _EFS_TRANSITIONS:
        yield Violation("storage.efs_transition_to_ia", f"EFS lifecycle transitions are one of {_EFS_TRANSITIONS}",
                        cfg.storage.efs_transition_to_ia)
    yield from _mimir_prefixes(cfg)
    yield from _efs_volumes(cfg)


def _mimir_prefixes(cfg: Settings) -> Iterator[Violation]:
    prefixes = cfg.storage.mimir_prefixes.as_dict()
    for name, prefix in prefixes.items():
        yield from check_pattern(f"storage.mimir_prefixes.{name}", prefix, _MIMIR_PREFIX, MIMIR_PREFIX_RULE)
    # Mimir refuses to start when two of its stores overlap in one bucket.
    for name, prefix in prefixes.items():
        for other_name, other in prefixes.items():
            if name != other_name and prefix.startswith(other) and (prefix != other or name > other_name):
                yield Violation(f"storage.mimir_prefixes.{name}", "Mimir's blocks, ruler and alertmanager "
                                f"prefixes must not overlap (storage.mimir_prefixes.{other_name} is {other!r})",
                                prefix)


def _nested(path: str, other: str) -> bool:
    return path == other or path.startswith(f"{other}/") or other.startswith(f"{path}/")


def _task_mounts(svc: ServiceConfig) -> list[str]:
    """Where 60-ecs mounts the task's config volume and scratch volumes in the service container."""
    kind = KINDS.get(svc.service_kind)
    return [CONFIG_MOUNT, TMP_DIR, *(kind.scratch_dirs if kind is not None else ())]


def _efs_volumes(cfg: Settings) -> Iterator[Violation]:
    roots: dict[str, str] = {}
    for i, svc in enumerate(cfg.services):
        if svc.efs is None:
            continue
        field = f"{service_field(i, svc)}.efs"
        volume = svc.efs
        for name in ("container_path", "root_directory"):
            path = getattr(volume, name)
            if not _URL_PATH.fullmatch(path) or path == "/" or path.endswith("/") or "//" in path \
                    or len(path) > 100:
                yield Violation(f"{field}.{name}", "absolute paths other than '/', without a trailing '/' or "
                                "'//', at most 100 characters of letters, digits and -._~!$&'()*+,;=:@%", path)
        clash = next((mount for mount in _task_mounts(svc) if _nested(volume.container_path, mount)), None)
        if clash is not None:
            yield Violation(f"{field}.container_path", f"must not be, contain or lie inside {clash}: the task "
                            "mounts its config or a scratch volume there", volume.container_path)
        if volume.root_directory in roots:
            yield Violation(f"{field}.root_directory", f"each service has its own EFS root directory "
                            f"({roots[volume.root_directory]} has it)", volume.root_directory)
        roots[volume.root_directory] = field
        for name in ("uid", "gid"):
            value = getattr(volume, name)
            if not 0 <= value <= 4294967295:
                yield Violation(f"{field}.{name}", "POSIX IDs are integers from 0 to 4294967295", value)
        if not _OCTAL_MODE.fullmatch(volume.permissions):
            yield Violation(f"{field}.permissions", "octal modes such as '0750'", volume.permissions)


def _ingress(cfg: Settings) -> Iterator[Violation]:
    names = [r.name for r in cfg.alb_ingress_rules]
    sources: dict[tuple[int, str], str] = {}
    for i, rule in enumerate(cfg.alb_ingress_rules):
        field = f"alb_ingress_rules[{i}]"
        if names.count(rule.name) > 1:
            yield Violation(f"{field}.name", "ingress rule names are unique", rule.name)
        yield from check_pattern(f"{field}.name", rule.name, _INGRESS_NAME,
                                 "ingress rule names are 1-32 letters, digits, '_' and '-' (they name resources)")
        yield from check_port(f"{field}.port", rule.port)
        if rule.port not in (cfg.ports.http, cfg.ports.https):
            yield Violation(f"{field}.port", "the ALB listens only on the HTTP and HTTPS ports "
                            f"({cfg.ports.http}, {cfg.ports.https}); OTLP arrives via /v1/traces on port 80",
                            rule.port)
        if not rule.cidr_blocks:
            yield Violation(f"{field}.cidr_blocks", "at least one source CIDR", rule.cidr_blocks)
        for j, cidr in enumerate(rule.cidr_blocks):
            yield from check_cidr(f"{field}.cidr_blocks[{j}]", cidr)
            # EC2 refuses a second rule with the same port and source (InvalidPermission.Duplicate).
            earlier = sources.setdefault((rule.port, cidr), f"{field}.cidr_blocks[{j}]")
            if earlier != f"{field}.cidr_blocks[{j}]":
                yield Violation(f"{field}.cidr_blocks[{j}]", f"{earlier} already opens port {rule.port} "
                                "to this source", cidr)
        yield from check_pattern(f"{field}.description", rule.description, _SG_DESCRIPTION, SG_DESCRIPTION_RULE)


def _ports(cfg: Settings) -> Iterator[Violation]:
    ports = cfg.ports
    for name in ("grpc", "memberlist", "otlp_grpc", "otlp_http", "nfs", "http", "https"):
        yield from check_port(f"ports.{name}", getattr(ports, name))
    if ports.http == ports.https:
        yield Violation("ports.https", "the ALB's HTTP and HTTPS listeners need two ports "
                        f"(ports.http is {ports.http} too)", ports.https)
    # Every task listens on these beside its HTTP port: one port, one meaning, in every task.
    shared: dict[int, str] = {}
    for name in ("grpc", "memberlist", "otlp_grpc", "otlp_http"):
        port = getattr(ports, name)
        if port in shared:
            yield Violation(f"ports.{name}", f"must differ from {shared[port]}", port)
        shared.setdefault(port, f"ports.{name}")
    for i, svc in enumerate(cfg.services):
        for field, port in ((f"{service_field(i, svc)}.http_port", svc.http_port),
                            *(((f"{service_field(i, svc)}.prefix_proxy.port", svc.prefix_proxy.port),)
                              if svc.prefix_proxy is not None else ())):
            if port in shared:
                yield Violation(field, f"is {shared[port]}, which the services use for that protocol", port)
        if svc.prefix_proxy is not None and svc.prefix_proxy.port == svc.http_port:
            yield Violation(f"{service_field(i, svc)}.prefix_proxy.port", "the proxy and the service it "
                            "fronts share a task: they need two ports", svc.prefix_proxy.port)


def _images(field: str, image: str, tag: str) -> Iterator[Violation]:
    if not _REPOSITORY.fullmatch(image):
        yield Violation(f"{field}.image", IMAGE_RULE, image)
    name, _, digest = tag.partition("@")
    if not _TAG.fullmatch(name) or name == "latest" or (digest and not _DIGEST.fullmatch(digest)):
        yield Violation(f"{field}.tag", TAG_PIN_RULE, tag)


def check_image_reference(field: str, reference: str) -> Iterator[Violation]:
    """A whole image reference (`ecs.init_image`): repository, then ':<tag>' and/or '@sha256:...'."""
    rest, _, digest = reference.partition("@")
    repository, tag = rest, ""
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = rest.rsplit(":", 1)
    tag_ok = not tag or (_TAG.fullmatch(tag) is not None and tag != "latest")
    digest_ok = not digest or _DIGEST.fullmatch(digest) is not None
    if not _REPOSITORY.fullmatch(repository) or not (tag or digest) or not tag_ok or not digest_ok:
        yield Violation(field, IMAGE_REFERENCE_RULE, reference)


def _services(cfg: Settings) -> Iterator[Violation]:
    names = [s.name for s in cfg.services]
    for required in CORE_SERVICES:
        if required not in names:
            yield Violation("services", f"the stack needs a {required!r} service", names)
    collector_port = next((s.http_port for s in cfg.services if s.name == COLLECTOR_KIND), None)
    for i, svc in enumerate(cfg.services):
        field = service_field(i, svc)
        yield from check_pattern(f"{field}.name", svc.name, _SERVICE_NAME,
                                 "service names are 2-21 characters: a lowercase letter, then "
                                 "lowercase letters, digits or '-'")
        if names.count(svc.name) > 1:
            yield Violation(f"{field}.name", "service names are unique", svc.name)
        if svc.kind and svc.kind != svc.name and (svc.name in CORE_SERVICES or svc.kind != COLLECTOR_KIND):
            yield Violation(f"{field}.kind", f"core services are their own kind; services beyond "
                            f"{list(CORE_SERVICES)} are further Alloy collectors (kind {COLLECTOR_KIND!r})",
                            svc.kind)
        if svc.name not in CORE_SERVICES and svc.service_kind != COLLECTOR_KIND:
            yield Violation(f"{field}.kind", f"services beyond {list(CORE_SERVICES)} are further Alloy "
                            f"collectors: set kind={COLLECTOR_KIND!r}", svc.kind)
        if svc.service_kind == COLLECTOR_KIND and collector_port is not None and svc.http_port != collector_port:
            # Collectors share one rendered config and command, which listen on alloy's port.
            yield Violation(f"{field}.http_port", f"Alloy collectors listen on the 'alloy' service's port "
                            f"{collector_port}", svc.http_port)
        yield from check_port(f"{field}.http_port", svc.http_port)
        yield from _images(field, svc.image, svc.tag)
        if svc.memory not in FARGATE_TASK_MEMORY.get(svc.cpu, ()):
            yield Violation(f"{field}.memory", f"Fargate task sizes: cpu {sorted(FARGATE_TASK_MEMORY)} "
                            f"with the memory (MiB) each allows", (svc.cpu, svc.memory))
        if svc.desired_count < 0:
            yield Violation(f"{field}.desired_count", "tasks to run: 0 (parked) or more", svc.desired_count)
        if svc.stateful and svc.desired_count > 1:
            yield Violation(f"{field}.desired_count", "stateful services run at most one task "
                            "(they own one data directory)", svc.desired_count)
        yield from check_pattern(f"{field}.readiness_path", svc.readiness_path, _URL_PATH, URL_PATH_RULE)
        if svc.path_prefix and (not _URL_PATH.fullmatch(svc.path_prefix) or svc.path_prefix.endswith("/")):
            yield Violation(f"{field}.path_prefix", "path prefixes are URL paths (letters, digits, "
                            "-._~!$&'()*+,;=:@%/) that start with '/' and do not end with '/'", svc.path_prefix)
        if svc.user is not None:
            yield from check_pattern(f"{field}.user", svc.user, _USER, USER_RULE)
        if svc.prefix_proxy is not None:
            yield from _prefix_proxy(f"{field}.prefix_proxy", svc)
        if len(svc.targets) > 5:
            yield Violation(f"{field}.targets", "an ECS service registers with at most 5 target groups",
                            len(svc.targets))


def _prefix_proxy(field: str, svc: ServiceConfig) -> Iterator[Violation]:
    proxy = svc.prefix_proxy
    assert proxy is not None
    yield from check_port(f"{field}.port", proxy.port)
    if not _URL_PATH.fullmatch(proxy.prefix) or proxy.prefix == "/" or proxy.prefix.endswith("/"):
        yield Violation(f"{field}.prefix", "a URL path other than '/' that does not end with '/'", proxy.prefix)
    yield from _images(field, proxy.image, proxy.tag)
    yield from check_pattern(f"{field}.user", proxy.user, _USER, USER_RULE)


def _task_ports(cfg: Settings, svc: ServiceConfig) -> list[int]:
    """The ports a service's task listens on: its renderer's `ports(cfg)` and its proxy's port
    (what components/ecs.py maps; an ALB target elsewhere reaches no container)."""
    ports = KINDS[svc.service_kind].ports(http_port=svc.http_port, otlp_grpc=cfg.ports.otlp_grpc,
                                          otlp_http=cfg.ports.otlp_http)
    if svc.prefix_proxy is not None:
        ports.append(svc.prefix_proxy.port)
    return ports


def _renderable(cfg: Settings) -> bool:
    """The renderers read every core service; without one they cannot say what a task listens on."""
    return all(any(s.name == core for s in cfg.services) for core in CORE_SERVICES)


def _targets(cfg: Settings) -> Iterator[Violation]:
    priorities: dict[int, str] = {}
    target_names: set[str] = set()
    defaults = 0
    renderable = _renderable(cfg)
    grpc_like = {cfg.ports.grpc: "ports.grpc", cfg.ports.otlp_grpc: "ports.otlp_grpc",
                 cfg.ports.memberlist: "ports.memberlist"}
    for i, svc in enumerate(cfg.services):
        listening = _task_ports(cfg, svc) if renderable and svc.service_kind in KINDS else None
        for j, tgt in enumerate(svc.targets):
            tfield = target_field(i, svc, j, tgt)
            yield from check_port(f"{tfield}.port", tgt.port)
            if tgt.health_check_port is not None:
                yield from check_port(f"{tfield}.health_check_port", tgt.health_check_port)
            for name, port in (("port", tgt.port), ("health_check_port", tgt.health_check_port)):
                if port is not None and listening is not None and port not in listening:
                    yield Violation(f"{tfield}.{name}", f"{svc.name}'s task listens only on {listening}: "
                                    "the ALB would reach no container", port)
            if tgt.port in grpc_like:
                yield Violation(f"{tfield}.port", f"is {grpc_like[tgt.port]}: the ALB's target groups speak "
                                "HTTP/1.1, not gRPC or gossip", tgt.port)
            if tgt.name in target_names:
                yield Violation(f"{tfield}.name", "target names are unique", tgt.name)
            target_names.add(tgt.name)
            yield from check_pattern(f"{tfield}.name", cfg.short_name(tgt.name), _ELB_NAME, ELB_NAME_RULE)
            yield from check_pattern(f"{tfield}.health_check_path", tgt.health_check_path, _URL_PATH, URL_PATH_RULE)
            if not tgt.paths:
                defaults += 1
                if tgt.priority is not None:
                    yield Violation(f"{tfield}.priority", "the default target has no priority", tgt.priority)
                continue
            for path in tgt.paths:
                yield from check_pattern(f"{tfield}.paths", path, _PATH_PATTERN, PATH_PATTERN_RULE)
                if tgt.paths.count(path) > 1:
                    yield Violation(f"{tfield}.paths", "each path pattern once", path)
            if len(tgt.paths) > 5:
                yield Violation(f"{tfield}.paths", "an ALB rule takes at most 5 path patterns", tgt.paths)
            prio = tgt.priority
            if prio is None or not 1 <= prio <= 50000 or prio in priorities:
                taken = f"; {priorities[prio]} has it" if prio is not None and prio in priorities else ""
                yield Violation(f"{tfield}.priority", PRIORITY_RULE + taken, prio)
            else:
                priorities[prio] = tfield
    if defaults != 1:
        yield Violation("services[*].targets", "exactly one target (no paths) is the listener's default",
                        defaults)
    yield from _shadowed_paths(cfg)
    yield from _client_routes(cfg)


def glob_covers(general: str, specific: str) -> bool:
    """Whether ALB path pattern `general` matches every path that `specific` matches
    (`*`: any run of characters, `?`: exactly one)."""

    @cache
    def covers(i: int, j: int) -> bool:
        if i == len(general):
            return j == len(specific)
        if general[i] == "*":
            return covers(i + 1, j) or (j < len(specific) and covers(i, j + 1))
        if j == len(specific) or specific[j] == "*":
            return False
        if general[i] == "?":
            return covers(i + 1, j + 1)
        return general[i] == specific[j] and covers(i + 1, j + 1)

    return covers(0, 0)


def _shadowed_paths(cfg: Settings) -> Iterator[Violation]:
    """The ALB evaluates rules by priority and stops at the first match: a path that an earlier
    rule's pattern covers is never reached, and a pattern covering every path hides the default."""
    ordered = sorted(((tgt.priority, target_field(i, svc, j, tgt), tgt)
                      for i, svc in enumerate(cfg.services) for j, tgt in enumerate(svc.targets)
                      if tgt.paths and tgt.priority is not None), key=lambda entry: entry[0])
    earlier: list[tuple[int, str, str]] = []
    for priority, field, tgt in ordered:
        for path in tgt.paths:
            cover = next(((p, f, q) for p, f, q in earlier if f != field and glob_covers(q, path)), None)
            if cover is not None:
                yield Violation(f"{field}.paths", f"never matched: {cover[1]} (priority {cover[0]}) has "
                                f"{cover[2]!r}, which matches every such request first", path)
            if glob_covers(path, "/*"):
                yield Violation(f"{field}.paths", "matches every path: the listener's default target "
                                "would get no request", path)
        earlier.extend((priority, field, path) for path in tgt.paths)


def _client_routes(cfg: Settings) -> Iterator[Violation]:
    """50-alb publishes the push and OTLP endpoints from these routes (components/alb.py)."""
    names = {svc.name: (i, svc) for i, svc in enumerate(cfg.services)}
    if "mimir" in names:
        i, mimir = names["mimir"]
        if not any(t.paths and t.port == mimir.http_port for t in mimir.targets):
            yield Violation(f"{service_field(i, mimir)}.targets", "Mimir needs a routed target (with paths) "
                            f"on its http_port {mimir.http_port}: its push API (mimir_remote_write_url)",
                            [t.name for t in mimir.targets])
    if "tempo" in names:
        i, tempo = names["tempo"]
        if not any(t.paths and t.port == cfg.ports.otlp_http for t in tempo.targets):
            yield Violation(f"{service_field(i, tempo)}.targets", "Tempo needs a routed target (with paths) "
                            f"on ports.otlp_http {cfg.ports.otlp_http}: its OTLP HTTP receiver "
                            "(otlp_traces_endpoint)", [t.name for t in tempo.targets])


def _alb(cfg: Settings) -> Iterator[Violation]:
    arn = cfg.alb.certificate_arn
    # An ALB takes only certificates from ACM in its own region.
    yield from _regional_arn("alb.certificate_arn", arn, _CERTIFICATE, CERTIFICATE_RULE, cfg.aws_region)
    if arn is not None and not any(r.port == cfg.ports.https for r in cfg.alb_ingress_rules):
        yield Violation("alb_ingress_rules", "HTTPS is on (alb.certificate_arn): add an ingress rule "
                        f"for port {cfg.ports.https}", [r.port for r in cfg.alb_ingress_rules])
    if cfg.alb.ssl_policy not in ALB_SSL_POLICIES:
        yield Violation("alb.ssl_policy", "must be one of the ALB's predefined security policies "
                        "(config/validation.py ALB_SSL_POLICIES), e.g. 'ELBSecurityPolicy-TLS13-1-2-2021-06'",
                        cfg.alb.ssl_policy)
    if cfg.alb.access_logs_bucket is not None:
        yield from check_s3_bucket("alb.access_logs_bucket", cfg.alb.access_logs_bucket)
    if not 1 <= cfg.alb.idle_timeout <= 4000:
        yield Violation("alb.idle_timeout", "ALB idle timeouts are 1-4000 seconds", cfg.alb.idle_timeout)
    if cfg.alb.desync_mitigation_mode not in ("monitor", "defensive", "strictest"):
        yield Violation("alb.desync_mitigation_mode",
                        "ALB desync mitigation modes are 'monitor', 'defensive' or 'strictest'",
                        cfg.alb.desync_mitigation_mode)


def _ecs(cfg: Settings) -> Iterator[Violation]:
    grace = cfg.ecs.health_check_grace_period_seconds
    if not 0 <= grace <= 2147483647:
        yield Violation("ecs.health_check_grace_period_seconds",
                        "ECS health check grace periods are 0-2147483647 seconds", grace)
    if cfg.ecs.log_retention_days not in _LOG_RETENTION_DAYS:
        yield Violation("ecs.log_retention_days", f"CloudWatch accepts only {_LOG_RETENTION_DAYS}",
                        cfg.ecs.log_retention_days)
    yield from check_pattern("ecs.namespace", cfg.ecs.namespace, _NAMESPACE,
                             "a DNS name with at least two labels, e.g. 'lgtm.local'")
    yield from check_image_reference("ecs.init_image", cfg.ecs.init_image)
    yield from check_pattern("ecs.grafana_admin_user", cfg.ecs.grafana_admin_user, _GRAFANA_USER, GRAFANA_USER_RULE)


def _github(cfg: Settings) -> Iterator[Violation]:
    gh = cfg.github
    repo_ok = _GITHUB_REPO.fullmatch(gh.repository) and gh.repository.split("/")[1] not in (".", "..")
    if not repo_ok:
        yield Violation("github.repository", "GitHub repositories are written 'owner/name'", gh.repository)
    # The policy grows into parts named <name>-2, <name>-3, ...: the longest must fit too.
    longest = f"{gh.deploy_policy_name}-9"
    if not _IAM_POLICY_NAME.fullmatch(longest):
        yield Violation("github.deploy_policy_name", IAM_POLICY_NAME_RULE + " (its parts add '-2', '-3', ...)",
                        gh.deploy_policy_name)
    yield from check_pattern("github.deploy_role_name", gh.deploy_role_name, _IAM_NAME, IAM_NAME_RULE)
    if gh.existing_role_name is not None:
        yield from check_pattern("github.existing_role_name", gh.existing_role_name, _IAM_NAME, IAM_NAME_RULE)
    yield from _github_plan_access(cfg)


def _github_plan_access(cfg: Settings) -> Iterator[Violation]:
    """The plan role and policy (read-only) and the claims the two roles trust."""
    gh = cfg.github
    yield from check_pattern("github.plan_role_name", gh.plan_role_name, _IAM_NAME, IAM_NAME_RULE)
    # The HCP Terraform roles append '-hcp' to both role names: those must fit too.
    for field, name in (("github.deploy_role_name", gh.deploy_role_name), ("github.plan_role_name", gh.plan_role_name)):
        if cfg.state.backend == "hcp" and _IAM_NAME.fullmatch(name) and not _IAM_NAME.fullmatch(name + "-hcp"):
            yield Violation(field, IAM_NAME_RULE + " (with state.backend 'hcp' its HCP Terraform role adds '-hcp')",
                            name)
    if not _IAM_POLICY_NAME.fullmatch(f"{gh.plan_policy_name}-9"):
        yield Violation("github.plan_policy_name", IAM_POLICY_NAME_RULE + " (its parts add '-2', '-3', ...)",
                        gh.plan_policy_name)
    if gh.plan_role_name == gh.deploy_role_name:
        yield Violation("github.plan_role_name", "must differ from github.deploy_role_name: the read-only role "
                        "and the writing role are two roles", gh.plan_role_name)
    if gh.plan_policy_name == gh.deploy_policy_name:
        yield Violation("github.plan_policy_name", "must differ from github.deploy_policy_name", gh.plan_policy_name)
    if gh.apply_environment is not None:
        yield from check_pattern("github.apply_environment", gh.apply_environment, _GITHUB_CLAIM, GITHUB_CLAIM_RULE)
    yield from check_pattern("github.plan_branch", gh.plan_branch, _GITHUB_CLAIM, GITHUB_CLAIM_RULE)


def _iam_role_names(cfg: Settings) -> Iterator[Violation]:
    # 40-iam names one task role per service from config. (The ALB's and the execution role's
    # names always fit: project and environment are at most 32 and 16 characters.)
    for i, svc in enumerate(cfg.services):
        yield from check_pattern(f"{service_field(i, svc)}.name", cfg.resource_name(f"{svc.name}-task"),
                                 _IAM_NAME, "its task role name (<project>-<environment>-<service>-task) "
                                 "must fit IAM's 64 characters of letters, digits and +=,.@_-")


def _security(cfg: Settings) -> Iterator[Violation]:
    """Opt-in hardening settings (see .checkov.yaml: each removes a skipped check)."""
    for field, arn in (("state.kms_key_arn", cfg.state.kms_key_arn),
                       ("storage.kms_key_arn", cfg.storage.kms_key_arn),
                       ("ecs.log_kms_key_arn", cfg.ecs.log_kms_key_arn),
                       ("ecs.secrets_kms_key_arn", cfg.ecs.secrets_kms_key_arn)):
        yield from _regional_arn(field, arn, _KMS_KEY, KMS_KEY_RULE, cfg.aws_region)
    yield from _regional_arn("alb.web_acl_arn", cfg.alb.web_acl_arn, _WEB_ACL, WEB_ACL_RULE, cfg.aws_region)
    log_bucket = cfg.storage.access_log_bucket
    if log_bucket is not None:
        yield from check_s3_bucket("storage.access_log_bucket", log_bucket)
        logged = {cfg.state.state_bucket, *(cfg.data_bucket(svc.name) for svc in cfg.object_storage_services)}
        if log_bucket in logged:
            # A bucket logging into itself writes a log object per log object, forever.
            yield Violation("storage.access_log_bucket", "must not be one of the buckets it logs "
                            "(the state bucket or a data bucket)", log_bucket)


FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120
"""ECS container definition `stopTimeout`: at most 120 seconds on Fargate (ECS API reference)."""
MIN_FLUSH_BUDGET_SECONDS = 30
"""Seconds a backend keeps for its flush to S3 after its server stopped (about one head block)."""
RETENTION_RULE = ("retention is a whole number of days, at least 1: Loki applies it per daily index "
                  "table, and the other compactors delete whole blocks")


def _retention_and_shutdown(cfg: Settings) -> Iterator[Violation]:
    for signal in ("metrics_days", "logs_days", "traces_days", "profiles_days"):
        days = getattr(cfg.retention, signal)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            yield Violation(f"retention.{signal}", RETENTION_RULE, days)
    for name in ("metrics_wal_keepalive_minutes", "traces_queue_batches", "logs_max_backoff_retries"):
        yield from check_positive(f"collector_buffers.{name}", getattr(cfg.collector_buffers, name))
    ecs = cfg.ecs
    if not 2 <= ecs.stop_timeout_seconds <= FARGATE_MAX_STOP_TIMEOUT_SECONDS:
        yield Violation("ecs.stop_timeout_seconds", f"Fargate allows a stopTimeout of 2 to "
                        f"{FARGATE_MAX_STOP_TIMEOUT_SECONDS} seconds", ecs.stop_timeout_seconds)
    elif ecs.graceful_shutdown_seconds < 1 or cfg.flush_budget_seconds < MIN_FLUSH_BUDGET_SECONDS:
        yield Violation("ecs.graceful_shutdown_seconds", f"at least 1 second, and at least "
                        f"{MIN_FLUSH_BUDGET_SECONDS} s below ecs.stop_timeout_seconds "
                        f"({ecs.stop_timeout_seconds}), which the backends need to flush",
                        ecs.graceful_shutdown_seconds)


RULE_GROUPS = (_identity, _tags, _state, _environment_isolation, _buckets, _network_rules, _storage,
               _ingress, _ports, _services, _targets, _alb, _ecs, _github, _iam_role_names, _security,
               _retention_and_shutdown)


def violations(cfg: Settings) -> list[Violation]:
    shape = shape_violations(cfg)
    if any(_is_type_violation(v) for v in shape):
        return shape
    # A field with stray whitespace is reported once, by the shape pass, not again by its value rule.
    flagged = {v.field for v in shape}
    found = list(shape)
    for group in RULE_GROUPS:
        found.extend(v for v in group(cfg) if v.field not in flagged)
    return found


def validate(cfg: Settings) -> None:
    found = violations(cfg)
    if found:
        raise ConfigError(found)
