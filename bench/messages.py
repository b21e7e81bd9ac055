"""Messaging benchmark against a running server: persisted messages per second and latency.

    python -m bench.messages --url http://127.0.0.1:8000 --pairs 50 --seconds 10
    python -m bench.messages --url http://127.0.0.1:8000 --group 50 --senders 5 --seconds 10

Start the server with the per-socket rate limit raised
(``WS_RATE_PER_SECOND=100000 WS_RATE_BURST=100000``) and create the users with the same
settings as the server: ``python manage.py bench_users --count 200 > var/bench-users.json``,
then pass ``--users var/bench-users.json``.

* one-to-one (``--pairs N``): N senders each send to their own receiver, one message in
  flight per sender. Every message is committed before its reply.
* group fan-out (``--group M --senders S``): M members online in one group, S of them send;
  each message is delivered to the other M-1 members.

It prints replies per second, deliveries (``onMessage`` pushes received) per second, the
reply latency (send -> reply) and the end-to-end latency (send -> push at the receiver),
p50/p95/p99. Loopback only; bounded by ``--seconds``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import statistics
import time
from typing import Any

import websockets


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    if not ms:
        return f"{name}: none"
    return (f"{name}: p50 {statistics.median(ms):.1f} ms  p95 {pct(ms, .95):.1f} ms  "
            f"p99 {pct(ms, .99):.1f} ms")


class Client:
    def __init__(self, ws: websockets.ClientConnection, user_id: int) -> None:
        self.ws, self.user_id = ws, user_id
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.latencies: list[float] = []
        self.delivered = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if "event" in frame:
                if frame["event"] == "onMessage" and frame["data"]["type"] == 1:
                    sent_ns = frame["data"]["content"].get("t")
                    if sent_ns:
                        self.latencies.append((time.time_ns() - sent_ns) / 1e9)
                        self.delivered += 1
            elif frame.get("id") in self.waiting:
                self.waiting.pop(frame["id"]).set_result(frame)

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return await future


async def make_clients(base: str, users: list[dict[str, Any]]) -> list[Client]:
    ws_base = base.replace("http://", "ws://")
    sockets = await asyncio.gather(*(websockets.connect(f"{ws_base}/ws/?token={u['token']}", ping_interval=None)
                                     for u in users))
    return [Client(ws, u["userId"]) for ws, u in zip(sockets, users, strict=True)]


RUN = secrets.token_hex(4)  # clientMsgIds must not repeat across runs, or resends are deduplicated


async def drive(sender: Client, target: dict[str, Any], deadline: float, replies: list[float],
                errors: list[int]) -> None:
    n = 0
    while time.monotonic() < deadline:
        n += 1
        started = time.perf_counter()
        reply = await sender.call("messages.send", {**target, "type": 1, "clientMsgId": f"{RUN}-{sender.user_id}-{n}",
                                                    "content": {"text": "bench", "t": time.time_ns()}})
        if reply.get("code") == 200:
            replies.append(time.perf_counter() - started)
        else:
            errors.append(reply.get("code", 0))


async def run(args: argparse.Namespace) -> None:
    with open(args.users) as f:
        pool = json.load(f)
    needed = args.group if args.group else args.pairs * 2
    if len(pool) < needed:
        raise SystemExit(f"{args.users} has {len(pool)} users; this run needs {needed}")
    replies: list[float] = []
    errors: list[int] = []
    if args.group:
        clients = await make_clients(args.url, pool[:needed])
        owner = clients[0]
        created = await owner.call("chats.create", {"title": "bench", "uIds": [c.user_id for c in clients[1:]]})
        chat_id = created["data"]["chatId"]
        await asyncio.sleep(0.5)
        senders, receivers, target = clients[: args.senders], clients, {"chatId": chat_id}
        label = f"group of {args.group}, {args.senders} senders"
    else:
        clients = await make_clients(args.url, pool[:needed])
        senders, receivers = clients[: args.pairs], clients[args.pairs:]
        target = {}
        label = f"one-to-one, {args.pairs} pairs"
    started = time.monotonic()
    deadline = started + args.seconds
    if args.group:
        await asyncio.gather(*(drive(s, target, deadline, replies, errors) for s in senders))
    else:
        await asyncio.gather(*(drive(s, {"to": r.user_id}, deadline, replies, errors)
                               for s, r in zip(senders, receivers, strict=True)))
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.0)  # let the last pushes arrive
    latencies = [v for c in receivers for v in c.latencies]
    delivered = sum(c.delivered for c in receivers)
    print(f"{label}: {len(replies)} messages persisted in {elapsed:.1f} s = {len(replies) / elapsed:.0f}/s; "
          f"{delivered} deliveries = {delivered / elapsed:.0f}/s; errors {len(errors)} {sorted(set(errors))}")
    print("  " + summary("reply (send -> committed reply)", replies))
    print("  " + summary("end-to-end (send -> onMessage at receiver)", latencies))
    for c in clients:
        c.reader.cancel()
        await c.ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", required=True, help="JSON from manage.py bench_users")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--group", type=int, default=0, help="members of one group (fan-out mode)")
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("benchmarks target loopback addresses only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
