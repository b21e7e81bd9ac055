"""More work than the gateway threads can do in time is refused at once with 503 "server busy,
retry", before anything is done; what is accepted is answered; it recovers by itself."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from core.gateway import threads
from messaging.models import Message
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_overloaded_pool_refuses_at_once_and_recovers(
        connect: Connect, alice: User, bob: User, settings: Any) -> None:
    settings.GATEWAY_QUEUE_BUDGET_MS = 100
    sender = await connect(await atoken_for(alice))
    slow = threads.run_sync(time.sleep)
    await asyncio.gather(*(slow(0.2) for _ in range(settings.GATEWAY_DB_THREADS)))  # calls take long now
    backlog = [asyncio.ensure_future(slow(0.2)) for _ in range(settings.GATEWAY_DB_THREADS * 6)]
    await asyncio.sleep(0.01)

    started = time.monotonic()
    reply = await sender.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "in the rush"},
                                                "clientMsgId": "rush-1"})
    assert reply["code"] == 503 and reply["msg"] == "server busy, retry"
    assert time.monotonic() - started < 0.2  # refused at once, not after the backlog
    assert (await sender.call("system.heartbeat"))["code"] == 200  # no thread needed: served
    assert threads.load()["refused"] >= 1

    await asyncio.gather(*backlog)
    assert not await sync_to_async(Message.objects.filter(client_msg_id="rush-1").exists)()  # nothing done
    reply = await sender.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "in the rush"},
                                                "clientMsgId": "rush-1"})
    assert reply["code"] == 200  # the retry goes through once the backlog is gone
    assert await sync_to_async(Message.objects.filter(client_msg_id="rush-1").count)() == 1


async def test_budget_zero_never_refuses(connect: Connect, alice: User, bob: User, settings: Any) -> None:
    settings.GATEWAY_QUEUE_BUDGET_MS = 0
    sender = await connect(await atoken_for(alice))
    slow = threads.run_sync(time.sleep)
    await asyncio.gather(*(slow(0.1) for _ in range(settings.GATEWAY_DB_THREADS)))
    backlog = [asyncio.ensure_future(slow(0.1)) for _ in range(settings.GATEWAY_DB_THREADS * 6)]
    await asyncio.sleep(0.01)
    reply = await sender.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "x"}}, timeout=10)
    assert reply["code"] == 200
    await asyncio.gather(*backlog)


async def test_a_socket_flooding_its_own_queue_gets_quick_refusals(
        connect: Connect, alice: User, settings: Any) -> None:
    settings.GATEWAY_QUEUE_BUDGET_MS = 100
    settings.WS_RATE_PER_SECOND = settings.WS_RATE_BURST = 1000
    settings.WS_USER_RATE_PER_SECOND = settings.WS_USER_RATE_BURST = 1000
    socket = await connect(await atoken_for(alice))
    slow = threads.run_sync(time.sleep)
    await asyncio.gather(*(slow(0.05) for _ in range(settings.GATEWAY_DB_THREADS * 3)))  # ~20 ms a call now
    frames = 60
    for n in range(frames):  # one socket's frames are handled one after another
        await socket.send_raw(json.dumps({"id": n, "method": "users.info", "params": {"uIds": [alice.pk]}}))
    replies = [await socket.frame(timeout=10) for _ in range(frames)]
    codes = [reply["code"] for reply in replies]
    assert set(codes) == {200, 503}, codes  # the head of a long queue is refused, the rest served
    assert codes[-1] == 200  # once the queue is short again, calls are served


async def test_an_event_loop_running_late_refuses_at_once_and_recovers(
        connect: Connect, alice: User, bob: User, settings: Any) -> None:
    """The loop itself is the bottleneck once database work is batched: every frame and push
    of the process waits for it. Late by more than the budget, it refuses; then it recovers."""
    settings.GATEWAY_QUEUE_BUDGET_MS = 100
    sender = await connect(await atoken_for(alice))
    await asyncio.sleep(threads.LAG_TICK * 2)  # the process's lag watch is running
    time.sleep(0.4)  # the point: the event loop stalls for 400 ms
    await asyncio.sleep(threads.LAG_TICK * 2)
    assert threads.load()["loopLagMs"] >= 100
    reply = await sender.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "late"},
                                                "clientMsgId": "late-1"})
    assert reply["code"] == 503 and reply["msg"] == "server busy, retry"
    for _ in range(100):  # the lag decays once the loop keeps time again
        await asyncio.sleep(threads.LAG_TICK)
        if threads.load()["loopLagMs"] < 100:
            break
    reply = await sender.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "late"},
                                                "clientMsgId": "late-1"})
    assert reply["code"] == 200
    assert await sync_to_async(Message.objects.filter(client_msg_id="late-1").count)() == 1
