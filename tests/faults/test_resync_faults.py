"""What pushes and presence do after a Redis outage, a killed server process and a mass
disconnect, with real daphne processes and real websocket clients: every online recipient
gets every committed message within seconds without further traffic, and presence converges.

Each test starts its OWN throwaway ``redis-server`` (never the machine's shared one).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets

from tests.e2e.server import daphne
from tests.faults.test_redis_faults import BOUND, Client, ThrowawayRedis, _send, _user
from tests.faults.test_redis_faults import pytestmark as redis_marks

pytestmark = redis_marks

REDELIVERY = 10.0  # seconds after Redis returns: every message of the outage has arrived
DEAD = 3  # PROCESS_DEAD_SECONDS of these servers
CONVERGE = DEAD + 7.0  # seconds after a process dies: its users are offline, its pushes re-sent


def _env(redis: ThrowawayRedis) -> dict[str, str]:
    env = {name: redis.url for name in ("REDIS_URL", "CACHE_REDIS_URL", "CHANNEL_LAYER_REDIS_URL",
                                        "CELERY_BROKER_URL")}
    # Both processes are one deployment: one channel layer.
    env.update(CHANNEL_LAYER_PREFIX=f"faults{redis.port}", PROCESS_HEARTBEAT_SECONDS="1",
               PROCESS_DEAD_SECONDS=str(DEAD), WS_MAX_SOCKETS_PER_ADDRESS="5000",
               WS_MAX_SOCKETS_PER_USER="5")
    return env


@pytest.fixture
def two_servers(redis_server: ThrowawayRedis) -> Iterator[tuple[str, str]]:
    with daphne(env=_env(redis_server), output=subprocess.DEVNULL) as a, \
            daphne(env=_env(redis_server), output=subprocess.DEVNULL) as b:
        yield f"127.0.0.1:{a}", f"127.0.0.1:{b}"


def _befriend(a: dict[str, Any], b: dict[str, Any]) -> None:
    from accounts.models import User
    from tests.accounts.factories import make_friends

    make_friends(User.objects.get(pk=a["userId"]), User.objects.get(pk=b["userId"]))


async def _collect(client: Client, want: set[Any], pick: Callable[[dict[str, Any]], Any],
                   timeout: float) -> tuple[set[Any], list[Any]]:
    """Read pushes until every value of ``want`` was seen as ``pick(data)`` of an ``onMessage``
    (or the timeout); returns what was seen and every value in arrival order."""
    seen: set[Any] = set()
    order: list[Any] = []
    deadline = time.monotonic() + timeout
    pending = list(client.pushes)
    client.pushes.clear()
    for _ in range(100_000):
        for frame in pending:
            if frame.get("event") == "onMessage":
                order.append(pick(frame["data"]))
                seen.add(pick(frame["data"]))
        pending = []
        if want <= seen:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            pending = [json.loads(await asyncio.wait_for(client.ws.recv(), left))]
        except TimeoutError:
            break
    return seen, order


def test_messages_sent_during_a_redis_outage_reach_the_receiver_without_further_traffic(
        two_servers: tuple[str, str], redis_server: ThrowawayRedis) -> None:
    host_a, host_b = two_servers
    alice, bob = _user(host_a, "alice"), _user(host_a, "bob")

    async def scenario() -> float:
        async with websockets.connect(f"ws://{host_a}/ws/?token={alice['token']}") as a, \
                websockets.connect(f"ws://{host_b}/ws/?token={bob['token']}") as b:
            sender, receiver = Client(a), Client(b)
            reply, _ = await _send(sender, bob["userId"], "before")
            assert reply["code"] == 200
            assert await receiver.push_with("before", BOUND)
            receiver.pushes.clear()
            redis_server.kill()
            texts = {f"during the outage {n}" for n in range(20)}
            for text in sorted(texts):
                reply, took = await _send(sender, bob["userId"], text)
                assert reply["code"] == 200 and took < BOUND, reply  # stored and acknowledged
            redis_server.start()
            back = time.monotonic()
            # No further traffic: the receiver's socket gets all twenty by itself.
            got, order = await _collect(receiver, texts, lambda data: data["content"]["text"], REDELIVERY)
            assert got >= texts, f"missing after {REDELIVERY} s: {sorted(texts - got)}"
            assert len(order) == len(texts)  # none twice
            return time.monotonic() - back

    took = asyncio.run(scenario())
    print(f"redis outage: 20 messages re-delivered {took:.2f} s after Redis returned")


def test_a_killed_process_users_go_offline_and_its_unpushed_messages_arrive(
        redis_server: ThrowawayRedis) -> None:
    from messaging.models import Message

    started: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryFile() as survivor_log, tempfile.TemporaryFile() as killed_log, \
            daphne(env=_env(redis_server), output=survivor_log.fileno()) as b, \
            daphne(env=_env(redis_server), output=killed_log.fileno(), started=started) as a:
        logs = survivor_log, killed_log
        host_a, host_b = f"127.0.0.1:{a}", f"127.0.0.1:{b}"
        victim = started[0]
        alice, bob = _user(host_b, "alice"), _user(host_b, "bob")
        _befriend(alice, bob)

        async def scenario() -> dict[str, float]:
            async with websockets.connect(f"ws://{host_b}/ws/?token={bob['token']}") as b_ws:
                receiver = Client(b_ws)
                a_ws = await websockets.connect(f"ws://{host_a}/ws/?token={alice['token']}")
                assert await receiver.push_with('"online": true', BOUND)
                # 100 sends in flight, then the process is killed: some are committed whose
                # pushes never left its memory.
                for n in range(100):
                    await a_ws.send(json.dumps({"id": n, "method": "messages.send", "params": {
                        "to": bob["userId"], "type": 1, "content": {"text": f"m{n}"}}}))
                await asyncio.sleep(0.3)
                victim.send_signal(signal.SIGKILL)  # a crash: nothing is cleaned up
                killed = time.monotonic()
                with contextlib.suppress(Exception):  # the server is gone: no closing handshake
                    await asyncio.wait_for(a_ws.close(), 1)
                measured: dict[str, float] = {}
                offline = False
                for _ in range(1000):
                    if any(p.get("event") == "presence.onUpdate" and p["data"]["online"] is False
                           for p in receiver.pushes):
                        offline = True
                        break
                    if time.monotonic() - killed > CONVERGE:
                        break
                    with contextlib.suppress(TimeoutError):
                        receiver.pushes.append(json.loads(await asyncio.wait_for(b_ws.recv(), 0.5)))
                assert offline, (f"alice still online {CONVERGE} s after her server process died; pushes: "
                                 f"{[(p.get('event'), p.get('data', {}).get('uId')) for p in receiver.pushes][:12]}")
                measured["offline"] = time.monotonic() - killed
                stored = set(await asyncio.to_thread(lambda: list(
                    Message.objects.filter(sender_id=alice["userId"]).values_list("pk", flat=True))))
                seen, order = await _collect(receiver, stored, lambda data: data["messageId"],
                                             max(0.5, CONVERGE - (time.monotonic() - killed)))
                assert stored <= seen, f"{len(stored - seen)} of {len(stored)} committed messages never arrived"
                assert len(order) == len(set(order)), "a message arrived twice"
                measured["all messages"] = time.monotonic() - killed
                measured["committed"] = len(stored)
                assert stored, "nothing was committed before the kill: the test proved nothing"
                return measured

        try:
            measured = asyncio.run(scenario())
        except AssertionError:
            for name, log in zip(("survivor", "killed"), logs, strict=True):
                log.seek(0)
                print(f"--- {name} server's log\n" + log.read().decode(errors="replace")[-6000:])
            raise
    print("process killed: " + ", ".join(f"{k} {v:.2f}" for k, v in measured.items()))


MASS = 600
CLIENT = """
import asyncio, json, sys, websockets
async def main():
    host, tokens = sys.argv[1], json.load(open(sys.argv[2]))
    sockets = []
    for start in range(0, len(tokens), 50):
        sockets += await asyncio.gather(*(websockets.connect(f"ws://{host}/ws/?token={t}", open_timeout=30)
                                          for t in tokens[start:start + 50]))
    print("ready", len(sockets), flush=True)
    await asyncio.sleep(120)
asyncio.run(main())
"""


def test_a_mass_disconnect_is_settled_for_every_user(redis_server: ThrowawayRedis) -> None:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Friendship, User
    from tests.conftest import token_for

    watcher_user = User.objects.create(username="watcher", password=make_password(None))
    users = User.objects.bulk_create([User(username=f"mass{n}", username_key=f"mass{n}", password=make_password(None))
                                      for n in range(MASS)])
    Friendship.objects.bulk_create([Friendship(user=u, friend=watcher_user) for u in users]
                                   + [Friendship(user=watcher_user, friend=u) for u in users])
    tokens = [token_for(u) for u in users]
    watcher_token = token_for(watcher_user)
    # daphne cancels a disconnect handler that is not done within 2 s of the close.
    with daphne("--application-close-timeout", "2", env=_env(redis_server), output=subprocess.DEVNULL) as port, \
            tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        host = f"127.0.0.1:{port}"
        json.dump(tokens, file)
        file.flush()

        async def scenario() -> float:
            async with websockets.connect(f"ws://{host}/ws/?token={watcher_token}",
                                          max_queue=None) as w:
                clients = subprocess.Popen([sys.executable, "-c", CLIENT, host, file.name], stdout=subprocess.PIPE,
                                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
                try:
                    line = await asyncio.wait_for(asyncio.to_thread(clients.stdout.readline), 120)  # type: ignore[union-attr]
                    assert line.decode().startswith(f"ready {MASS}"), line
                    online = await _presence(w, True, MASS, 30)
                    assert online == {u.pk for u in users}
                    clients.send_signal(signal.SIGKILL)  # every socket drops at once
                    dropped = time.monotonic()
                    offline = await _presence(w, False, MASS, 30)
                    took = time.monotonic() - dropped
                    assert offline == {u.pk for u in users}, f"{MASS - len(offline)} users never went offline"
                    return took
                finally:
                    clients.kill()
                    clients.wait(timeout=10)

        took = asyncio.run(scenario())
    assert not User.objects.filter(pk__in=[u.pk for u in users], last_seen_at__isnull=True).exists()
    print(f"mass disconnect: {MASS} users offline {took:.2f} s after their sockets dropped")


async def _presence(ws: Any, online: bool, count: int, timeout: float) -> set[int]:
    """The users of the ``presence.onUpdate`` pushes with ``online`` until ``count`` came."""
    found: set[int] = set()
    deadline = time.monotonic() + timeout
    for _ in range(count * 4):
        left = deadline - time.monotonic()
        if left <= 0 or len(found) >= count:
            break
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if frame.get("event") == "presence.onUpdate" and frame["data"]["online"] is online:
            found.add(frame["data"]["uId"])
    return found
