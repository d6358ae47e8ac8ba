"""Names and fixed facts every part of the project shares: a leaf module that imports nothing of ours.

`config.common` (the settings), `config.validation` (their rules), the stacks and the tests all
read these from here, so each is spelled once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT = "lgtm-ecs"
# The seed's state layout belongs to prod; other environments derive theirs.
LEGACY_ENVIRONMENT = "prod"
DEFAULT_ENVIRONMENT = LEGACY_ENVIRONMENT
ENVIRONMENTS: tuple[str, ...] = (LEGACY_ENVIRONMENT, "staging")
"""Every environment this project deploys. A name outside it is a typo (`stagign`) and stops
synth; adding one is one entry here (README "Configuration")."""
OWN_ACCOUNT_ENVIRONMENTS: tuple[str, ...] = ()
"""Environments other than prod that live in an AWS account of their own: they create the GitHub
OIDC provider as prod does (an account holds one per URL; the others look prod's up)."""
ENVIRONMENT_VARIABLE = "LGTM_ENVIRONMENT"
ENVIRONMENT_CONTEXT_KEY = "environment"
CDKTF_JSON = Path(__file__).resolve().parent.parent / "cdktf.json"
NAME_PREFIX = "jsj-lgtm"
BOOTSTRAP_STACK_ID = "00-bootstrap"
"""The stack that creates the state bucket and lock table every other stack keeps its state in."""
# Service names: each is spelled here once; renderers, stacks and tests import it.
GRAFANA = "grafana"
MIMIR = "mimir"
LOKI = "loki"
TEMPO = "tempo"
PYROSCOPE = "pyroscope"
ALLOY = "alloy"
CORE_SERVICES = (GRAFANA, MIMIR, LOKI, TEMPO, PYROSCOPE, ALLOY)
COLLECTOR_KIND = ALLOY
"""The service kind that collects: Alloy discovers the other tasks and forwards their telemetry."""
MIMIR_PUSH_PATH = "/api/v1/push"
"""Mimir's Prometheus remote-write path: the ALB routes it, Alloy writes to it."""
DEFAULT_TAG_KEYS = ("Project", "Environment", "ManagedBy", "Stack")
"""Tags every resource gets from the provider (components/shared/stack.py `default_tags`). The
deploy policy's conditions read `Environment`, so user tags may not redefine any of them."""
RESOURCE_TAG_KEYS = ("Name", "Service", "Tier")
"""Tags the stacks set on single resources; they win over a user tag of the same key."""
# The GitHub deploy access is account-wide: prod keeps the seed's names, others get their own.
DEPLOY_ROLE_NAME = "jsj-github-action-lgtm"
DEPLOY_POLICY_NAME = "jsj_github_action_LGTM"
# The read-only role plans run with (docs/deploy-access.md); prod's names follow the seed's.
PLAN_ROLE_SUFFIX = "-plan"
PLAN_POLICY_SUFFIX = "_plan"
STATE_BACKENDS = ("s3", "hcp")
"""Where stacks keep state: the S3 layout, or HCP Terraform workspaces (a `cloud` block)."""
HCP_HOSTNAME = "app.terraform.io"


@dataclass(frozen=True)
class EnvironmentNames:
    """The account-wide names an environment gets by default: `config.common.default_state` and
    `default_github` build from these, and validation keeps each environment off the others'."""

    bootstrap_bucket: str
    bootstrap_state_key: str
    state_bucket: str
    lock_table: str
    state_key_prefix: str
    deploy_role_name: str
    deploy_policy_name: str
    plan_role_name: str
    plan_policy_name: str


def environment_names(environment: str) -> EnvironmentNames:
    """Prod keeps the seed's names; another environment derives its own from its name."""
    legacy = environment == LEGACY_ENVIRONMENT
    return EnvironmentNames(
        bootstrap_bucket=f"{NAME_PREFIX}-terraform-bootstrap",
        bootstrap_state_key="bootstrap/terraform.tfstate" if legacy else f"bootstrap/{environment}/terraform.tfstate",
        state_bucket=f"{NAME_PREFIX}-terraform-state-{environment}",
        lock_table=f"{NAME_PREFIX}-terraform-lock-{environment}",
        state_key_prefix=f"{PROJECT}/{environment}",
        deploy_role_name=DEPLOY_ROLE_NAME if legacy else f"{DEPLOY_ROLE_NAME}-{environment}",
        deploy_policy_name=DEPLOY_POLICY_NAME if legacy else f"{DEPLOY_POLICY_NAME}_{environment}",
        plan_role_name=(DEPLOY_ROLE_NAME if legacy else f"{DEPLOY_ROLE_NAME}-{environment}") + PLAN_ROLE_SUFFIX,
        plan_policy_name=(DEPLOY_POLICY_NAME if legacy else f"{DEPLOY_POLICY_NAME}_{environment}")
        + PLAN_POLICY_SUFFIX,
    )
