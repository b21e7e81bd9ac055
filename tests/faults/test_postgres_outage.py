"""PostgreSQL goes away and comes back under a real daphne: calls answer 503 "retry" quickly
while it is away (REST and the native socket), and the server serves again within seconds of
its return, with no dead pooled connection handed out.

The test runs its own throwaway PostgreSQL cluster on a spare port (never the machine's
shared one) and stops it with ``pg_ctl stop -m immediate``, as a crash would."""
from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.e2e.server import ROOT, daphne, free_port

pytestmark = pytest.mark.faults

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _as_postgres(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """initdb refuses to run as root: run the cluster's tools as the postgres user then."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, timeout=120, **kwargs)


class Cluster:
    def __init__(self, bindir: Path, data: Path, sockets: Path, port: int) -> None:
        self.bindir, self.data, self.sockets, self.port = bindir, data, sockets, port

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        _as_postgres([str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                      "-l", str(self.data / "server.log"),
                      "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"])

    def stop(self) -> None:
        _as_postgres([str(self.bindir / "pg_ctl"), "stop", "-w", "-t", "60", "-m", "immediate", "-D", str(self.data)])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BINARIES:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) on this machine")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb refuses root")
    bindir = Path(BINARIES[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="im-faults-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:  # the cluster's tools run as postgres and write here
        for path in (base, sockets):
            shutil.chown(path, "postgres")
    low = int(os.environ.get("TEST_FAULT_PG_PORTS", "").split("-")[0] or 0)
    port = free_port() if not low else next(
        p for p in range(low, low + 10) if _port_free(p))
    _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
    db = Cluster(bindir, data, sockets, port)
    db.start()
    try:
        yield db
    finally:
        with contextlib.suppress(Exception):
            db.stop()
        shutil.rmtree(base, ignore_errors=True)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _http(method: str, url: str, body: dict[str, Any] | None = None,
          token: str | None = None) -> tuple[int, Any, float]:
    """(status, JSON body, seconds taken)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response), time.monotonic() - started
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text.decode(errors="replace")
        return error.code, payload, time.monotonic() - started


def test_postgres_outage_answers_503_quickly_and_recovers_within_seconds(cluster: Cluster) -> None:
    # A short pool timeout, as docs/deploy.md advises for failing fast while the database is away.
    env = {"DATABASE_URL": cluster.url, "DB_POOL_TIMEOUT": "2",
           "HX_CLIENT_ID": "faults", "HX_CLIENT_SECRET": "faults-secret-0123456789"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True, timeout=300,
                   capture_output=True, env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "config.settings.base"})
    with daphne(env=env) as port:
        base = f"http://127.0.0.1:{port}"
        status, account, _ = _http("POST", f"{base}/api/v1/auth/register",
                                   {"username": "olga", "password": "secret123"})
        assert status in (200, 201), account
        token = account["token"]
        assert _http("GET", f"{base}/api/v1/friends", token=token)[0] == 200
        status, grant, _ = _http("POST", f"{base}/hx/getToken",
                                 {"grant_type": "client_credentials", "client_id": "faults",
                                  "client_secret": "faults-secret-0123456789"})
        assert status == 200 and grant["code"] == 200, grant
        hx_token = grant["data"]["access_token"]

        def other_protocols() -> list[tuple[int, Any, float]]:
            """im/* (status 1: the friend list is empty) and the Easemob bridge: (HTTP status, body, seconds)."""
            return [_http("GET", f"{base}/im/friend_list?session_key={token}"),
                    _http("POST", f"{base}/hx/getFriends", {"owner_username": "olga"}, hx_token)]

        assert [(status, body.get("status", body.get("code"))) for status, body, _ in other_protocols()] == [
            (200, 1), (200, 200)]

        async def socket_call(ws: Any, rid: int) -> tuple[dict[str, Any], float]:
            started = time.monotonic()
            await ws.send(json.dumps({"id": rid, "method": "friends.list"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 15))
            return reply, time.monotonic() - started

        async def scenario() -> None:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/?token={token}") as ws:
                reply, _ = await socket_call(ws, 1)
                assert reply["code"] == 200, reply

                cluster.stop()
                for rid in (2, 3, 4):
                    status, body, took = await asyncio.to_thread(_http, "GET", f"{base}/api/v1/friends", None, token)
                    assert status == 503 and body["code"] == 503 and body["error"] == "unavailable", body
                    assert took < 3.5, took
                    reply, took = await socket_call(ws, rid)
                    assert reply == {"id": rid, "code": 503, "msg": "service unavailable, retry"}
                    assert took < 3.5, took
                (im_status, im_body, im_took), (_, hx_body, hx_took) = await asyncio.to_thread(other_protocols)
                assert im_status == 503 and im_body == {"status": 3, "msg": "service unavailable, retry", "data": {}}
                assert hx_body["code"] == 503 and hx_body["message"] == "service unavailable, retry", hx_body
                assert im_took < 3.5 and hx_took < 3.5, (im_took, hx_took)
                health, _, took = await asyncio.to_thread(_http, "GET", f"{base}/healthz")
                assert health == 503 and took < 3.5, (health, took)
                started = time.monotonic()
                async with websockets.connect(f"ws://127.0.0.1:{port}/ws/?token={token}") as late:
                    with pytest.raises(websockets.ConnectionClosed) as closed:
                        await asyncio.wait_for(late.recv(), 15)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4503
                assert time.monotonic() - started < 3.5

                await asyncio.to_thread(cluster.start)
                back = time.monotonic()
                results: list[int] = []
                for rid in range(10, 60):  # bounded: 50 tries, at most ~10 s
                    status = (await asyncio.to_thread(_http, "GET", f"{base}/api/v1/friends", None, token))[0]
                    reply, _ = await socket_call(ws, rid)
                    results.append(status)
                    if status == 200 and reply["code"] == 200:
                        break
                    if time.monotonic() - back > 10:
                        break
                    await asyncio.sleep(0.2)
                recovered = time.monotonic() - back
                print(f"recovered {recovered:.2f} s after PostgreSQL accepted connections again")
                assert results[-1] == 200 and recovered < 4, (results, recovered)
                # Once back, every call succeeds: no dead pooled connection is handed out.
                for rid in range(100, 110):
                    assert (await asyncio.to_thread(_http, "GET", f"{base}/api/v1/friends", None, token))[0] == 200
                    assert (await socket_call(ws, rid))[0]["code"] == 200
                assert [(status, body.get("status", body.get("code")))
                        for status, body, _ in await asyncio.to_thread(other_protocols)] == [(200, 1), (200, 200)]

        asyncio.run(scenario())
