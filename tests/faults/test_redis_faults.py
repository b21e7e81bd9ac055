"""Redis hung (SIGSTOP) and Redis down (SIGKILL, then restarted on the same port) under a real
daphne process and real websocket clients: the server answers within bounds meanwhile, keeps
what only needs the database working, and resumes pushes by itself when Redis returns.

Each test starts its OWN throwaway ``redis-server`` on a spare port (never the machine's
shared one) and stops it at the end whatever happens.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tests.e2e.server import daphne, free_port_in

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not on PATH"),
]

REDIS_PORTS = range(int(os.environ.get("TEST_FAULT_REDIS_PORT", "18790")), int(
    os.environ.get("TEST_FAULT_REDIS_PORT", "18790")) + 10)
REDIS_SERVER = shutil.which("redis-server") or "redis-server"
BOUND = 3.0  # seconds: an answer during a fault
RECOVERY = 15.0  # seconds: pushes flow again after Redis returns


class ThrowawayRedis:
    """A ``redis-server`` of this test only, in a temporary directory, without persistence."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = free_port_in(REDIS_PORTS)
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while self.command("PING") != "+PONG":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("throwaway redis-server did not start")
            time.sleep(0.05)

    def command(self, *words: str) -> str | None:
        """One inline command, its first reply line (None when Redis does not answer)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall((" ".join(words) + "\r\n").encode())
                return conn.makefile("rb").readline().decode().strip()
        except OSError:
            return None

    def count(self, *words: str) -> int:
        """The number of elements of an array reply (e.g. ``PUBSUB CHANNELS *``)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
            conn.sendall((" ".join(words) + "\r\n").encode())
            header = conn.makefile("rb").readline().decode().strip()
        assert header.startswith("*"), header
        return int(header[1:])

    def hang(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.stopped = False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            if self.stopped:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(redis_server: ThrowawayRedis) -> Iterator[str]:
    env = {name: redis_server.url for name in ("REDIS_URL", "CACHE_REDIS_URL", "CHANNEL_LAYER_REDIS_URL",
                                               "CELERY_BROKER_URL")}
    # A presence refresh falls due on every frame, so the fault meets it.
    env["PRESENCE_TOUCH_SECONDS"] = "1"
    with daphne(env=env, output=subprocess.DEVNULL) as port:
        yield f"127.0.0.1:{port}"


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], float]:
    """Status, JSON body and seconds taken (an unanswered call raises after 10 s)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response), time.monotonic() - started
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text.startswith(b"{") else {}, time.monotonic() - started


def _user(host: str, name: str) -> dict[str, Any]:
    status, _, _ = _http("POST", f"http://{host}/api/v1/auth/register", {"username": name, "password": "secret123"})
    assert status in (200, 201)
    status, body, _ = _http("POST", f"http://{host}/api/v1/auth/login", {"username": name, "password": "secret123"})
    assert status == 200
    return body


class Client:
    """A websocket with request/reply matching; pushes are kept aside."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id = ws, 0
        self.pushes: list[dict[str, Any]] = []

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = BOUND) -> tuple[dict[str, Any], float]:
        self.next_id += 1
        rid = self.next_id
        started = time.monotonic()
        await self.ws.send(json.dumps({"id": rid, "method": method, "params": params or {}}))
        deadline = started + timeout
        for _ in range(1000):
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic())))
            if frame.get("id") == rid:
                return frame, time.monotonic() - started
            self.pushes.append(frame)
        raise AssertionError("no reply")

    async def push_with(self, text: str, timeout: float) -> bool:
        """Whether a push carrying ``text`` arrives within ``timeout``."""
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            if any(text in json.dumps(p) for p in self.pushes):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self.pushes.append(json.loads(await asyncio.wait_for(self.ws.recv(), left)))
            except TimeoutError:
                return False
        return False


def _stored(text: str) -> bool:
    from messaging.models import Message

    return any(text in json.dumps(content) for content in Message.objects.values_list("content", flat=True))


async def _send(client: Client, to: int, text: str) -> tuple[dict[str, Any], float]:
    return await client.call("messages.send", {"to": to, "type": 1, "content": {"text": text}})


def _fault_scenario(host: str, redis: ThrowawayRedis, fault: str) -> dict[str, float]:
    alice, bob, carol = _user(host, "alice"), _user(host, "bob"), _user(host, "carol")
    measured: dict[str, float] = {}

    async def scenario() -> None:
        async with websockets.connect(f"ws://{host}/ws/?token={alice['token']}") as a, \
                websockets.connect(f"ws://{host}/ws/?token={bob['token']}") as b:
            sender, receiver = Client(a), Client(b)
            reply, _ = await _send(sender, bob["userId"], "before the fault")
            assert reply["code"] == 200, reply
            assert await receiver.push_with("before the fault", BOUND)

            redis.hang() if fault == "hung" else redis.kill()
            fault_at = time.monotonic()
            await asyncio.sleep(1.1)  # the presence refresh falls due on the next frame

            status, report, took = await asyncio.to_thread(_http, "GET", f"http://{host}/healthz")
            assert status == 503 and report["channelLayer"]["status"] == "down", report
            assert took < BOUND, f"/healthz took {took:.2f} s"
            measured["healthz"] = took

            for n in range(3):  # the socket stays open and every send is stored and answered
                text = f"during the fault {n}"
                reply, took = await _send(sender, bob["userId"], text)
                assert reply["code"] == 200, reply
                assert took < BOUND, f"messages.send took {took:.2f} s"
                assert await asyncio.to_thread(_stored, text)
                measured["send"] = max(measured.get("send", 0.0), took)

            # A new socket connects and is served: carol's first, so her user has no
            # subscription yet that could carry her pushes once Redis is back.
            started = time.monotonic()
            c = await websockets.connect(f"ws://{host}/ws/?token={carol['token']}", open_timeout=BOUND)
            newcomer = Client(c)
            reply, _ = await newcomer.call("system.heartbeat")
            assert reply["code"] == 200, reply
            measured["new socket"] = time.monotonic() - started

            status, body, took = await asyncio.to_thread(
                _http, "POST", f"http://{host}/api/v1/auth/login", {"username": "bob", "password": "secret123"})
            assert status == 200 and body["token"], body
            assert took < BOUND, f"login took {took:.2f} s"
            measured["login"] = took
            measured["outage"] = time.monotonic() - fault_at

            redis.resume() if fault == "hung" else redis.start()
            back_at = time.monotonic()
            # Pushes reach the socket that stayed open through the fault again, by themselves.
            for n in range(int(RECOVERY) * 2):
                text = f"after the fault {n}"
                reply, took = await _send(sender, bob["userId"], text)
                assert reply["code"] == 200, reply
                if await receiver.push_with(text, 0.5):
                    break
                assert time.monotonic() - back_at < RECOVERY, "pushes did not resume"
            else:
                raise AssertionError("pushes did not resume")
            measured["recovery"] = time.monotonic() - back_at
            assert measured["recovery"] < RECOVERY
            # The socket opened during the fault joins its group by itself once Redis answers.
            for n in range(int(RECOVERY) * 2):
                text = f"to the newcomer {n}"
                reply, _ = await _send(sender, carol["userId"], text)
                assert reply["code"] == 200, reply
                if await newcomer.push_with(text, 0.5):
                    break
                assert time.monotonic() - back_at < RECOVERY, "the newcomer's pushes did not resume"
            else:
                raise AssertionError("the newcomer's pushes did not resume")
            measured["newcomer recovery"] = time.monotonic() - back_at
            assert not a.close_code and not b.close_code and not c.close_code
            await c.close()

            status, report, _ = await asyncio.to_thread(_http, "GET", f"http://{host}/healthz")
            for _ in range(int(RECOVERY) * 4):
                if status == 200:
                    break
                await asyncio.sleep(0.25)
                status, report, _ = await asyncio.to_thread(_http, "GET", f"http://{host}/healthz")
            assert status == 200, report

    asyncio.run(scenario())
    print(f"redis {fault}: " + ", ".join(f"{k} {v:.2f} s" for k, v in measured.items()))
    return measured


def test_a_hung_redis_stalls_nothing_and_pushes_resume(server: str, redis_server: ThrowawayRedis) -> None:
    _fault_scenario(server, redis_server, "hung")


def test_a_redis_outage_keeps_database_requests_working_and_pushes_resume(
        server: str, redis_server: ThrowawayRedis) -> None:
    _fault_scenario(server, redis_server, "down")


def test_healthz_holds_no_redis_subscription_per_call(server: str, redis_server: ThrowawayRedis) -> None:
    base = redis_server.count("PUBSUB", "CHANNELS", "*")
    for _ in range(50):
        status, _, _ = _http("GET", f"http://{server}/healthz")
        assert status == 200
    assert redis_server.count("PUBSUB", "CHANNELS", "*") - base <= 1
