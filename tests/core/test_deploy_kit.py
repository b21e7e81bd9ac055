"""The deployment kit (deploy/): the entrypoint the image runs starts a real server on this
machine, nginx's configuration passes `nginx -t` and carries HTTPS and WebSocket traffic to it,
the systemd units pass `systemd-analyze verify`, and the compose file runs every process
through the same entrypoint."""
from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
import yaml

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
ROLES = ("server", "worker", "beat", "migrate", "check")


def _environment(tmp: Path, **extra: str) -> dict[str, str]:
    """The embedded layout in a scratch directory: SQLite, the in-memory channel layer."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CACHE_REDIS_URL")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "EMBEDDED_BEAT": "false",
                "DJANGO_SETTINGS_MODULE": "config.settings.base", "MEDIA_ROOT": str(tmp / "media")})
    env.update(extra)
    return env


def _get(port: int, path: str, host: str = "localhost") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def _entrypoint_server(tmp: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(ENTRYPOINT), "server"], cwd=tmp,
        env=_environment(tmp, HOST="127.0.0.1", PORT=str(port), MIGRATE_ON_START="true", METRICS_ENABLED="true"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if _get(port, "/healthz")[0] == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the entrypoint's server did not start:\n" + proc.communicate()[0].decode()[-3000:])
            time.sleep(0.3)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_the_entrypoint_migrates_and_serves(tmp_path: Path) -> None:
    with _entrypoint_server(tmp_path) as port:
        status, body = _get(port, "/healthz")
        report = json.loads(body)
        assert status == 200 and report["status"] == "ok" and report["database"]["status"] == "ok"
        assert report["version"] != "unknown"
    assert (tmp_path / "db.sqlite3").stat().st_size > 0  # MIGRATE_ON_START ran the migrations


def test_the_entrypoint_refuses_an_unknown_role_and_runs_the_deploy_checks(tmp_path: Path) -> None:
    wrong = subprocess.run([str(ENTRYPOINT), "serve"], env=_environment(tmp_path),
                           capture_output=True, text=True, timeout=30)
    assert wrong.returncode == 2 and "usage:" in wrong.stderr
    production = dict(line.split("=", 1) for line in (DEPLOY / "im.env.example").read_text().splitlines()
                      if line and not line.startswith("#"))
    production["SECRET_KEY"] = secrets.token_urlsafe(50)
    for key in ("DATABASE_URL", "REDIS_URL"):  # hosts of the compose network; unused by the checks
        production.pop(key)
    checked = subprocess.run([str(ENTRYPOINT), "check"], env=_environment(tmp_path, **production),
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def _two_ports() -> tuple[int, int]:
    """Two different free ports (TEST_LIVE_PORTS's span when set)."""
    span = os.environ.get("TEST_LIVE_PORTS", "")
    candidates = range(int(span.split("-")[0]), int(span.split("-")[1]) + 1) if span else [0] * 2
    held: list[socket.socket] = []
    try:
        for port in candidates:
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)
            if len(held) == 2:
                return held[0].getsockname()[1], held[1].getsockname()[1]
        raise RuntimeError("no two free ports")
    finally:
        for s in held:
            s.close()


def _self_signed(directory: Path) -> None:
    subprocess.run(
        [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509",
         "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )


def _nginx_conf(tmp: Path, upstream_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx/im.conf as shipped, with only the machine's paths and ports replaced."""
    site = (DEPLOY / "nginx" / "im.conf").read_text()
    site = (site.replace("/etc/nginx/tls/", f"{tmp}/").replace("/srv/im/static/", f"{ROOT}/var/static/")
            .replace("listen 80 ", f"listen 127.0.0.1:{http_port} ")
            .replace("listen 443 ", f"listen 127.0.0.1:{https_port} "))
    upstream = (DEPLOY / "nginx" / "upstream-systemd.conf").read_text()
    upstream = upstream.replace("127.0.0.1:8001", f"127.0.0.1:{upstream_port}").replace(
        "    server 127.0.0.1:8002 max_fails=0;\n", "")
    (tmp / "site.conf").write_text(site)
    (tmp / "upstream.conf").write_text(upstream)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log {tmp}/access.log;\n  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n  include {tmp}/upstream.conf;\n  include {tmp}/site.conf;\n}}\n")
    return conf


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (.ci/run installs nginx-light)")
def test_nginx_config_carries_https_and_websocket_traffic_to_the_server(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    _self_signed(tmp_path)
    with _entrypoint_server(tmp_path) as upstream_port:
        http_port, https_port = _two_ports()
        conf = _nginx_conf(tmp_path, upstream_port, http_port, https_port)
        tested = subprocess.run([nginx, "-t", "-c", str(conf), "-e", str(tmp_path / "error.log")],
                                capture_output=True, text=True, timeout=30)
        assert tested.returncode == 0, tested.stderr
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-e", str(tmp_path / "error.log")],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while True:
                with contextlib.suppress(OSError):
                    status, _ = _get(http_port, "/api/v1/me")
                    break
                assert proxy.poll() is None and time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                time.sleep(0.2)
            assert status == 301  # plain HTTP goes to HTTPS
            assert _get(http_port, "/healthz")[0] == 200  # except the balancer's health check
            assert _get(upstream_port, "/metrics")[0] == 200  # served to a scraper on the server's port

            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=5, context=context)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            health = conn.getresponse()
            assert health.status == 200 and json.loads(health.read())["status"] == "ok"
            conn.request("GET", "/metrics", headers={"Host": "localhost"})
            hidden = conn.getresponse()
            assert hidden.status == 404 and b"im_" not in hidden.read()  # but never to the public
            conn.close()

            async def heartbeat() -> dict[str, object]:
                async with websockets.connect(f"wss://127.0.0.1:{https_port}/ws/", ssl=context,
                                              open_timeout=10) as ws:
                    await ws.send(json.dumps({"id": 1, "method": "system.heartbeat", "params": {}}))
                    return json.loads(await asyncio.wait_for(ws.recv(), 10))

            reply = asyncio.run(heartbeat())
            assert reply["id"] == 1 and reply["code"] == 200
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """The units as shipped, pointed at this checkout instead of /opt/im-server."""
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/im-server", str(ROOT))
        text = text.replace("User=im", "User=root").replace("Group=im", "Group=root")
        (tmp_path / unit.name).write_text(text)
    shutil.copy(tmp_path / "im-server@.service", tmp_path / "im-server@8001.service")
    units = [str(tmp_path / name) for name in ("im-server@8001.service", "im-worker.service", "im-beat.service")]
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],  # noqa: S607
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    for name in units:
        assert f"ExecStart={ROOT}/deploy/entrypoint.sh " in Path(name).read_text()


def test_compose_runs_every_process_through_the_entrypoint() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"nginx", "postgres", "redis", "migrate", "worker", "beat"} <= set(services)
    servers = [name for name, s in services.items() if s.get("command") == ["server"]]
    assert len(servers) >= 2  # several server processes behind nginx
    upstream = (DEPLOY / "nginx" / "upstream-compose.conf").read_text()
    for name in servers:
        assert f"server {name}:8000" in upstream
    for name, service in services.items():
        if service.get("image") == "im-server":
            assert service["command"][0] in ROLES, name
            assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert sum(1 for s in services.values() if s.get("command") == ["beat"]) == 1
    for mount in services["nginx"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./") and source != "./tls":
            assert (DEPLOY / source).exists(), source
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["deploy/entrypoint.sh"]' in dockerfile
    assert "-r requirements.txt" in dockerfile and "requirements-dev" not in dockerfile
    assert "USER im" in dockerfile


def test_the_deployment_guide_shows_the_files_as_shipped() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "deploy_docs.py"), "--check"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for name in ("deploy/compose.yaml", "deploy/systemd/im-server@.service", "deploy/nginx/im.conf"):
        assert f"### {name}\n" in guide
