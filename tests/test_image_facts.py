"""Every container against the recorded facts of its image (tests/upstream/images.yaml).

Nothing here can start a container, so these checks stand in for the first deploy: a health
check whose binary cannot execute in its image, an init step the init image has no applet for,
or arguments handed to a shell script instead of the service binary would each fail a task
that `terraform validate` and the emulator accept.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from components.shared.container_definitions import container_definitions
from config.common import Config, EcsConfig, load_config
from config.service_kinds import CONFIG_MOUNT
from tests.conftest import SynthesizedApp, resources
from tests.helpers import json_value
from tests.upstream_facts import MissingFacts, image_facts, pinned_images

STACK = "60-ecs"
SHELL_BUILTINS = {"set"}
# Alloy's image runs as root and upstream calls its non-root mode experimental (config/settings.py).
ROOT_ALLOWED = {"alloy"}
_SCRIPT_COMMAND = re.compile(r"(?:^|&& |\| |\$\()([a-z0-9]+)")


def tasks(app: SynthesizedApp) -> dict[str, list[dict[str, Any]]]:
    return {name.removeprefix("task-"): json_value(body["container_definitions"])
            for name, body in resources(app.stack_json(STACK), "aws_ecs_task_definition").items()}


def unsynthesized_tasks(cfg: Config) -> dict[str, list[dict[str, Any]]]:
    """The same container definitions, straight from 60-ecs's builder (no synth: for variants)."""
    return {svc.name: container_definitions(cfg, svc, log_group="log-group") for svc in cfg.services}


def init_of(task: list[dict[str, Any]]) -> dict[str, Any]:
    (init,) = [c for c in task if not c["essential"]]
    return init


def health_check_problems(task: list[dict[str, Any]]) -> list[str]:
    """Why a container's health check could not execute in its image (empty: every one can)."""
    init_image = image_facts(init_of(task)["image"])
    problems = []
    for container in task:
        if "healthCheck" not in container:
            continue
        kind, binary, *arguments = container["healthCheck"]["command"]
        image = image_facts(container["image"])
        where = f"{container['name']} ({image.reference})"
        if kind != "CMD":
            problems.append(f"{where}: {kind} health checks need a shell; use CMD")
        elif binary.startswith(f"{CONFIG_MOUNT}/"):
            # Copied into the config volume from the init image.
            if not init_image.binary_runs_in(image):
                problems.append(f"{where}: {binary} comes from {init_image.reference} "
                                f"({init_image.value('libc')}, loader {sorted(init_image.loaders)}), "
                                f"and {image.reference} has loaders {sorted(image.loaders)}: exec fails")
            if arguments[0] not in init_image.applets:
                problems.append(f"{where}: {init_image.reference}'s busybox has no {arguments[0]} applet")
        elif not image.has_file(binary):
            problems.append(f"{where}: {binary} is not in {image.reference}")
    return problems


def test_every_health_check_can_execute_in_its_image(prod: SynthesizedApp) -> None:
    for service, task in tasks(prod).items():
        assert health_check_problems(task) == [], service


def test_the_old_glibc_busybox_fails_four_services_and_the_proxy() -> None:
    # busybox:1.36 on amd64 was the glibc build: dynamic, needs /lib64/ld-linux-x86-64.so.2.
    old = load_config(ecs=EcsConfig(init_image="public.ecr.aws/docker/library/busybox:1.36"))
    cannot_exec = {service: [p for p in health_check_problems(task) if p.endswith("exec fails")]
                   for service, task in unsynthesized_tasks(old).items()}
    # Grafana (glibc compat loader) and Alloy (Ubuntu) could run it; the distroless and musl images cannot.
    assert {service for service, problems in cannot_exec.items() if problems} == {"mimir", "loki", "tempo", "pyroscope"}
    assert any(p.startswith("pyroscope-proxy") for p in cannot_exec["pyroscope"]), cannot_exec["pyroscope"]


def test_a_health_check_binary_missing_from_the_image_is_caught(prod: SynthesizedApp) -> None:
    task = tasks(prod)["mimir"]
    main = next(c for c in task if c["name"] == "mimir")
    main["healthCheck"]["command"] = ["CMD", "/usr/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/ready"]
    assert any("/usr/bin/wget is not in grafana/mimir" in p for p in health_check_problems(task))


def test_the_init_script_uses_only_applets_its_image_has(prod: SynthesizedApp) -> None:
    for service, task in tasks(prod).items():
        init = init_of(task)
        image = image_facts(init["image"])
        assert init["entryPoint"][0] == "sh" and image.value("shell") == "/bin/sh"
        (script,) = init["command"]
        used = set(_SCRIPT_COMMAND.findall(script)) - SHELL_BUILTINS
        assert used and used <= image.applets, (service, sorted(used - image.applets))
        # It copies the busybox binary from where the init image has it.
        assert f"cp {image.raw['busybox_binary']['path']} " in script


def test_arguments_reach_the_service_binary_not_a_wrapper(prod: SynthesizedApp) -> None:
    for task in tasks(prod).values():
        for container in task:
            image = image_facts(container["image"])
            if "entryPoint" in container:
                assert image.has_file(container["entryPoint"][0]) or container["entryPoint"][0] == "sh", \
                    (container["name"], container["entryPoint"])
            elif "command" in container:
                # The image's ENTRYPOINT receives `command`: it must be the service binary itself.
                assert image.value("entrypoint") == [image.raw["service_binary"]["path"]], container["name"]


def test_service_containers_run_as_a_non_root_user(prod: SynthesizedApp) -> None:
    for service, task in tasks(prod).items():
        for container in task:
            if not container["essential"] or service in ROOT_ALLOWED:
                continue
            user = container.get("user") or image_facts(container["image"]).value("user")
            assert user.split(":")[0] not in ("0", "root"), (container["name"], user)


def test_every_pinned_image_has_facts_and_every_fact_is_pinned(prod: SynthesizedApp) -> None:
    used = {container["image"] for task in tasks(prod).values() for container in task}
    for reference in used:
        image_facts(reference)  # raises MissingFacts, naming the file to extend
    assert used == {image.reference for image in pinned_images()}


def test_a_bumped_tag_without_facts_fails_and_says_what_to_do() -> None:
    cfg = load_config()
    bumped = replace(cfg, services=tuple(replace(svc, tag="2.15.0") if svc.name == "mimir" else svc
                                         for svc in cfg.services))
    with pytest.raises(MissingFacts, match=r"grafana/mimir:2\.15\.0.*tests/upstream/images\.yaml"):
        for task in unsynthesized_tasks(bumped).values():
            health_check_problems(task)


def test_the_readmes_what_runs_where_table_matches_the_tasks(prod: SynthesizedApp) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in readme.splitlines()
            if line.startswith("| `") and line.count("|") == 7}
    essential = {c["name"]: c for task in tasks(prod).values() for c in task if c["essential"]}
    assert set(rows) == set(essential)
    for name, container in essential.items():
        row = rows[name]
        assert f"`{container['image']}`" in row, name
        ports = [str(m["containerPort"]) for m in container["portMappings"]]
        assert all(port in row.split("|")[3] for port in ports), (name, ports)
        check_url = container["healthCheck"]["command"][-1].removeprefix("http://")
        assert f"`{check_url}`" in row, name
        for mount in container["mountPoints"]:
            if not mount["readOnly"]:
                assert f"`{mount['containerPath']}`" in row.split("|")[6], (name, mount["containerPath"])
