"""The path-stripping proxy (nginx) that serves an unprefixed service under a public prefix.

Pyroscope must run without dskit's `server.http_path_prefix`: its distributor, store-gateway
clients and query workers call each other at unprefixed paths on the HTTP port
(docs/runtime-facts.md), so a prefixed Pyroscope answers its own traffic with 404. The ALB
(AWS provider 5.100) cannot rewrite paths, so a small nginx in the same task listens on
`PrefixProxy.port`, takes `<prefix>/<rest>` and forwards `/<rest>` (query string kept) to the
service on loopback. Everything else gets 404: the proxy serves the prefix and nothing more.

The proxy runs as the image's unprivileged nginx user on a read-only root filesystem, so every
path nginx writes (pid file, request-body and proxy buffers) is under /tmp, a task volume.
"""

from __future__ import annotations

from config.common import PrefixProxy, ServiceConfig

FILE = "proxy/nginx.conf"
BINARY = "/usr/sbin/nginx"
TMP_DIR = "/tmp"
PID_FILE = f"{TMP_DIR}/nginx.pid"
# Every temp path nginx would otherwise put under /var/cache/nginx (read-only here).
TEMP_PATHS = {
    "client_body_temp_path": f"{TMP_DIR}/nginx-client-body",
    "proxy_temp_path": f"{TMP_DIR}/nginx-proxy",
    "fastcgi_temp_path": f"{TMP_DIR}/nginx-fastcgi",
    "uwsgi_temp_path": f"{TMP_DIR}/nginx-uwsgi",
    "scgi_temp_path": f"{TMP_DIR}/nginx-scgi",
}
MAX_BODY_SIZE = "64m"
"""Profiles can be large; nginx's 1m default would refuse ordinary pushes with 413."""
UPSTREAM_TIMEOUT_SECONDS = 300
"""Long profile queries from clients outside the VPC must not be cut at nginx's 60 s default."""


def container_name(svc: ServiceConfig) -> str:
    return f"{svc.name}-proxy"


def proxy_of(svc: ServiceConfig) -> PrefixProxy:
    if svc.prefix_proxy is None:
        raise ValueError(f"service {svc.name!r} has no prefix_proxy")
    return svc.prefix_proxy


def render_for(svc: ServiceConfig) -> str:
    """nginx.conf for the proxy in front of `svc` (listens on the proxy port, forwards to loopback)."""
    proxy = proxy_of(svc)
    temp_paths = "".join(f"    {key} {path};\n" for key, path in TEMP_PATHS.items())
    return (
        f"# Rendered by components/service_configs/prefix_proxy.py for {svc.name}; do not edit.\n"
        "worker_processes 1;\n"
        f"pid {PID_FILE};\n"
        "error_log stderr warn;\n"
        "daemon off;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        "    access_log off;\n"
        f"{temp_paths}"
        f"    client_max_body_size {MAX_BODY_SIZE};\n"
        "    server {\n"
        f"        listen {proxy.port};\n"
        # The trailing slashes make nginx replace `<prefix>/` with `/` on the way through.
        f"        location {proxy.prefix}/ {{\n"
        f"            proxy_pass http://127.0.0.1:{svc.http_port}/;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Host $host;\n"
        '            proxy_set_header Connection "";\n'
        "            proxy_request_buffering off;\n"
        "            proxy_buffering off;\n"
        f"            proxy_read_timeout {UPSTREAM_TIMEOUT_SECONDS}s;\n"
        f"            proxy_send_timeout {UPSTREAM_TIMEOUT_SECONDS}s;\n"
        "        }\n"
        "        location / {\n            return 404;\n        }\n"
        "    }\n"
        "}\n"
    )


def render(svc: ServiceConfig) -> dict[str, str]:
    return {FILE: render_for(svc)}


def command(config_path: str) -> list[str]:
    """nginx in the foreground (`daemon off` is in the file), errors to stderr from the first line."""
    return ["-e", "stderr", "-c", config_path]
