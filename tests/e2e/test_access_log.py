"""A real daphne process writes its access log without the login tokens clients put in URLs
(``?token=`` on the sockets, ``session_key`` on ``/im/*``)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

from tests.e2e.server import daphne
from tests.e2e.test_live_server import _post

pytestmark = pytest.mark.django_db(transaction=True)

def test_tokens_in_urls_are_redacted_in_the_access_log(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with daphne("--access-log", str(log), output=subprocess.DEVNULL) as port:
        url = f"http://127.0.0.1:{port}"
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
    lines = log.read_text()
    assert token not in lines
    assert "WSCONNECT /ws/" in lines and "WSCONNECT /" in lines  # the sockets were logged
    assert '"GET /im/user_info?session_key=[redacted]" 200' in lines
    assert '"GET /ws/?token=[redacted]&device=pc"' in lines
