"""Rules a `Config` must satisfy before any stack reads it.

Each check names the field (as a dotted path from the config root), the rule and
the offending value, so a bad setting stops synth with a message a platform
engineer can act on. All violations are collected and raised as one error.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from config.common import Config


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


# Limits and patterns, from the AWS and Grafana documentation.
S3_BUCKET_RULE = ("S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
                  "begin and end with a letter or digit, have no '..', are not an IP address, "
                  "and do not start with 'xn--' or 'sthree-' or end with '-s3alias' or '--ol-s3'")
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
DYNAMODB_TABLE_RULE = "DynamoDB table names are 3-255 characters of letters, digits, '_', '-' and '.'"
_DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
REGION_RULE = "AWS regions look like 'ap-northeast-2' or 'us-gov-west-1'"
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
# Mimir/Loki/Tempo/Pyroscope share dskit's tenant rules: at most 150 characters
# from this set, and not '.' or '..'. Pipes are excluded: they join tenants.
TENANT_RULE = ("tenant IDs are 1-150 characters of letters, digits and !-_.*'(), "
               "and are not '.', '..' or '__mimir_cluster'")
_TENANT = re.compile(r"^[A-Za-z0-9!\-_.*'()]{1,150}$")
ENVIRONMENT_RULE = "environment names are 2-16 characters: a lowercase letter, then lowercase letters, digits or '-'"
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{1,15}$")
PROJECT_RULE = "project names are 2-32 characters: a lowercase letter, then lowercase letters, digits or '-'"
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
ELB_NAME_RULE = ("ALB and target group names are 1-32 characters of letters, digits and '-', "
                 "and do not begin or end with '-'")
_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
PORT_RULE = "ports are integers from 1 to 65535"
PRIORITY_RULE = "listener-rule priorities are unique integers from 1 to 50000"
CIDR_RULE = "must be an IPv4 CIDR block such as 10.0.0.0/16"
PATH_RULE = "ALB path patterns start with '/' and are at most 128 characters"
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_IAM_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
# Mimir accepts storage prefixes of letters and digits only.
MIMIR_PREFIX_RULE = "Mimir storage prefixes are 1-64 letters and digits"
_MIMIR_PREFIX = re.compile(r"^[A-Za-z0-9]{1,64}$")
_EFS_TRANSITIONS = ("AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS",
                    "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS")
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                       1827, 2192, 2557, 2922, 3288, 3653)
# Fargate's valid (cpu, memory) pairs in MiB.
_FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}


def check_s3_bucket(field: str, name: str) -> Iterator[Violation]:
    bad = (not isinstance(name, str) or not _S3_BUCKET.match(name) or ".." in name
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


def check_pattern(field: str, value: object, pattern: re.Pattern[str], rule: str) -> Iterator[Violation]:
    if not isinstance(value, str) or not pattern.match(value):
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


def _is_tenant(tenant: object) -> bool:
    return isinstance(tenant, str) and bool(_TENANT.fullmatch(tenant)) and tenant not in (".", "..", "__mimir_cluster")


def _legacy_tenants(cfg: Config) -> Iterator[Violation]:
    for signal in ("metrics", "logs", "traces"):
        tenants = getattr(cfg.legacy_read_tenants, signal)
        field = f"legacy_read_tenants.{signal}"
        if not isinstance(tenants, tuple):
            yield Violation(field, "a tuple of tenant IDs", tenants)
            continue
        for index, tenant in enumerate(tenants):
            if not _is_tenant(tenant):
                yield Violation(f"{field}[{index}]", TENANT_RULE, tenant)
            elif tenant == cfg.tenant_id:
                yield Violation(f"{field}[{index}]", "a legacy tenant is not the current tenant_id", tenant)
            elif tenants.index(tenant) != index:
                yield Violation(f"{field}[{index}]", "legacy tenants are listed once each", tenant)


def _identity(cfg: Config) -> Iterator[Violation]:
    yield from check_pattern("project", cfg.project, _PROJECT, PROJECT_RULE)
    yield from check_pattern("environment", cfg.environment, _ENVIRONMENT, ENVIRONMENT_RULE)
    yield from check_pattern("aws_region", cfg.aws_region, _REGION, REGION_RULE)
    if not _is_tenant(cfg.tenant_id):
        yield Violation("tenant_id", TENANT_RULE, cfg.tenant_id)
    yield from _legacy_tenants(cfg)
    for key, value in dict(cfg.tags).items():
        if not key or len(key) > 128 or len(str(value)) > 256 or key.lower().startswith("aws:"):
            yield Violation(f"tags[{key!r}]", "tag keys are 1-128 characters not starting with "
                            "'aws:', values at most 256 characters", value)


def _state(cfg: Config) -> Iterator[Violation]:
    s = cfg.state
    yield from check_s3_bucket("state.bootstrap_bucket", s.bootstrap_bucket)
    yield from check_s3_bucket("state.state_bucket", s.state_bucket)
    if s.bootstrap_bucket == s.state_bucket:
        yield Violation("state.state_bucket", "must differ from state.bootstrap_bucket "
                        "(bootstrap's state cannot live in the bucket it creates)", s.state_bucket)
    yield from check_pattern("state.lock_table", s.lock_table, _DYNAMODB_TABLE, DYNAMODB_TABLE_RULE)
    for name in ("bootstrap_state_key", "state_key_prefix"):
        key = getattr(s, name)
        if not isinstance(key, str) or not key or key.startswith("/") or key.endswith("/"):
            yield Violation(f"state.{name}", "S3 keys are non-empty and neither begin nor end with '/'", key)
    yield from check_positive("state.noncurrent_version_expiration_days", s.noncurrent_version_expiration_days)


def _network_rules(cfg: Config) -> Iterator[Violation]:
    n = cfg.network
    if n.existing_vpc is not None:
        e = n.existing_vpc
        if not e.vpc_id.startswith("vpc-"):
            yield Violation("network.existing_vpc.vpc_id", "VPC IDs look like 'vpc-0123abcd'", e.vpc_id)
        for name in ("public_subnet_ids", "private_subnet_ids"):
            ids = getattr(e, name)
            if len(ids) < 2 or not all(isinstance(i, str) and i.startswith("subnet-") for i in ids):
                yield Violation(f"network.existing_vpc.{name}", "an existing VPC needs at least two "
                                "subnet IDs ('subnet-...') in different AZs for the ALB and ECS", ids)
        for i, rt in enumerate(e.private_route_table_ids):
            if not rt.startswith("rtb-"):
                yield Violation(f"network.existing_vpc.private_route_table_ids[{i}]",
                                "route table IDs look like 'rtb-0123abcd'", rt)
        if n.s3_gateway_endpoint and not e.private_route_table_ids:
            # An existing VPC often has its S3 endpoint already: creating one is an explicit choice.
            yield Violation("network.existing_vpc.private_route_table_ids", "the S3 gateway endpoint "
                            "(network.s3_gateway_endpoint) attaches to the private route tables: list them, "
                            "or set network.s3_gateway_endpoint=False", e.private_route_table_ids)
        return
    if n.flow_log_retention_days is not None and n.flow_log_retention_days not in _LOG_RETENTION_DAYS:
        yield Violation("network.flow_log_retention_days", f"CloudWatch accepts only {_LOG_RETENTION_DAYS}",
                        n.flow_log_retention_days)
    vpc = _network(n.vpc_cidr)
    yield from check_cidr("network.vpc_cidr", n.vpc_cidr)
    if len(n.availability_zones) < 2 or len(set(n.availability_zones)) != len(n.availability_zones):
        yield Violation("network.availability_zones", "an ALB needs at least two distinct AZs",
                        n.availability_zones)
    for az in n.availability_zones:
        if not az.startswith(cfg.aws_region):
            yield Violation("network.availability_zones", f"AZs must be in aws_region {cfg.aws_region}", az)
    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for name in ("public_subnet_cidrs", "private_subnet_cidrs"):
        cidrs = getattr(n, name)
        if len(cidrs) != len(n.availability_zones):
            yield Violation(f"network.{name}", "one subnet per availability zone", cidrs)
        for i, cidr in enumerate(cidrs):
            field = f"network.{name}[{i}]"
            net = _network(cidr)
            if net is None:
                yield Violation(field, CIDR_RULE, cidr)
                continue
            if vpc is not None and not net.subnet_of(vpc):
                yield Violation(field, f"subnets must lie inside network.vpc_cidr {n.vpc_cidr}", cidr)
            for other_field, other in subnets:
                if net.overlaps(other):
                    yield Violation(field, f"subnets must not overlap ({other_field} is {other})", cidr)
            subnets.append((field, net))


def _storage(cfg: Config) -> Iterator[Violation]:
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


def _mimir_prefixes(cfg: Config) -> Iterator[Violation]:
    prefixes = cfg.storage.mimir_prefixes.as_dict()
    for name, prefix in prefixes.items():
        yield from check_pattern(f"storage.mimir_prefixes.{name}", prefix, _MIMIR_PREFIX, MIMIR_PREFIX_RULE)
    # Mimir refuses to start when two of its stores overlap in one bucket.
    for name, prefix in prefixes.items():
        for other_name, other in prefixes.items():
            if name != other_name and isinstance(prefix, str) and isinstance(other, str) \
                    and prefix.startswith(other) and (prefix != other or name > other_name):
                yield Violation(f"storage.mimir_prefixes.{name}", "Mimir's blocks, ruler and alertmanager "
                                f"prefixes must not overlap (storage.mimir_prefixes.{other_name} is {other!r})",
                                prefix)


def _efs_volumes(cfg: Config) -> Iterator[Violation]:
    roots: dict[str, str] = {}
    for i, svc in enumerate(cfg.services):
        if svc.efs is None:
            continue
        field = f"services[{i}]({svc.name}).efs"
        volume = svc.efs
        for name in ("container_path", "root_directory"):
            path = getattr(volume, name)
            if not isinstance(path, str) or not path.startswith("/") or path == "/" or path.endswith("/") \
                    or len(path) > 100:
                yield Violation(f"{field}.{name}", "absolute paths other than '/', without a trailing '/', "
                                "at most 100 characters", path)
        if volume.root_directory in roots:
            yield Violation(f"{field}.root_directory", f"each service has its own EFS root directory "
                            f"({roots[volume.root_directory]} has it)", volume.root_directory)
        roots[volume.root_directory] = field
        for name in ("uid", "gid"):
            value = getattr(volume, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4294967295:
                yield Violation(f"{field}.{name}", "POSIX IDs are integers from 0 to 4294967295", value)
        if not isinstance(volume.permissions, str) or not re.match(r"^[0-7]{3,4}$", volume.permissions):
            yield Violation(f"{field}.permissions", "octal modes such as '0750'", volume.permissions)


def _ingress(cfg: Config) -> Iterator[Violation]:
    names = [r.name for r in cfg.alb_ingress_rules]
    for i, rule in enumerate(cfg.alb_ingress_rules):
        field = f"alb_ingress_rules[{i}]"
        if names.count(rule.name) > 1:
            yield Violation(f"{field}.name", "ingress rule names are unique", rule.name)
        yield from check_port(f"{field}.port", rule.port)
        if rule.port not in (cfg.ports.http, cfg.ports.https):
            yield Violation(f"{field}.port", "the ALB listens only on the HTTP and HTTPS ports "
                            f"({cfg.ports.http}, {cfg.ports.https}); OTLP arrives via /v1/traces on port 80",
                            rule.port)
        if not rule.cidr_blocks:
            yield Violation(f"{field}.cidr_blocks", "at least one source CIDR", rule.cidr_blocks)
        for j, cidr in enumerate(rule.cidr_blocks):
            yield from check_cidr(f"{field}.cidr_blocks[{j}]", cidr)
        if not rule.description.strip():
            yield Violation(f"{field}.description", "every rule says what uses it", rule.description)


def _services(cfg: Config) -> Iterator[Violation]:
    from config.common import COLLECTOR_KIND, CORE_SERVICES

    names = [s.name for s in cfg.services]
    for required in CORE_SERVICES:
        if required not in names:
            yield Violation("services", f"the stack needs a {required!r} service", names)
    collector_port = next((s.http_port for s in cfg.services if s.name == COLLECTOR_KIND), None)
    priorities: dict[int, str] = {}
    target_names: set[str] = set()
    defaults = 0
    for i, svc in enumerate(cfg.services):
        field = f"services[{i}]({svc.name})"
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
        if not svc.image or not svc.tag or ":" in svc.tag or svc.tag == "latest":
            yield Violation(f"{field}.tag", "images are pinned to an explicit tag other than 'latest'",
                            svc.image_ref)
        if svc.memory not in _FARGATE_MEMORY.get(svc.cpu, ()):
            yield Violation(f"{field}.memory", f"Fargate task sizes: cpu {sorted(_FARGATE_MEMORY)} "
                            f"with the memory (MiB) each allows", (svc.cpu, svc.memory))
        yield from check_positive(f"{field}.desired_count", svc.desired_count)
        if svc.stateful and svc.desired_count != 1:
            yield Violation(f"{field}.desired_count", "stateful services run exactly one task "
                            "(they own one data directory)", svc.desired_count)
        if not svc.readiness_path.startswith("/"):
            yield Violation(f"{field}.readiness_path", PATH_RULE, svc.readiness_path)
        if svc.path_prefix and (not svc.path_prefix.startswith("/") or svc.path_prefix.endswith("/")):
            yield Violation(f"{field}.path_prefix", "path prefixes start with '/' and do not end with '/'",
                            svc.path_prefix)
        for j, tgt in enumerate(svc.targets):
            tfield = f"{field}.targets[{j}]({tgt.name})"
            yield from check_port(f"{tfield}.port", tgt.port)
            if tgt.health_check_port is not None:
                yield from check_port(f"{tfield}.health_check_port", tgt.health_check_port)
            if tgt.name in target_names:
                yield Violation(f"{tfield}.name", "target names are unique", tgt.name)
            target_names.add(tgt.name)
            yield from check_pattern(f"{tfield}.name", cfg.short_name(tgt.name), _ELB_NAME, ELB_NAME_RULE)
            if not tgt.health_check_path.startswith("/"):
                yield Violation(f"{tfield}.health_check_path", PATH_RULE, tgt.health_check_path)
            if not tgt.paths:
                defaults += 1
                if tgt.priority is not None:
                    yield Violation(f"{tfield}.priority", "the default target has no priority", tgt.priority)
                continue
            for path in tgt.paths:
                if not path.startswith("/") or len(path) > 128:
                    yield Violation(f"{tfield}.paths", PATH_RULE, path)
            if len(tgt.paths) > 5:
                yield Violation(f"{tfield}.paths", "an ALB rule takes at most 5 path patterns", tgt.paths)
            prio = tgt.priority
            if not isinstance(prio, int) or not 1 <= prio <= 50000 or prio in priorities:
                taken = f"; {priorities[prio]} has it" if isinstance(prio, int) and prio in priorities else ""
                yield Violation(f"{tfield}.priority", PRIORITY_RULE + taken, prio)
            else:
                priorities[prio] = tfield
        if len(svc.targets) > 5:
            yield Violation(f"{field}.targets", "an ECS service registers with at most 5 target groups",
                            len(svc.targets))
    if defaults != 1:
        yield Violation("services[*].targets", "exactly one target (no paths) is the listener's default",
                        defaults)
    yield from check_pattern("alb name", cfg.short_name("alb"), _ELB_NAME, ELB_NAME_RULE)
    ports = cfg.ports
    for name in ("grpc", "memberlist", "otlp_grpc", "otlp_http", "nfs", "http", "https"):
        yield from check_port(f"ports.{name}", getattr(ports, name))


def _alb_ecs_github(cfg: Config) -> Iterator[Violation]:
    arn = cfg.alb.certificate_arn
    if arn is not None and not re.match(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+$", arn):
        yield Violation("alb.certificate_arn", "ACM certificate ARNs look like "
                        "'arn:aws:acm:<region>:<account>:certificate/<id>'", arn)
    if arn is not None and not any(r.port == cfg.ports.https for r in cfg.alb_ingress_rules):
        yield Violation("alb_ingress_rules", "HTTPS is on (alb.certificate_arn): add an ingress rule "
                        f"for port {cfg.ports.https}", [r.port for r in cfg.alb_ingress_rules])
    if cfg.alb.access_logs_bucket is not None:
        yield from check_s3_bucket("alb.access_logs_bucket", cfg.alb.access_logs_bucket)
    if not 1 <= cfg.alb.idle_timeout <= 4000:
        yield Violation("alb.idle_timeout", "ALB idle timeouts are 1-4000 seconds", cfg.alb.idle_timeout)
    if cfg.alb.desync_mitigation_mode not in ("monitor", "defensive", "strictest"):
        yield Violation("alb.desync_mitigation_mode",
                        "ALB desync mitigation modes are 'monitor', 'defensive' or 'strictest'",
                        cfg.alb.desync_mitigation_mode)
    grace = cfg.ecs.health_check_grace_period_seconds
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 2147483647:
        yield Violation("ecs.health_check_grace_period_seconds",
                        "ECS health check grace periods are 0-2147483647 seconds", grace)
    if cfg.ecs.log_retention_days not in _LOG_RETENTION_DAYS:
        yield Violation("ecs.log_retention_days", f"CloudWatch accepts only {_LOG_RETENTION_DAYS}",
                        cfg.ecs.log_retention_days)
    if not re.match(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", cfg.ecs.namespace):
        yield Violation("ecs.namespace", "a DNS name with at least two labels, e.g. 'lgtm.local'",
                        cfg.ecs.namespace)
    gh = cfg.github
    yield from check_pattern("github.repository", gh.repository, _GITHUB_REPO,
                             "GitHub repositories are written 'owner/name'")
    yield from check_pattern("github.deploy_policy_name", gh.deploy_policy_name, _IAM_NAME,
                             "IAM names are 1-64 characters of letters, digits and +=,.@_-")
    yield from check_pattern("github.deploy_role_name", gh.deploy_role_name, _IAM_NAME,
                             "IAM names are 1-64 characters of letters, digits and +=,.@_-")
    if gh.existing_role_name is not None:
        yield from check_pattern("github.existing_role_name", gh.existing_role_name, _IAM_NAME,
                                 "IAM names are 1-64 characters of letters, digits and +=,.@_-")


def _iam_role_names(cfg: Config) -> Iterator[Violation]:
    # 40-iam names its roles from config: the execution role and one task role per service.
    yield from check_pattern("iam role name (project, environment)", cfg.resource_name("task-execution"),
                             _IAM_NAME, "IAM names are 1-64 characters of letters, digits and +=,.@_-")
    for i, svc in enumerate(cfg.services):
        yield from check_pattern(f"services[{i}]({svc.name}).name", cfg.resource_name(f"{svc.name}-task"),
                                 _IAM_NAME, "its task role name (<project>-<environment>-<service>-task) "
                                 "must fit IAM's 64 characters of letters, digits and +=,.@_-")


KMS_KEY_RULE = "KMS key ARNs look like 'arn:aws:kms:<region>:<account>:key/<key id>' (a key, not an alias)"
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/[A-Za-z0-9-]+$")
WEB_ACL_RULE = "regional WAFv2 web ACL ARNs look like 'arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>'"
_WEB_ACL = re.compile(r"^arn:aws[a-z-]*:wafv2:(?P<region>[a-z0-9-]+):\d{12}:regional/webacl/[\w-]+/[\w-]+$")
USER_RULE = "container users are a numeric 'uid' or 'uid:gid' other than root (uid 0)"
_USER = re.compile(r"^[1-9]\d{0,9}(:\d{1,10})?$")


def _regional_arn(field: str, arn: str | None, pattern: re.Pattern[str], rule: str,
                  region: str) -> Iterator[Violation]:
    """An ARN of the given shape in the config's region (S3, DynamoDB, EFS, logs and ALBs use
    only keys and web ACLs of their own region)."""
    if arn is None:
        return
    match = pattern.match(arn)
    if not match:
        yield Violation(field, rule, arn)
    elif match.group("region") != region:
        yield Violation(field, f"must be in aws_region {region}", arn)


def _security(cfg: Config) -> Iterator[Violation]:
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
    for i, svc in enumerate(cfg.services):
        if svc.user is not None:
            yield from check_pattern(f"services[{i}]({svc.name}).user", svc.user, _USER, USER_RULE)


FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120
"""ECS container definition `stopTimeout`: at most 120 seconds on Fargate (ECS API reference)."""
MIN_FLUSH_BUDGET_SECONDS = 30
"""Seconds a backend keeps for its flush to S3 after its server stopped (about one head block)."""
RETENTION_RULE = ("retention is a whole number of days, at least 1: Loki applies it per daily index "
                  "table, and the other compactors delete whole blocks")


def _retention_and_shutdown(cfg: Config) -> Iterator[Violation]:
    for signal in ("metrics_days", "logs_days", "traces_days", "profiles_days"):
        days = getattr(cfg.retention, signal)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            yield Violation(f"retention.{signal}", RETENTION_RULE, days)
    for name in ("metrics_wal_keepalive_minutes", "traces_queue_batches", "logs_max_backoff_retries"):
        yield from check_positive(f"collector_buffers.{name}", getattr(cfg.collector_buffers, name))
    ecs = cfg.ecs
    if not isinstance(ecs.stop_timeout_seconds, int) or not 2 <= ecs.stop_timeout_seconds \
            <= FARGATE_MAX_STOP_TIMEOUT_SECONDS:
        yield Violation("ecs.stop_timeout_seconds", f"Fargate allows a stopTimeout of 2 to "
                        f"{FARGATE_MAX_STOP_TIMEOUT_SECONDS} seconds", ecs.stop_timeout_seconds)
    elif not isinstance(ecs.graceful_shutdown_seconds, int) or ecs.graceful_shutdown_seconds < 1 \
            or cfg.flush_budget_seconds < MIN_FLUSH_BUDGET_SECONDS:
        yield Violation("ecs.graceful_shutdown_seconds", f"at least 1 second, and at least "
                        f"{MIN_FLUSH_BUDGET_SECONDS} s below ecs.stop_timeout_seconds "
                        f"({ecs.stop_timeout_seconds}), which the backends need to flush",
                        ecs.graceful_shutdown_seconds)


RULE_GROUPS = (_identity, _state, _network_rules, _storage, _ingress, _services, _alb_ecs_github,
               _iam_role_names, _security, _retention_and_shutdown)


def violations(cfg: Config) -> list[Violation]:
    found: list[Violation] = []
    for group in RULE_GROUPS:
        found.extend(group(cfg))
    return found


def validate(cfg: Config) -> None:
    found = violations(cfg)
    if found:
        raise ConfigError(found)
