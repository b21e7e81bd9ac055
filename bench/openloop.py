"""Open-loop load over the native socket protocol, for bench/run.py.

Each sender sends on a fixed schedule (one frame every ``senders / rate`` seconds) and never
waits for a reply, so a slow server cannot slow the offer down. Every latency is measured
from the time the frame was *scheduled* to go, not from when it went: a sender that falls
behind does not hide the wait (no coordinated omission). A step records, per message, the
reply (code and latency) and the ``onMessage`` pushes received by the other members; a
message pushed twice to one socket (the same ``messageId``) counts as duplicated.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed

from bench.messages import pct

RUN = secrets.token_hex(4)  # clientMsgIds must not repeat across runs, or resends are deduplicated
STEP_NUMBERS = itertools.count(1)
CONNECT_BATCH = 100
CONNECT_RETRIES = 20  # a socket closed at once (4503 busy) is opened again
CONNECT_TIMEOUT = 20.0


class CpuMeter:
    """CPU seconds (user + system) used so far by one process, from /proc/<pid>/stat."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tick = float(os.sysconf("SC_CLK_TCK"))

    def seconds(self) -> float:
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime, stime


@dataclass
class Step:
    """What one step sent and what came back. Times are the event loop's clock."""

    fanout: int  # pushes expected per accepted message
    number: int = field(default_factory=lambda: next(STEP_NUMBERS))
    start: float = 0.0
    sent: dict[str, float] = field(default_factory=dict)  # key -> scheduled time
    send_lag: list[float] = field(default_factory=list)  # actual send - scheduled
    replies: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (code, latency)
    pushed: Counter[str] = field(default_factory=Counter)  # key -> distinct sockets it reached
    e2e: list[float] = field(default_factory=list)
    duplicates: int = 0
    last_arrival: float = 0.0

    def accepted(self) -> int:
        return sum(1 for code, _ in self.replies.values() if code == 200)

    def complete(self) -> bool:
        return len(self.replies) >= len(self.sent) and sum(self.pushed.values()) >= self.accepted() * self.fanout

    def lost(self) -> int:
        """Requests never answered plus pushes of accepted messages never received."""
        unanswered = len(self.sent) - len(self.replies)
        missing = sum(max(0, self.fanout - self.pushed[k]) for k, (code, _) in self.replies.items() if code == 200)
        return unanswered + missing


class Conn:
    """One authenticated socket; routes replies and pushes to the current step."""

    def __init__(self, ws: websockets.ClientConnection, user_id: int) -> None:
        self.ws, self.user_id = ws, user_id
        self.step: Step | None = None
        self.next_id = 0
        self.keys: dict[int, tuple[Step, str]] = {}  # request id -> its step and message key (open loop)
        self.calls: dict[int, asyncio.Future[dict[str, Any]]] = {}  # request id -> reply (closed loop)
        self.seen: set[Any] = set()  # messageIds pushed to this socket
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for raw in self.ws:
                self._frame_in(json.loads(raw, parse_float=Decimal), loop.time())
        except ConnectionClosed:
            pass

    def _frame_in(self, frame: dict[str, Any], now: float) -> None:
        if "event" in frame:
            step, data = self.step, frame.get("data")
            if step is None or frame["event"] != "onMessage" or not isinstance(data, dict):
                return
            content = data.get("content")
            if not isinstance(content, dict):
                return
            key = content.get("k")
            if key not in step.sent:  # another step's, or not the benchmark's
                return
            if data.get("messageId") in self.seen:
                step.duplicates += 1
                return
            self.seen.add(data.get("messageId"))
            step.pushed[key] += 1
            step.e2e.append(now - step.sent[key])
            step.last_arrival = max(step.last_arrival, now)
            return
        rid = frame.get("id")
        if not isinstance(rid, int):
            return
        if (future := self.calls.pop(rid, None)) is not None:
            if not future.done():
                future.set_result(frame)
        elif (sent := self.keys.pop(rid, None)) is not None:
            step, key = sent  # the step that sent it, even if a later one runs now
            step.replies[key] = (frame.get("code", 0), now - step.sent[key])
            step.last_arrival = max(step.last_arrival, now)

    def _frame(self, method: str, params: dict[str, Any]) -> tuple[int, str]:
        self.next_id += 1
        return self.next_id, json.dumps({"id": self.next_id, "method": method, "params": params}, default=str)

    async def call(self, method: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        """One request, waiting for its reply; ``{"code": 0}`` when none comes within ``timeout``."""
        rid, text = self._frame(method, params)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.calls[rid] = future
        try:
            await self.ws.send(text)
            return await asyncio.wait_for(future, timeout)
        except (TimeoutError, ConnectionClosed):
            self.calls.pop(rid, None)
            return {"id": rid, "code": 0}

    async def pace(self, step: Step, target: dict[str, Any], interval: float, first: float, count: int) -> None:
        """Send ``count`` messages to ``target``, the n-th at ``first + n * interval``."""
        loop = asyncio.get_running_loop()
        for n in range(count):
            scheduled = first + n * interval
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"{RUN}-{step.number}-{self.user_id}-{n}"
            rid, text = self._frame("messages.send", {**target, "type": 1, "clientMsgId": key,
                                                      "content": {"text": "bench", "k": key}})
            self.keys[rid] = (step, key)
            step.sent[key] = scheduled
            step.send_lag.append(loop.time() - scheduled)
            try:
                await self.ws.send(text)
            except ConnectionClosed:
                return


async def connect(ws_base: str, users: list[dict[str, Any]]) -> list[Conn]:
    """One socket per user, opened in batches so the accept queue is not flooded. A socket the
    server closes at once (4503 "busy, reconnect later", right after a burst) is opened again
    after a back-off, as a client does."""
    conns: list[Conn] = []
    for start in range(0, len(users), CONNECT_BATCH):
        batch = users[start:start + CONNECT_BATCH]
        conns += await asyncio.gather(*(_open(ws_base, u) for u in batch))
    return conns


async def _open(ws_base: str, user: dict[str, Any]) -> Conn:
    for attempt in range(CONNECT_RETRIES + 1):
        ws = await websockets.connect(f"{ws_base}/ws/?token={user['token']}", ping_interval=None,
                                      open_timeout=CONNECT_TIMEOUT, max_size=None)
        conn = Conn(ws, user["userId"])
        if (await conn.call("system.heartbeat", {}, CONNECT_TIMEOUT)).get("code") == 200 or attempt == CONNECT_RETRIES:
            return conn
        conn.reader.cancel()
        await ws.close()
        await asyncio.sleep(0.2 + 0.3 * random.random())
    raise AssertionError("unreachable")


async def close(conns: list[Conn]) -> None:
    for conn in conns:
        conn.reader.cancel()
    if conns:
        await asyncio.wait([asyncio.create_task(c.ws.close()) for c in conns], timeout=10)


async def run_step(senders: list[tuple[Conn, dict[str, Any]]], receivers: list[Conn], fanout: int, rate: float,
                   seconds: float, settle: float, cpu: CpuMeter) -> tuple[Step, float]:
    """Offer ``rate`` messages/s for ``seconds`` from ``senders`` (socket, target), then wait
    until every reply and push has come, the server has gone idle, or ``settle`` seconds.
    Returns the step and the server's CPU seconds spent on it."""
    loop = asyncio.get_running_loop()
    step = Step(fanout=fanout)
    for conn, _ in senders:
        conn.step = step
    for conn in receivers:
        conn.step = step
    per_sender = rate / len(senders)
    interval = 1 / per_sender
    count = max(1, round(per_sender * seconds))
    cpu_before = cpu.seconds()
    step.start = loop.time() + 0.05
    await asyncio.gather(*(conn.pace(step, target, interval, step.start + i * interval / len(senders), count)
                           for i, (conn, target) in enumerate(senders)))
    last_scheduled = step.start + count * interval
    await settle_wait(step, cpu, last_scheduled, settle)
    used = cpu.seconds() - cpu_before
    return step, used


async def settle_wait(step: Step, cpu: CpuMeter, after: float, bound: float) -> None:
    """Until the step is complete, or for half a second the server has been idle and nothing has
    arrived (nothing more will come), or ``bound`` seconds past ``after``."""
    loop = asyncio.get_running_loop()
    last_cpu, last_t, last_count, quiet = cpu.seconds(), loop.time(), -1, 0
    while loop.time() < after + bound and not step.complete():
        await asyncio.sleep(0.25)
        now_cpu, now, count = cpu.seconds(), loop.time(), len(step.replies) + sum(step.pushed.values())
        busy = (now_cpu - last_cpu) / max(1e-6, now - last_t)
        quiet = quiet + 1 if busy < 0.05 and count == last_count else 0
        last_cpu, last_t, last_count = now_cpu, now, count
        if now > after + 1.0 and quiet >= 2:
            break


def ms(value: float) -> str:
    if value != value:  # NaN: no sample
        return "-"
    return f"{value * 1000:.0f}" if value >= 0.01 else f"{value * 1000:.1f}"


def p50_p99(values: list[float]) -> str:
    return f"{ms(pct(values, .5))} / {ms(pct(values, .99))}" if values else "-"


def codes(step: Step) -> Counter[int]:
    return Counter(code for code, _ in step.replies.values())
