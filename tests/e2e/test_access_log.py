"""A real daphne process writes its access log without the login tokens clients put in URLs
(``?token=`` on the sockets, ``session_key`` on ``/im/*``)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.conf import settings

from tests.e2e.test_live_server import ROOT, _database_url, _post

pytestmark = pytest.mark.django_db(transaction=True)
PORTS = range(18230, 18240)


def _start(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "EMBEDDED_BEAT": "false"}
    if settings.REDIS_URL:
        env["CACHE_REDIS_URL"] = settings.CACHE_REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    for port in PORTS:
        env["CHANNEL_LAYER_PREFIX"] = f"e2e{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--access-log", str(log),
             "config.asgi:application"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    return proc, url
            except urllib.error.HTTPError:
                return proc, url
            except OSError:
                time.sleep(0.2)
        proc.terminate()
        proc.wait(timeout=10)
    raise RuntimeError("no port free for the server")


def test_tokens_in_urls_are_redacted_in_the_access_log(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    proc, url = _start(log)
    try:
        token = _post(f"{url}/api/v1/auth/register", {"username": "ivy", "password": "secret123"})["token"]

        async def sockets() -> None:
            for path in (f"/ws/?token={token}", f"/?token={token}&x=1"):
                async with websockets.connect(f"{url.replace('http', 'ws')}{path}") as ws:
                    await ws.send(json.dumps({"id": 1, "method": "system.heartbeat"}))
                    await asyncio.wait_for(ws.recv(), 5)

        asyncio.run(sockets())
        with urllib.request.urlopen(f"{url}/im/user_info?session_key={token}", timeout=5):
            pass
        # a socket URL fetched without the upgrade (a proxy's health check, a broken client)
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{url}/ws/?token={token}&device=pc", timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    lines = log.read_text()
    assert token not in lines
    assert "WSCONNECT /ws/" in lines and "WSCONNECT /" in lines  # the sockets were logged
    assert '"GET /im/user_info?session_key=[redacted]" 200' in lines
    assert '"GET /ws/?token=[redacted]&device=pc"' in lines
