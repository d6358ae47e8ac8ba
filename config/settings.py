"""The shape of every setting the stacks read: typed, defaulted, described, not yet validated.

`config.common.Config` is the kind the stacks get: a `Settings` that passed `config.validation`
on construction. The rules read these classes; nothing here reads the rules, so the import
graph runs one way: names -> settings -> validation -> common.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config.names import (
    ALLOY,
    DEPLOY_POLICY_NAME,
    DEPLOY_ROLE_NAME,
    GRAFANA,
    HCP_HOSTNAME,
    LOKI,
    MIMIR,
    MIMIR_PUSH_PATH,
    NAME_PREFIX,
    PLAN_POLICY_SUFFIX,
    PLAN_ROLE_SUFFIX,
    PYROSCOPE,
    TEMPO,
)


@dataclass(frozen=True)
class StateConfig:
    """Where Terraform keeps state, per stack (docs/architecture.md "Stacks and state")."""

    bootstrap_bucket: str
    """Created once by hand (`make bootstrap-bucket`); holds only 00-bootstrap's state."""
    bootstrap_state_key: str
    """00-bootstrap's own state key in the bootstrap bucket."""
    state_bucket: str
    """Created by 00-bootstrap; holds every other stack's state."""
    lock_table: str
    """DynamoDB table created by 00-bootstrap; locks every stack but bootstrap."""
    state_key_prefix: str
    """Keys are `<prefix>/<stack id>/terraform.tfstate`."""
    use_lockfile: bool = False
    """Also lock with an S3 lock file (Terraform >= 1.10), bootstrap included."""
    noncurrent_version_expiration_days: int = 90
    """Old state versions are kept this long in the state bucket."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key (ARN, in aws_region) for the state bucket's default encryption and
    the lock table. None: SSE-S3 (AES256) and DynamoDB's AWS-owned key; a CMK costs money and its key
    policy is the account's business, so it is opt-in (checkov CKV_AWS_145/CKV_AWS_119 skipped until set)."""

    backend: str = "s3"
    """"s3" (the layout above) or "hcp": every stack gets a `cloud` block, workspace
    `<project>-<environment>-<stack>` in `hcp_organization` / `hcp_project` (docs/deploy-access.md)."""
    hcp_organization: str | None = None
    """HCP Terraform organization; required with backend "hcp"."""
    hcp_project: str | None = None
    """HCP Terraform project the workspaces live in; required with backend "hcp" (it is part of
    the dynamic-credentials `sub` claim the roles trust)."""
    hcp_hostname: str = HCP_HOSTNAME
    """HCP Terraform's host (Terraform Enterprise: its own); the OIDC issuer is https://<host>."""
    hcp_create_oidc_provider: bool = True
    """False looks up the account's existing OIDC provider for hcp_hostname (one per URL per account)."""

    def state_key(self, stack_id: str) -> str:
        return f"{self.state_key_prefix}/{stack_id}/terraform.tfstate"


@dataclass(frozen=True)
class ExistingVpc:
    """Use a VPC that already exists instead of creating one."""

    vpc_id: str
    """The VPC the stacks deploy into (10-network looks it up instead of creating one)."""
    public_subnet_ids: tuple[str, ...]
    """Subnets the ALB lives in, one per availability zone."""
    private_subnet_ids: tuple[str, ...]
    """Subnets the tasks and EFS mount targets live in; they need a route to the internet (NAT) for image pulls."""
    private_route_table_ids: tuple[str, ...] = ()
    """Route tables the S3 gateway endpoint attaches to (only if it is created)."""


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str = "10.20.0.0/16"
    """The new VPC's address range."""
    availability_zones: tuple[str, ...] = ("ap-northeast-2a", "ap-northeast-2c")
    """One public and one private subnet per zone (the ALB needs two zones)."""
    public_subnet_cidrs: tuple[str, ...] = ("10.20.0.0/24", "10.20.1.0/24")
    """One per availability zone, in order: the ALB and the NAT gateways."""
    private_subnet_cidrs: tuple[str, ...] = ("10.20.10.0/24", "10.20.11.0/24")
    """One per availability zone, in order: the tasks and the EFS mount targets."""
    nat_gateway_per_az: bool = False
    """One NAT gateway per AZ (resilient) instead of one shared (cheaper)."""
    s3_gateway_endpoint: bool = True
    """Lets object-storage traffic from private subnets skip the NAT gateway."""
    existing_vpc: ExistingVpc | None = None
    """Deploy into this VPC instead of creating one (None: 10-network creates it)."""
    flow_log_retention_days: int | None = 90
    """A new VPC's flow logs (all traffic) go to CloudWatch Logs for this many days; None: no flow logs.
    An existing VPC's flow logs are its owner's business."""


@dataclass(frozen=True)
class MimirStoragePrefixes:
    """Mimir's three object stores share its bucket under distinct prefixes.

    Mimir refuses to start when blocks, ruler and alertmanager storage overlap.
    Defined once here: 60-ecs renders Mimir's `storage_prefix` settings from it and
    40-iam scopes Mimir's object permissions to these prefixes.
    """

    blocks: str = "blocks"
    """Prefix of Mimir's TSDB blocks."""
    ruler: str = "ruler"
    """Prefix of Mimir's ruler storage (recording and alerting rules)."""
    alertmanager: str = "alertmanager"
    """Prefix of Mimir's alertmanager state."""

    def as_dict(self) -> dict[str, str]:
        """Prefix per Mimir storage (`blocks`, `ruler`, `alertmanager`)."""
        return {"blocks": self.blocks, "ruler": self.ruler, "alertmanager": self.alertmanager}


@dataclass(frozen=True)
class RetentionConfig:
    """How long each signal is kept, in days: one number per signal, enforced by its backend.

    Each backend's compactor deletes what is older (Mimir, Pyroscope
    `limits.compactor_blocks_retention_period`, Loki `limits_config.retention_period`, Tempo
    `compactor.compaction.block_retention`), keeping its own index consistent; the buckets never
    expire data by object age, which would delete blocks and chunks under a live index.
    """

    metrics_days: int = 400
    """Mimir keeps samples this long."""
    logs_days: int = 400
    """Loki keeps log lines this long."""
    traces_days: int = 14
    """Tempo's own default (336h), kept: traces are the bulkiest signal."""
    profiles_days: int = 400
    """Pyroscope keeps profiles this long."""

    def by_service(self) -> dict[str, int]:
        """Retention (days) per backend service name."""
        return {MIMIR: self.metrics_days, LOKI: self.logs_days, TEMPO: self.traces_days,
                PYROSCOPE: self.profiles_days}


@dataclass(frozen=True)
class LegacyReadTenants:
    """Older tenants whose data Grafana can still read, per signal; every writer keeps `tenant_id`.

    When a signal lists any, its backend turns on cross-tenant queries and Grafana gets a
    read-only "(with history)" datasource whose X-Scope-OrgID is `<tenant_id>|<legacy>|...`.
    Pyroscope 1.10 cannot federate tenants: see `Config.pyroscope_legacy_anonymous`.
    """

    metrics: tuple[str, ...] = ()
    """Older Mimir tenants Grafana's "(with history)" Mimir datasource also reads."""
    logs: tuple[str, ...] = ()
    """Older Loki tenants Grafana's "(with history)" Loki datasource also reads."""
    traces: tuple[str, ...] = ()
    """Older Tempo tenants Grafana's "(with history)" Tempo datasource also reads."""

    def by_service(self) -> dict[str, tuple[str, ...]]:
        """Legacy tenants per backend service name (the backends that can federate tenants)."""
        return {MIMIR: self.metrics, LOKI: self.logs, TEMPO: self.traces}


@dataclass(frozen=True)
class CollectorBufferConfig:
    """What Alloy holds for a backend that is restarting (a deploy stops each backend for minutes)."""

    metrics_wal_keepalive_minutes: int = 120
    """Samples stay in prometheus.remote_write's WAL (on its storage volume) this long unsent."""
    traces_queue_batches: int = 1000
    """Batches of spans the OTLP exporter queues in memory while Tempo is unreachable."""
    logs_max_backoff_retries: int = 20
    """loki.write retries a batch this often (backoff up to 5 minutes) before dropping it."""


@dataclass(frozen=True)
class StorageConfig:
    abort_incomplete_multipart_days: int = 7
    """Unfinished multipart uploads in the data buckets are aborted after this many days."""
    efs_transition_to_ia: str = "AFTER_30_DAYS"
    """When EFS moves a file to Infrequent Access (an EFS lifecycle value such as AFTER_30_DAYS)."""
    noncurrent_version_expiration_days: int = 7
    """Data buckets are versioned; overwritten/deleted object versions are kept this long."""
    mimir_prefixes: MimirStoragePrefixes = field(default_factory=MimirStoragePrefixes)
    """Where Mimir's three stores live inside its bucket."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key (ARN, in aws_region) for the data buckets and EFS; the task roles get
    kms:Decrypt/GenerateDataKey on it. None: SSE-S3 (AES256) and EFS's AWS-managed key."""
    access_log_bucket: str | None = None
    """Existing bucket that receives S3 server access logs of the state bucket and every data bucket
    (prefix `<bucket>/`); it must grant logging.s3.amazonaws.com PutObject. None: no access logs."""


@dataclass(frozen=True)
class EfsVolume:
    """State a service keeps on EFS: one access point, its own POSIX user and root directory."""

    container_path: str
    """Where the task mounts the access point (60-ecs), e.g. Grafana's /var/lib/grafana."""
    root_directory: str
    """The access point's root inside the file system, e.g. /grafana."""
    uid: int
    """POSIX user every NFS operation through the access point runs as (the service's user)."""
    gid: int
    """POSIX group every NFS operation through the access point runs as."""
    permissions: str = "0750"
    """Octal mode EFS gives the root directory when it creates it."""


@dataclass(frozen=True)
class IngressRule:
    """One ALB ingress rule: who may reach the load balancer on which port."""

    name: str
    """Names the rule's security-group resource (unique)."""
    port: int
    """The listener port clients reach (ports.http or ports.https)."""
    cidr_blocks: tuple[str, ...]
    """Who may connect (IPv4 CIDRs)."""
    description: str
    """The rule's description in EC2 (what the clients are)."""


@dataclass(frozen=True)
class Target:
    """One ALB target group: a (service, container port) pair and its routing.

    `paths` empty means the listener's default action.
    """

    name: str
    """Names the target group (`<project>-<env>-<name>`, at most 32 characters); unique."""
    port: int
    """The container port the target group sends traffic to."""
    health_check_path: str
    """The ALB's health-check path on the target (or `health_check_port`)."""
    paths: tuple[str, ...] = ()
    """Listener path patterns routed here; empty: the listener's default action."""
    priority: int | None = None
    """The listener rule's priority (1-50000, unique); None for the default target."""
    health_check_port: int | None = None
    """None checks the traffic port; Tempo's OTLP group checks 3200 instead."""


@dataclass(frozen=True)
class PrefixProxy:
    """A reverse proxy in the service's task that serves it under `prefix` on `port`.

    For a service that must itself run unprefixed, because its own components call each other
    without a prefix (Pyroscope), while the ALB routes it under a path: the proxy strips `prefix`
    and forwards to the service's `http_port` on loopback. The ALB target is the proxy's port.
    """

    prefix: str
    """Public path prefix, e.g. /pyroscope: `<prefix>/ready` reaches the service's `/ready`."""
    port: int
    """Where the proxy listens (the ALB target port)."""
    image: str = "public.ecr.aws/nginx/nginx-unprivileged"
    """The proxy's image repository (nginx, unprivileged build)."""
    tag: str = "1.27.3-alpine"
    """The proxy image's pinned tag."""
    user: str = "101:101"
    """The image's own USER (nginx): the proxy runs unprivileged on a port above 1024."""

    @property
    def image_ref(self) -> str:
        return f"{self.image}:{self.tag}"


@dataclass(frozen=True)
class ServiceConfig:
    """One ECS service on its upstream image."""

    name: str
    """The ECS service, its Cloud Map name (`<name>.<namespace>`) and its container."""
    image: str
    """The upstream image repository, e.g. grafana/mimir (no tag)."""
    tag: str
    """The pinned image tag (never `latest`); the renderers target this version's config keys."""
    cpu: int
    """Fargate task CPU units (a Fargate size together with `memory`)."""
    memory: int
    """Fargate task memory in MiB (a Fargate size together with `cpu`)."""
    http_port: int
    """The service's HTTP port: its API, readiness and metrics."""
    readiness_path: str
    """Readiness endpoint on `http_port`, used by container health checks."""
    targets: tuple[Target, ...] = ()
    """The ALB target groups that route to this service; empty: not behind the ALB."""
    desired_count: int = 1
    """Tasks to run; stateful services run one."""
    stateful: bool = True
    """Single-replica services with on-disk state never run two tasks at once."""
    path_prefix: str = ""
    """dskit `server.http_path_prefix` (or Tempo's `http_api_prefix`)."""
    object_storage: bool = False
    """Keeps its data in an S3 bucket of its own (`Config.data_bucket(name)`), made by 20-storage."""
    efs: EfsVolume | None = None
    """On-disk state on EFS (an access point made by 20-storage); None keeps none."""
    kind: str = ""
    """Which core service this runs (picks its config renderer); empty means `name`.
    Services beyond the six core ones are further Alloy collectors: kind 'alloy'."""
    user: str | None = None
    """`uid[:gid]` (numeric, not root) the service container runs as; None keeps the image's own
    user. 60-ecs hands the task's scratch volumes to this user."""
    prefix_proxy: PrefixProxy | None = None
    """A path-stripping proxy container in the task, in front of the service (see `PrefixProxy`)."""
    read_only_root_filesystem: bool = True
    """The container's root filesystem is read-only: it writes only to /tmp and its data directory
    (task scratch volumes, see 60-ecs) and its EFS volume. False only for an image that writes elsewhere."""

    @property
    def image_ref(self) -> str:
        return f"{self.image}:{self.tag}"

    @property
    def service_kind(self) -> str:
        return self.kind or self.name


@dataclass(frozen=True)
class Ports:
    """Ports that are not a service's main HTTP port (defined once here)."""

    grpc: int = 9095
    """dskit's gRPC server port in every backend (internal only, never routed)."""
    memberlist: int = 7946
    """dskit's memberlist gossip port (the rings are in-memory here; kept off every routed port)."""
    otlp_grpc: int = 4317
    """OTLP over gRPC (Tempo's receiver, Alloy's receiver)."""
    otlp_http: int = 4318
    """OTLP over HTTP (Tempo's receiver behind /v1/traces, Alloy's receiver)."""
    nfs: int = 2049
    """EFS's NFS port (the tasks' security group reaches the mount targets on it)."""
    http: int = 80
    """The ALB's HTTP listener (and its ingress rule's port)."""
    https: int = 443
    """The ALB's HTTPS listener, with `alb.certificate_arn`. The tasks' egress to AWS APIs is 443
    whatever this is (components/security_groups.py AWS_API_PORT)."""


@dataclass(frozen=True)
class AlbConfig:
    certificate_arn: str | None = None
    """When set, a 443 listener carries the rules and port 80 redirects to it."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """The HTTPS listener's TLS policy (with `certificate_arn`)."""
    deletion_protection: bool = False
    """AWS refuses to delete the ALB while on (a destroy then fails until it is turned off)."""
    access_logs_bucket: str | None = None
    """Existing bucket for the ALB's access logs; None: no access logs."""
    idle_timeout: int = 60
    """Seconds a connection may stay idle (1-4000); long queries need more than the default."""
    drop_invalid_header_fields: bool = True
    """The ALB drops HTTP headers with invalid names instead of forwarding them."""
    desync_mitigation_mode: str = "strictest"
    """How the ALB treats HTTP desync (request smuggling) risks: monitor, defensive or strictest."""
    web_acl_arn: str | None = None
    """Existing regional WAFv2 web ACL to associate with the ALB. None: no WAF (its rules and cost
    are the user's choice; checkov CKV2_AWS_28 skipped until set). Once set, checkov's CKV2_AWS_76
    (Log4j managed rule group in the ACL) runs too and cannot see an ACL made elsewhere."""


@dataclass(frozen=True)
class EcsConfig:
    log_retention_days: int = 30
    """The services' CloudWatch log groups keep events this long (a CloudWatch retention value)."""
    container_insights: bool = True
    """CloudWatch Container Insights on the cluster (costs per metric)."""
    fargate_spot: bool = False
    """Run on Fargate Spot (cheaper, can be interrupted) instead of Fargate."""
    namespace: str = "lgtm.local"
    """Cloud Map private DNS namespace: services reach each other as <name>.<namespace>."""
    init_image: str = "public.ecr.aws/docker/library/busybox:1.37.0-musl"
    """Image of the init container that writes rendered configs into the task volume. Its busybox is
    copied into every task for the health checks, so it must be statically linked (the `-musl`
    variant; the default glibc variant needs a loader the distroless images lack)."""
    grafana_admin_user: str = "admin"
    """Grafana's admin login; its password is generated into SSM by 60-ecs."""
    log_kms_key_arn: str | None = None
    """Customer-managed KMS key (ARN) for the ECS and VPC flow log groups; its key policy must allow
    logs.<region>.amazonaws.com. None: CloudWatch Logs' own encryption."""
    secrets_kms_key_arn: str | None = None
    """Customer-managed KMS key (ARN) for the SSM SecureString secrets (Grafana's admin password);
    the execution role gets kms:Decrypt on it. None: the account's aws/ssm key."""
    stop_timeout_seconds: int = 120
    """Seconds ECS waits between SIGTERM and SIGKILL for every service container (Fargate's maximum
    is 120): the backends flush their in-memory data to S3 in that time."""
    graceful_shutdown_seconds: int = 20
    """How long a backend's HTTP/gRPC server waits for in-flight requests on shutdown
    (`server.graceful_shutdown_timeout`); the rest of `stop_timeout_seconds` is the flush budget."""
    health_check_grace_period_seconds: int = 180
    """Load-balanced services ignore ALB health checks this long after a task starts
    (Mimir, Loki and Tempo report ready only after joining their rings)."""


@dataclass(frozen=True)
class GitHubConfig:
    """Deploy access for GitHub Actions (managed by 00-bootstrap)."""

    repository: str = "jsj/lgtm-ecs"
    """owner/repo whose workflows may assume the deploy role."""
    deploy_policy_name: str = DEPLOY_POLICY_NAME
    """The deploy policy's name (account-wide: each environment has its own)."""
    deploy_role_name: str = DEPLOY_ROLE_NAME
    """The role GitHub Actions assumes (account-wide: each environment has its own)."""
    existing_role_name: str | None = None
    """Attach the policy to this existing role instead of creating one. Single-role mode: no plan
    role either, so whoever may run a plan holds write credentials (docs/github-actions.md)."""
    plan_role_name: str = DEPLOY_ROLE_NAME + PLAN_ROLE_SUFFIX
    """The read-only role plans assume (this repository's main branch and its pull requests)."""
    plan_policy_name: str = DEPLOY_POLICY_NAME + PLAN_POLICY_SUFFIX
    """The plan role's customer-managed policy (read-only plus the state lock); parts add `-2`, ..."""
    apply_environment: str | None = None
    """The GitHub environment whose jobs may assume the deploy (apply) role; None: the
    config's environment name (`repo:<owner>/<repo>:environment:prod`)."""
    plan_branch: str = "main"
    """The branch whose workflow runs (besides pull requests) may assume the plan role."""
    create_oidc_provider: bool = True
    """False looks up the account's existing token.actions.githubusercontent.com provider. An
    account holds one provider per URL, so only prod creates it by default (`default_github`)."""


def _default_services() -> tuple[ServiceConfig, ...]:
    # Each port is written once: a target on a service's HTTP port names that port.
    grafana_http, mimir_http, loki_http, tempo_http, pyroscope_http = 3000, 8080, 3100, 3200, 4041
    pyroscope_public = 4040
    otlp_http = Ports().otlp_http
    return (
        ServiceConfig(
            name=GRAFANA, image="grafana/grafana", tag="11.4.0", cpu=512, memory=1024,
            http_port=grafana_http, readiness_path="/api/health",
            # uid/gid 472 is the grafana user of the upstream image (its USER).
            user="472",
            efs=EfsVolume(container_path="/var/lib/grafana", root_directory="/grafana", uid=472, gid=472),
            targets=(Target(name=GRAFANA, port=grafana_http, health_check_path="/api/health"),),
        ),
        ServiceConfig(
            name=MIMIR, image="grafana/mimir", tag="2.14.2", cpu=1024, memory=2048,
            http_port=mimir_http, object_storage=True, readiness_path="/ready",
            # The distroless image runs as root by default; its static binary needs no user of its own.
            user="10001:10001",
            targets=(Target(name=MIMIR, port=mimir_http, health_check_path="/ready",
                            paths=(MIMIR_PUSH_PATH,), priority=100),),
        ),
        ServiceConfig(
            name=LOKI, image="grafana/loki", tag="3.3.2", cpu=1024, memory=2048,
            http_port=loki_http, object_storage=True, readiness_path="/ready",
            user="10001:10001",  # the image's loki user (USER 10001)
            targets=(Target(name=LOKI, port=loki_http, health_check_path="/ready",
                            paths=("/loki/*",), priority=200),),
        ),
        ServiceConfig(
            name=TEMPO, image="grafana/tempo", tag="2.7.1", cpu=1024, memory=2048,
            http_port=tempo_http, object_storage=True, readiness_path="/ready", path_prefix="/tempo",
            user="10001:10001",  # the image's tempo user (USER 10001:10001)
            targets=(
                Target(name="tempo-otlp", port=otlp_http, health_check_path="/ready",
                       health_check_port=tempo_http, paths=("/v1/traces",), priority=300),
                Target(name=TEMPO, port=tempo_http, health_check_path="/ready",
                       paths=("/tempo/*",), priority=400),
            ),
        ),
        ServiceConfig(
            name=PYROSCOPE, image="grafana/pyroscope", tag="1.10.0", cpu=512, memory=1024,
            http_port=pyroscope_http, object_storage=True, readiness_path="/ready",
            user="10001:10001",  # the image's pyroscope user (USER pyroscope, 10001)
            # Pyroscope runs unprefixed (its distributor calls the ingester without any prefix);
            # the proxy serves it under /pyroscope on 4040, the port the ALB target group has
            # always used, so taking over a running deployment replaces no target group.
            prefix_proxy=PrefixProxy(prefix="/pyroscope", port=pyroscope_public),
            targets=(Target(name=PYROSCOPE, port=pyroscope_public, health_check_path="/pyroscope/ready",
                            paths=("/pyroscope/*",), priority=500),),
        ),
        ServiceConfig(
            name=ALLOY, image="grafana/alloy", tag="v1.5.1", cpu=512, memory=1024,
            http_port=12345, readiness_path="/-/ready", stateful=False,
            # No user: the image runs as root and upstream calls its non-root mode (uid 473)
            # experimental; its root filesystem is read-only all the same.
        ),
    )


@dataclass(frozen=True)
class Settings:
    """Everything the stacks read, as written: `config.common.Config` is the validated kind."""

    project: str
    """Prefix of every resource name (`<project>-<environment>-...`)."""
    environment: str
    """One of `config.names.ENVIRONMENTS`; picks the state layout and the names."""
    aws_region: str
    """Where every stack deploys, and the region of every backend."""
    tenant_id: str
    """The one tenant (X-Scope-OrgID) every writer, backend and datasource uses."""
    state: StateConfig
    """The state layout (`default_state(environment)`)."""
    legacy_read_tenants: LegacyReadTenants = field(default_factory=LegacyReadTenants)
    """Tenants whose older data stays readable in Grafana (docs/operations.md "Changing the tenant")."""
    pyroscope_legacy_anonymous: bool = False
    """Add a read-only Pyroscope datasource on the tenant `anonymous`, where Pyroscope stored
    profiles while no tenant was set (it has no tenant federation to merge them)."""
    name_prefix: str = NAME_PREFIX
    """Prefix of globally unique names (S3 buckets): `<name_prefix>-<service>-<environment>`."""
    network: NetworkConfig = field(default_factory=NetworkConfig)
    """The VPC: created by 10-network, or an existing one."""
    storage: StorageConfig = field(default_factory=StorageConfig)
    """Data buckets and EFS (20-storage)."""
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    """How long each signal is kept."""
    collector_buffers: CollectorBufferConfig = field(default_factory=CollectorBufferConfig)
    """What Alloy buffers while a backend restarts."""
    alb_ingress_rules: tuple[IngressRule, ...] = (
        IngressRule(name="http", port=80, cidr_blocks=("0.0.0.0/0",),
                    description="HTTP from clients to the ALB (Grafana, push APIs, OTLP traces)"),
    )
    """Who may reach the ALB, per listener port."""
    ports: Ports = field(default_factory=Ports)
    """Ports besides each service's HTTP port."""
    services: tuple[ServiceConfig, ...] = field(default_factory=_default_services)
    """Every ECS service, in order (the defaults: the six core services)."""
    alb: AlbConfig = field(default_factory=AlbConfig)
    """The load balancer (50-alb)."""
    ecs: EcsConfig = field(default_factory=EcsConfig)
    """The cluster and what every task shares (60-ecs)."""
    github: GitHubConfig = field(default_factory=GitHubConfig)
    """GitHub Actions deploy access (00-bootstrap)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on every resource, besides Project/Environment/ManagedBy/Stack."""

    def read_tenants(self, service: str) -> str:
        """The X-Scope-OrgID of a "(with history)" datasource: the tenant, then its legacy ones."""
        return "|".join((self.tenant_id, *self.legacy_read_tenants.by_service()[service]))

    # Names are derived here, once, so stacks and tests agree on them.
    def hcp_workspace(self, stack_id: str) -> str:
        """The HCP Terraform workspace of one stack (backend "hcp"): `lgtm-ecs-prod-10-network`."""
        return f"{self.project}-{self.environment}-{stack_id}"

    @property
    def apply_environment(self) -> str:
        """The GitHub environment (required reviewers) whose jobs may assume the deploy role."""
        return self.github.apply_environment or self.environment

    def resource_name(self, suffix: str) -> str:
        """`lgtm-ecs-prod-<suffix>`: IAM roles, log groups, cluster, security groups."""
        return f"{self.project}-{self.environment}-{suffix}"

    def short_name(self, suffix: str) -> str:
        """`lgtm-prod-<suffix>`: for the ALB and target groups (32 characters at most)."""
        return f"lgtm-{self.environment}-{suffix}"

    def data_bucket(self, service: str) -> str:
        return f"{self.name_prefix}-{service}-{self.environment}"

    @property
    def ssm_prefix(self) -> str:
        """SSM parameters (and secrets) this project defines live under this path."""
        return f"/{self.project}/{self.environment}"

    def log_group(self, service: str) -> str:
        return f"/ecs/{self.project}-{self.environment}/{service}"

    @property
    def log_group_prefix(self) -> str:
        return f"/ecs/{self.project}-{self.environment}/"

    @property
    def flow_log_group(self) -> str:
        """10-network's VPC flow-log group (00-bootstrap's deploy policy names it too)."""
        return f"/vpc/{self.project}-{self.environment}/flow-logs"

    def service(self, name: str) -> ServiceConfig:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(f"no service named {name!r} in config.services")

    @property
    def object_storage_services(self) -> tuple[ServiceConfig, ...]:
        """Services with a data bucket of their own (Mimir, Loki, Tempo, Pyroscope by default)."""
        return tuple(svc for svc in self.services if svc.object_storage)

    @property
    def efs_services(self) -> tuple[ServiceConfig, ...]:
        """Services that keep on-disk state on EFS (Grafana by default)."""
        return tuple(svc for svc in self.services if svc.efs is not None)

    @property
    def flush_budget_seconds(self) -> int:
        """What a backend has left to flush after its server stopped taking requests."""
        return self.ecs.stop_timeout_seconds - self.ecs.graceful_shutdown_seconds

    @property
    def cluster_name(self) -> str:
        """The ECS cluster (60-ecs creates it; 40-iam scopes Alloy's describes to it)."""
        return self.resource_name("cluster")

    @property
    def routed_targets(self) -> tuple[tuple[ServiceConfig, Target], ...]:
        return tuple((svc, tgt) for svc in self.services for tgt in svc.targets)
