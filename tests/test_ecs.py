"""60-ecs: cluster, Cloud Map, log groups, task definitions (parsed container JSON) and services."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.service_configs import prefix_proxy, render_all
from tests.conftest import SynthesizedApp, only, resources
from tests.helpers import json_value
from tests.variants import VARIANT

STACK = "60-ecs"
SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")


@pytest.fixture(scope="module")
def variant(synthesized: Callable[..., SynthesizedApp]) -> SynthesizedApp:
    return synthesized("prod", **VARIANT)


def containers(stack: dict[str, Any], service: str) -> dict[str, dict[str, Any]]:
    definition = resources(stack, "aws_ecs_task_definition")[f"task-{service}"]
    parsed = json_value(definition["container_definitions"])
    assert isinstance(parsed, list)
    return {container["name"]: container for container in parsed}


def decoded_files(init: dict[str, Any]) -> dict[str, str]:
    """The files the init container writes: its script names them, its environment holds them."""
    variables = {item["name"]: item["value"] for item in init["environment"]}
    (script,) = init["command"]
    files = {}
    for variable, path in re.findall(r'"\$(LGTM_FILE_\d+)" \| base64 -d > (\S+)', script):
        files[path.removeprefix("/config/")] = base64.b64decode(variables[variable]).decode()
    assert len(files) == len(variables), script
    return files


def test_cluster_with_container_insights(prod: SynthesizedApp) -> None:
    cluster = only(prod.testing_synth(STACK), "aws_ecs_cluster")
    assert cluster["name"] == "lgtm-ecs-prod-cluster" == prod.config.cluster_name
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]


def test_fargate_by_default_and_spot_by_config(prod: SynthesizedApp, variant: SynthesizedApp) -> None:
    for app, provider in ((prod, "FARGATE"), (variant, "FARGATE_SPOT")):
        stack = app.testing_synth(STACK)
        capacity = only(stack, "aws_ecs_cluster_capacity_providers")
        assert sorted(capacity["capacity_providers"]) == ["FARGATE", "FARGATE_SPOT"]
        assert capacity["default_capacity_provider_strategy"][0]["capacity_provider"] == provider
        for service in resources(stack, "aws_ecs_service").values():
            assert service["capacity_provider_strategy"] == [{"capacity_provider": provider, "weight": 1}]
            assert "launch_type" not in service
    assert only(variant.testing_synth(STACK), "aws_ecs_cluster")["setting"][0]["value"] == "disabled"


def test_cloud_map_namespace_and_one_dns_name_per_service(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    namespace = only(stack, "aws_service_discovery_private_dns_namespace")
    assert namespace["name"] == "lgtm.local"
    assert "10-network" in namespace["vpc"]
    discovery = resources(stack, "aws_service_discovery_service")
    assert sorted(d["name"] for d in discovery.values()) == sorted(SERVICES)
    for entry in discovery.values():
        assert entry["dns_config"]["dns_records"] == [{"ttl": 10, "type": "A"}]
        assert entry["dns_config"]["namespace_id"] == "${aws_service_discovery_private_dns_namespace.namespace.id}"


def test_one_log_group_per_service_with_retention(prod: SynthesizedApp, variant: SynthesizedApp) -> None:
    groups = resources(prod.testing_synth(STACK), "aws_cloudwatch_log_group").values()
    assert sorted(g["name"] for g in groups) == sorted(prod.config.log_group(s) for s in SERVICES)
    assert {g["retention_in_days"] for g in groups} == {30}
    variant_groups = resources(variant.testing_synth(STACK), "aws_cloudwatch_log_group").values()
    assert {g["retention_in_days"] for g in variant_groups} == {365}


@pytest.mark.parametrize("service", SERVICES)
def test_task_definition_runs_the_upstream_image_on_fargate(prod: SynthesizedApp, service: str) -> None:
    cfg = prod.config
    svc = cfg.service(service)
    stack = prod.testing_synth(STACK)
    definition = resources(stack, "aws_ecs_task_definition")[f"task-{service}"]
    assert definition["family"] == f"lgtm-ecs-prod-{service}"
    assert definition["requires_compatibilities"] == ["FARGATE"]
    assert definition["network_mode"] == "awsvpc"
    assert (definition["cpu"], definition["memory"]) == (str(svc.cpu), str(svc.memory))
    assert "40-iam" in definition["execution_role_arn"] and "execution-role" in definition["execution_role_arn"]
    assert "40-iam" in definition["task_role_arn"] and service in definition["task_role_arn"]
    main = containers(stack, service)[service]
    assert main["image"] == svc.image_ref
    assert main["essential"] is True
    assert main["logConfiguration"]["options"]["awslogs-group"] == \
        f"${{aws_cloudwatch_log_group.log-group-{service}.name}}"


@pytest.mark.parametrize("service", SERVICES)
def test_init_container_delivers_exactly_the_rendered_files(prod: SynthesizedApp, service: str) -> None:
    parsed = containers(prod.testing_synth(STACK), service)
    proxy = {f"{service}-proxy"} if prod.config.service(service).prefix_proxy else set()
    assert set(parsed) == {"config-init", service} | proxy
    init = parsed["config-init"]
    assert init["essential"] is False
    assert init["image"] == prod.config.ecs.init_image
    assert init["entryPoint"] == ["sh", "-c"]
    assert {"sourceVolume": "config", "containerPath": "/config", "readOnly": False} in init["mountPoints"]
    expected = dict(render_all(prod.config)[service])
    if proxy:
        expected.update(prefix_proxy.render(prod.config.service(service)))
    assert decoded_files(init) == expected


@pytest.mark.parametrize("service", SERVICES)
def test_service_container_waits_for_init_and_mounts_read_only(prod: SynthesizedApp, service: str) -> None:
    main = containers(prod.testing_synth(STACK), service)[service]
    assert main["dependsOn"] == [{"containerName": "config-init", "condition": "SUCCESS"}]
    assert {"sourceVolume": "config", "containerPath": "/etc/lgtm", "readOnly": True} in main["mountPoints"]


@pytest.mark.parametrize("service", ["mimir", "loki", "tempo", "pyroscope", "alloy"])
def test_service_starts_with_a_file_the_init_container_writes(prod: SynthesizedApp, service: str) -> None:
    parsed = containers(prod.testing_synth(STACK), service)
    written = {f"/etc/lgtm/{name}" for name in decoded_files(parsed["config-init"])}
    command = parsed[service]["command"]
    config_files = [arg.split("=", 1)[1] if arg.startswith("-config.file=") else arg
                    for arg in command if arg.startswith(("-config.file=", "/etc/lgtm/"))]
    assert config_files and set(config_files) <= written, (command, written)


def test_init_script_really_writes_the_files(prod: SynthesizedApp, tmp_path: Path) -> None:
    """Run each init script with a POSIX shell against a temporary directory."""
    shell = shutil.which("sh")
    assert shell, "no POSIX sh on PATH: the init-script test needs one"
    fake_busybox = tmp_path / "busybox-binary"
    fake_busybox.write_text("#!/bin/sh\n")
    for service in SERVICES:
        init = containers(prod.testing_synth(STACK), service)["config-init"]
        volume = tmp_path / service
        volume.mkdir()
        # "/config/" (with its slash) never occurs inside a file name such as config.alloy.
        script = init["command"][0].replace("cp /bin/busybox", f"cp {fake_busybox}", 1)
        script = script.replace("/config/", f"{volume}/")
        # The scratch volumes (Fargate makes them, empty): directories of their own here.
        scratch = tmp_path / f"{service}-scratch"
        mounts = [m["containerPath"] for m in init["mountPoints"] if m["containerPath"].startswith("/scratch/")]
        assert mounts, "the init container mounts no scratch volume"
        for mount in mounts:
            (scratch / mount.removeprefix("/scratch/")).mkdir(parents=True)
        script = script.replace("/scratch/", f"{scratch}/")
        if os.geteuid() != 0:
            script = script.replace("chown ", "true ")  # chown to another user needs root
        env = {"PATH": "/usr/bin:/bin", **{item["name"]: item["value"] for item in init["environment"]}}
        subprocess.run([shell, "-c", script], env=env, check=True, timeout=30)
        for name, text in render_all(prod.config)[service].items():
            assert (volume / name).read_text() == text, (service, name)
        assert (volume / "bin" / "busybox").stat().st_mode & 0o777 == 0o755
        # /tmp is everyone's (sticky); a data directory belongs to the service's user.
        svc = prod.config.service(service)
        assert (scratch / "tmp").stat().st_mode & 0o7777 == 0o1777, service
        for mount in mounts:
            if mount != "/scratch/tmp" and svc.user is not None:
                stat = (scratch / mount.removeprefix("/scratch/")).stat()
                assert stat.st_mode & 0o777 == 0o750, (service, mount)
                if os.geteuid() == 0:
                    assert f"{stat.st_uid}:{stat.st_gid}" == svc.user, (service, mount)


@pytest.mark.parametrize("service", SERVICES)
def test_container_health_check_uses_the_readiness_path(prod: SynthesizedApp, service: str) -> None:
    svc = prod.config.service(service)
    main = containers(prod.testing_synth(STACK), service)[service]
    check = main["healthCheck"]
    assert check["command"] == ["CMD", "/etc/lgtm/bin/busybox", "wget", "-q", "-O", "/dev/null",
                                f"http://127.0.0.1:{svc.http_port}{svc.readiness_path}"]
    assert check["startPeriod"] > 0 and check["retries"] >= 1


@pytest.mark.parametrize("service", SERVICES)
def test_port_mappings_cover_every_target_port(prod: SynthesizedApp, service: str) -> None:
    svc = prod.config.service(service)
    task = containers(prod.testing_synth(STACK), service)
    main_ports = {mapping["containerPort"] for mapping in task[service]["portMappings"]}
    task_ports = {mapping["containerPort"] for c in task.values() for mapping in c.get("portMappings", [])}
    assert svc.http_port in main_ports
    assert {target.port for target in svc.targets} <= task_ports


def test_grafana_state_on_its_efs_access_point(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    definition = resources(stack, "aws_ecs_task_definition")["task-grafana"]
    (efs,) = [v for v in definition["volume"] if "efs_volume_configuration" in v]
    config = efs["efs_volume_configuration"]
    assert config["transit_encryption"] == "ENABLED"
    assert config["authorization_config"]["iam"] == "ENABLED"
    assert "20-storage" in config["authorization_config"]["access_point_id"]
    assert "grafana" in config["authorization_config"]["access_point_id"]
    assert "20-storage" in config["file_system_id"]
    main = containers(stack, "grafana")["grafana"]
    assert {"sourceVolume": efs["name"], "containerPath": "/var/lib/grafana", "readOnly": False} in main["mountPoints"]


def test_grafana_admin_password_from_ssm_secret_never_environment(prod: SynthesizedApp) -> None:
    stack = prod.testing_synth(STACK)
    parameter = only(stack, "aws_ssm_parameter")
    assert parameter["type"] == "SecureString"
    assert parameter["name"].startswith(prod.config.ssm_prefix + "/")
    assert parameter["lifecycle"]["ignore_changes"] == ["value"]
    assert parameter["value"] == "${data.aws_secretsmanager_random_password.grafana-admin-password-generator.random_password}"
    generator = only({"resource": stack["data"]}, "aws_secretsmanager_random_password")
    assert generator["password_length"] >= 20
    main = containers(stack, "grafana")["grafana"]
    assert main["secrets"] == [{"name": "GF_SECURITY_ADMIN_PASSWORD",
                                "valueFrom": "${aws_ssm_parameter.grafana-admin-password.arn}"}]
    environment = {item["name"]: item["value"] for item in main["environment"]}
    assert "GF_SECURITY_ADMIN_PASSWORD" not in environment
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert environment["GF_PATHS_PROVISIONING"] == "/etc/lgtm/provisioning"
    assert environment["GF_SERVER_ROOT_URL"].startswith("http://${data.terraform_remote_state.cross-stack-reference-input-50-alb")


def test_no_container_carries_secrets_in_plain_environment(prod: SynthesizedApp) -> None:
    for service in SERVICES:
        for container in containers(prod.testing_synth(STACK), service).values():
            for item in container.get("environment", []):
                assert "PASSWORD" not in item["name"] and "SECRET" not in item["name"], (service, item["name"])


@pytest.mark.parametrize("service", SERVICES)
def test_service_network_discovery_and_deployment(prod: SynthesizedApp, service: str) -> None:
    svc = prod.config.service(service)
    ecs_service = resources(prod.testing_synth(STACK), "aws_ecs_service")[f"service-{service}"]
    assert ecs_service["name"] == service
    assert ecs_service["desired_count"] == svc.desired_count
    network = ecs_service["network_configuration"]
    assert network["assign_public_ip"] is False
    assert len(network["subnets"]) == 2 and all("private-subnet" in s for s in network["subnets"])
    (group,) = network["security_groups"]
    assert "ecs-security-group" in group
    assert ecs_service["service_registries"]["registry_arn"] == f"${{aws_service_discovery_service.discovery-{service}.arn}}"
    assert ecs_service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    if svc.stateful:
        assert (ecs_service["deployment_minimum_healthy_percent"], ecs_service["deployment_maximum_percent"]) == (0, 100)
    else:
        assert ecs_service["deployment_maximum_percent"] > 100


@pytest.mark.parametrize("service", SERVICES)
def test_service_registers_with_each_of_its_target_groups(prod: SynthesizedApp, service: str) -> None:
    svc = prod.config.service(service)
    ecs_service = resources(prod.testing_synth(STACK), "aws_ecs_service")[f"service-{service}"]
    blocks = ecs_service.get("load_balancer", [])
    assert sorted(b["container_port"] for b in blocks) == sorted(t.port for t in svc.targets)
    task = containers(prod.testing_synth(STACK), service)
    for block in blocks:
        # The container that maps the target's port: the service itself, or its proxy.
        (owner,) = [name for name, c in task.items()
                    if block["container_port"] in {m["containerPort"] for m in c.get("portMappings", [])}]
        assert block["container_name"] == owner
        assert "50-alb" in block["target_group_arn"]
    if svc.targets:
        assert ecs_service["health_check_grace_period_seconds"] == prod.config.ecs.health_check_grace_period_seconds
    else:
        assert "health_check_grace_period_seconds" not in ecs_service


def test_tempo_has_two_load_balancer_blocks(prod: SynthesizedApp) -> None:
    tempo = resources(prod.testing_synth(STACK), "aws_ecs_service")["service-tempo"]
    ports = sorted(b["container_port"] for b in tempo["load_balancer"])
    assert ports == [3200, 4318]
    # Cross-stack references name the producing resource: target-group-<Target.name>.
    groups = {re.search(r"aws_lb_target_group(target-group-[\w-]+?)arn\}$", b["target_group_arn"]).group(1)
              for b in tempo["load_balancer"]}
    assert groups == {"target-group-tempo", "target-group-tempo-otlp"}


def test_grace_period_from_config(variant: SynthesizedApp) -> None:
    mimir = resources(variant.testing_synth(STACK), "aws_ecs_service")["service-mimir"]
    assert mimir["health_check_grace_period_seconds"] == 240


def test_extra_alloy_collectors_get_their_own_service_role_and_alloy_config(
        synthesized: Callable[..., SynthesizedApp]) -> None:
    from dataclasses import replace

    from config.common import load_config

    base = load_config()
    collector = replace(base.service("alloy"), name="alloy-2", kind="alloy")
    app = synthesized("prod", services=base.services + (collector,))
    ecs = app.stack_json(STACK)
    assert "service-alloy-2" in resources(ecs, "aws_ecs_service")
    assert decoded_files(containers(ecs, "alloy-2")["config-init"]) == \
        decoded_files(containers(ecs, "alloy")["config-init"])
    roles = resources(app.stack_json("40-iam"), "aws_iam_role")
    assert any(role["name"] == "lgtm-ecs-prod-alloy-2-task" for role in roles.values())


@pytest.mark.parametrize("service", SERVICES)
def test_read_only_root_with_scratch_volumes_for_what_the_service_writes(prod: SynthesizedApp,
                                                                         service: str) -> None:
    """The root filesystem is read-only; /tmp and the service's data directory are task volumes."""
    from components.service_configs import RENDERERS

    stack = prod.testing_synth(STACK)
    parsed = containers(stack, service)
    main, init = parsed[service], parsed["config-init"]
    assert main["readonlyRootFilesystem"] is True and init["readonlyRootFilesystem"] is True
    writable = {m["containerPath"]: m["sourceVolume"] for m in main["mountPoints"] if not m["readOnly"]}
    svc = prod.config.service(service)
    # A data directory under /tmp (Mimir's) lives on /tmp's volume.
    expected = {"/tmp"} | {path for path in RENDERERS[service].SCRATCH_DIRS if not path.startswith("/tmp/")}
    if svc.efs is not None:
        expected.add(svc.efs.container_path)
    assert set(writable) == expected
    volumes = {v["name"]: v for v in resources(stack, "aws_ecs_task_definition")[f"task-{service}"]["volume"]}
    for path, volume in writable.items():
        if svc.efs is None or path != svc.efs.container_path:
            # A plain task volume: Fargate ephemeral storage, shared with the init container.
            assert set(volumes[volume]) == {"name"}, volumes[volume]
            assert volume in {m["sourceVolume"] for m in init["mountPoints"]}


def test_pyroscope_is_reached_through_its_proxy(prod: SynthesizedApp) -> None:
    svc = prod.config.service("pyroscope")
    assert svc.prefix_proxy is not None
    task = containers(prod.testing_synth(STACK), "pyroscope")
    proxy = task["pyroscope-proxy"]
    assert proxy["essential"] is True
    assert proxy["image"] == svc.prefix_proxy.image_ref
    assert proxy["entryPoint"] == ["/usr/sbin/nginx"]
    assert proxy["command"] == ["-e", "stderr", "-c", "/etc/lgtm/proxy/nginx.conf"]
    assert proxy["readonlyRootFilesystem"] is True and proxy["user"] == svc.prefix_proxy.user
    assert proxy["portMappings"] == [{"containerPort": svc.prefix_proxy.port, "protocol": "tcp"}]
    assert proxy["dependsOn"] == [{"containerName": "config-init", "condition": "SUCCESS"}]
    writable = {m["containerPath"] for m in proxy["mountPoints"] if not m["readOnly"]}
    assert writable == {"/tmp"}
    # Its health check goes through the proxy to Pyroscope's own /ready.
    assert proxy["healthCheck"]["command"][-1] == f"http://127.0.0.1:{svc.prefix_proxy.port}/pyroscope/ready"
    ecs_service = resources(prod.testing_synth(STACK), "aws_ecs_service")["service-pyroscope"]
    (block,) = ecs_service["load_balancer"]
    assert (block["container_name"], block["container_port"]) == ("pyroscope-proxy", 4040)
