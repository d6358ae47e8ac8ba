"""The rendered path-stripping proxy, run for real: nginx on loopback in front of a recording upstream.

The proxy's image pins nginx 1.27; the machine's nginx (Debian's) is older, and the rendered file
uses only directives both have (docs/runtime-facts.md). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.service_configs import prefix_proxy
from config.common import ServiceConfig, load_config

LOCALHOST = "127.0.0.1"
STARTUP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found is None:
        pytest.fail("nginx is not installed: `apt-get install nginx-light` (.ci/run does it)")
    return found


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with 200 and records (method, path, body length)."""

    seen: list[tuple[str, str, int]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append((self.command, self.path, len(body)))
        reply = f"upstream saw {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        return None


def proxied_pyroscope() -> ServiceConfig:
    """The default Pyroscope service, its proxy and itself moved to free loopback ports."""
    svc = load_config().service("pyroscope")
    assert svc.prefix_proxy is not None
    return replace(svc, http_port=free_port(), prefix_proxy=replace(svc.prefix_proxy, port=free_port()))


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceConfig, list[tuple[str, str, int]]]]:
    svc = proxied_pyroscope()
    upstream = ThreadingHTTPServer((LOCALHOST, svc.http_port), Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    workdir = tmp_path_factory.mktemp("nginx")
    (conf,) = prefix_proxy.render(svc).values()
    # Only the scratch location moves (into this test's directory); every directive stays as rendered.
    conf_path = workdir / "nginx.conf"
    conf_path.write_text(conf.replace(f"{prefix_proxy.TMP_DIR}/", f"{workdir}/"))
    process = subprocess.Popen([nginx_binary(), "-p", str(workdir), *prefix_proxy.command(str(conf_path))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(svc.prefix_proxy.port, process)  # type: ignore[union-attr]
        Recorder.seen = []
        yield svc, Recorder.seen
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited {process.returncode} on the rendered config: {process.stderr.read()}")
        with socket.socket() as probe:
            if probe.connect_ex((LOCALHOST, port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port} within {STARTUP_SECONDS} s")


def request(svc: ServiceConfig, method: str, path: str, body: bytes = b"") -> tuple[int, str]:
    assert svc.prefix_proxy is not None
    connection = http.client.HTTPConnection(LOCALHOST, svc.prefix_proxy.port, timeout=10)
    connection.request(method, path, body=body or None)
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    connection.close()
    return response.status, text


@pytest.mark.parametrize(("method", "public_path", "upstream_path"), [
    ("GET", "/pyroscope/ready", "/ready"),
    ("POST", "/pyroscope/ingest?name=app.cpu%7Bservice_name%3Dx%7D&from=1&until=2&format=pprof",
     "/ingest?name=app.cpu%7Bservice_name%3Dx%7D&from=1&until=2&format=pprof"),
    ("POST", "/pyroscope/push.v1.PusherService/Push", "/push.v1.PusherService/Push"),
    ("POST", "/pyroscope/querier.v1.QuerierService/SelectMergeStacktraces",
     "/querier.v1.QuerierService/SelectMergeStacktraces"),
    ("GET", "/pyroscope/pyroscope/render?query=x", "/pyroscope/render?query=x"),
])
def test_the_prefix_is_stripped_and_the_rest_kept(proxy: tuple[ServiceConfig, list[tuple[str, str, int]]],
                                                  method: str, public_path: str, upstream_path: str) -> None:
    svc, seen = proxy
    body = b"profile-bytes" if method == "POST" else b""
    status, text = request(svc, method, public_path, body)
    assert status == 200, text
    assert seen[-1] == (method, upstream_path, len(body))


def test_a_large_profile_passes_whole(proxy: tuple[ServiceConfig, list[tuple[str, str, int]]]) -> None:
    svc, seen = proxy
    body = b"x" * (8 * 1024 * 1024)  # well over nginx's 1 MiB default body limit
    status, _ = request(svc, "POST", "/pyroscope/ingest?name=big", body)
    assert status == 200
    assert seen[-1] == ("POST", "/ingest?name=big", len(body))


@pytest.mark.parametrize("path", ["/ready", "/ingest", "/pyroscopex/ready", "/"])
def test_nothing_outside_the_prefix_reaches_the_service(proxy: tuple[ServiceConfig, list[tuple[str, str, int]]],
                                                        path: str) -> None:
    svc, seen = proxy
    before = len(seen)
    status, _ = request(svc, "GET", path)
    assert status == 404
    assert len(seen) == before


def test_every_path_nginx_writes_is_under_tmp() -> None:
    (conf,) = prefix_proxy.render(load_config().service("pyroscope")).values()
    written = [prefix_proxy.PID_FILE, *prefix_proxy.TEMP_PATHS.values()]
    for path in written:
        assert path.startswith(f"{prefix_proxy.TMP_DIR}/") and f" {path};" in conf
    # nginx's compiled-in defaults live under /var/cache/nginx and /var/run: none may remain implicit.
    for directive in ("pid", *prefix_proxy.TEMP_PATHS):
        assert f"\n{directive} " in conf or f"    {directive} " in conf, directive
