"""Gateway benchmark against a running server: idle sockets and request/reply rate.

    python manage.py bench_users --count 10100 > var/bench-users.json   # the server's environment
    python -m bench.sockets --url http://127.0.0.1:8000 --users var/bench-users.json --idle 10000 --clients 0
    python -m bench.sockets --url http://127.0.0.1:8000 --idle 8 --clients 50 --seconds 10   # demo user

It starts nothing: point it at a running daphne (``make run``'s command line, ``DEBUG=false``, the
abuse limits raised as ``bench/run.py`` raises them, ``WS_MAX_SOCKETS_PER_ADDRESS=0``).

1. **Idle sockets.** With ``--users`` (``[{userId, token}]`` from ``manage.py bench_users``) it
   opens ``--warmup`` sockets first, each as its own user, and reads the server's resident memory
   (``--pid``, else the process listening on the port, found with ``ss``): that baseline already
   holds the process's one-off costs (thread pools, the channel layer's connection, lazily built
   caches). Then ``--idle`` more sockets, one per further user, left idle; after ``--settle``
   seconds it reads the memory again and prints the growth per idle socket. Without ``--users``
   all sockets are the demo user's (``--user``, ``--password``), which ``WS_MAX_SOCKETS_PER_USER``
   caps (10 by default). Last, a sample of ``--probes`` idle sockets spread over the lot must each
   still answer ``system.heartbeat`` and ``users.info`` (a logged-in method) and receive a
   ``system.relayData`` push sent to their user: every idle socket is open, logged in and
   subscribed. ``--hold`` keeps them open that many seconds longer (to profile the server:
   bench/memtrace.py).
2. ``--clients`` sockets each send requests back to back for ``--seconds`` and it prints
   replies per second and latency p50/p95/p99, for ``system.heartbeat`` (no database) and
   ``users.info`` (one indexed query on the gateway's thread pool). ``--clients 0`` skips this.

Loopback only; every loop is bounded in count and time. It raises its own ``ulimit -n`` to the
hard limit it needs (the server needs one descriptor per socket too: raise its limit in the
shell that starts it).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import time
import urllib.request
from typing import Any

import websockets

CONNECT_BATCH = 200  # sockets opened at once (--batch), so the accept queue is not flooded
CONNECT_TIMEOUT = 60.0
PROBE_TIMEOUT = 10.0


def login(base: str, username: str, password: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.load(response)
        return result


def server_pid(port: int) -> int | None:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    if "pid=" not in out:
        return None
    return int(out.split("pid=")[1].split(",")[0])


def server_memory_kib(pid: int | None) -> dict[str, int]:
    """VmRSS and RssAnon (the heap, without the mapped code) of ``pid``, in KiB; {} when unknown."""
    if pid is None:
        return {}
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name = line.split(":", 1)[0]
                if name in ("VmRSS", "RssAnon"):
                    found[name] = int(line.split()[1])
    except OSError:
        return {}
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def open_idle(ws_urls: list[str], batch: int = CONNECT_BATCH) -> list[websockets.ClientConnection]:
    sockets: list[websockets.ClientConnection] = []
    for start in range(0, len(ws_urls), batch):
        opened = await asyncio.wait_for(asyncio.gather(*(
            websockets.connect(url, ping_interval=None, max_queue=4, compression=None,
                               open_timeout=CONNECT_TIMEOUT)
            for url in ws_urls[start:start + batch])), CONNECT_TIMEOUT + 5)
        sockets.extend(opened)
    return sockets


async def call(ws: websockets.ClientConnection, rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One request on an otherwise idle socket; pushes arriving meanwhile are skipped."""
    await ws.send(json.dumps({"id": rid, "method": method, "params": params}))
    async with asyncio.timeout(PROBE_TIMEOUT):
        for _ in range(100):
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame.get("id") == rid:
                return frame
    return {}


async def next_event(ws: websockets.ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(PROBE_TIMEOUT):
        for _ in range(100):
            frame: dict[str, Any] = json.loads(await ws.recv())
            if "event" in frame:
                return frame
    return {}


async def probe(sockets: list[websockets.ClientConnection], users: list[dict[str, Any]], count: int) -> str:
    """``count`` idle sockets spread over the lot answer a public and a logged-in method, and each
    receives a relay push from the next one: open, logged in, subscribed to its user's group."""
    if not sockets or count <= 0:
        return "no probe"
    step = max(1, len(sockets) // count)
    picked = list(range(0, len(sockets), step))[:count]
    answered = logged_in = pushed = 0
    for n, index in enumerate(picked):
        ws, user = sockets[index], users[index]
        try:
            if (await call(ws, 1, "system.heartbeat", {})).get("code") == 200:
                answered += 1
            reply = await call(ws, 2, "users.info", {"uIds": [user["userId"]]})
            if reply.get("code") == 200:
                logged_in += 1
            sender = sockets[picked[(n + 1) % len(picked)]]
            if sender is not ws:
                waiting = asyncio.ensure_future(next_event(ws))
                await call(sender, 3 + n, "system.relayData",
                           {"action": "bench.probe", "to": [user["userId"]], "data": {}})
                if (await waiting).get("event"):
                    pushed += 1
            else:
                pushed += 1
        except (TimeoutError, websockets.ConnectionClosed):
            pass
    ok = answered == logged_in == pushed == len(picked)
    return (f"{'all' if ok else 'NOT all'} of {len(picked)} sampled idle sockets answer "
            f"(heartbeat {answered}, users.info {logged_in}, relay push received {pushed})")


async def hammer(ws_urls: list[str], clients: int, seconds: float, method: str, params: dict[str, Any]) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def one(ws_url: str) -> None:
        nonlocal errors
        async with websockets.connect(ws_url, ping_interval=None) as ws:
            rid = 0
            while time.monotonic() < deadline:
                rid += 1
                started = time.perf_counter()
                await ws.send(json.dumps({"id": rid, "method": method, "params": params}))
                reply = json.loads(await ws.recv())
                latencies.append(time.perf_counter() - started)
                if reply.get("code") != 200:
                    errors += 1

    started = time.monotonic()
    await asyncio.gather(*(one(ws_urls[n % len(ws_urls)]) for n in range(clients)))
    elapsed = time.monotonic() - started
    ms = [v * 1000 for v in latencies]
    print(f"{method:18s} {clients} clients: {len(ms) / elapsed:8.0f} replies/s   "
          f"p50 {statistics.median(ms):6.2f} ms  p95 {percentile(ms, .95):6.2f} ms  "
          f"p99 {percentile(ms, .99):6.2f} ms   errors {errors}")


def memory_line(label: str, before: dict[str, int], after: dict[str, int], count: int) -> str:
    if not before or not after:
        return f"{label}: server memory unknown (pass --pid)"
    parts = [f"{label}: RSS {before['VmRSS'] / 1024:.1f} MiB -> {after['VmRSS'] / 1024:.1f} MiB "
             f"= {(after['VmRSS'] - before['VmRSS']) / max(1, count):.1f} KiB per socket"]
    if "RssAnon" in before and "RssAnon" in after:
        parts.append(f"(anonymous {(after['RssAnon'] - before['RssAnon']) / max(1, count):.1f} KiB)")
    return " ".join(parts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", default=None, help="[{userId, token}] from manage.py bench_users: a user per socket")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo1234"))
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100, help="sockets opened before the baseline (with --users)")
    parser.add_argument("--batch", type=int, default=CONNECT_BATCH, help="sockets opened at once")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before the memory is read")
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--hold", type=float, default=0.0, help="seconds the idle sockets stay open after")
    parser.add_argument("--signal", action="store_true",
                        help="send the server SIGUSR2 at the baseline and after the idle sockets "
                             "(bench/memtrace.py writes a tracemalloc snapshot each time)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pid", type=int, default=None, help="server pid for the memory figure")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("benchmarks target loopback addresses only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.idle + args.warmup + args.clients + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, needed)), hard))
    if needed > hard:
        print(f"warning: ulimit -n hard limit {hard} is below the {needed} descriptors needed")
    ws_base = args.url.replace("http://", "ws://") + "/ws/?token="
    port = int(args.url.rsplit(":", 1)[1].split("/")[0])
    pid = args.pid or server_pid(port)

    if args.users:
        with open(args.users) as f:
            users: list[dict[str, Any]] = json.load(f)
        if len(users) < args.idle + args.warmup:
            raise SystemExit(f"{args.users} holds {len(users)} users; --idle + --warmup need "
                             f"{args.idle + args.warmup} (manage.py bench_users --count ...)")
        warm_users, idle_users = users[:args.warmup], users[args.warmup:args.warmup + args.idle]
        hammer_users = warm_users or idle_users[:1]  # the clients spread over them (the per-user cap)
    else:
        auth = login(args.url, args.user, args.password)
        warm_users, idle_users = [], [auth] * args.idle
        hammer_users = [auth]
    print(f"server pid {pid}; {len(idle_users)} idle sockets"
          f"{f' as many users, after {len(warm_users)} warm-up sockets' if args.users else ' as one user'}")

    cold = server_memory_kib(pid)
    warm = await open_idle([ws_base + u["token"] for u in warm_users], args.batch)
    await asyncio.sleep(args.settle if warm else 0)
    before = server_memory_kib(pid)
    if args.signal and pid:
        os.kill(pid, signal.SIGUSR2)
        await asyncio.sleep(args.settle)
        before = server_memory_kib(pid)
    started = time.monotonic()
    idle = await open_idle([ws_base + u["token"] for u in idle_users], args.batch)
    opened = time.monotonic() - started
    await asyncio.sleep(args.settle)
    after = server_memory_kib(pid)
    print(f"idle sockets: {len(idle)} opened in {opened:.1f} s ({len(idle) / max(opened, 1e-9):.0f}/s)")
    print(memory_line("idle sockets", before, after, len(idle)))
    if warm:
        print(memory_line(f"from cold, all {len(idle) + len(warm)}", cold, after, len(idle) + len(warm)))
    if args.signal and pid:
        os.kill(pid, signal.SIGUSR2)
    print(await probe(idle, idle_users, args.probes))
    if args.hold > 0:
        await asyncio.sleep(args.hold)
    if args.clients > 0:
        ws_urls = [ws_base + u["token"] for u in hammer_users]
        await hammer(ws_urls, args.clients, args.seconds, "system.heartbeat", {})
        await hammer(ws_urls, args.clients, args.seconds, "users.info", {"uIds": [hammer_users[0]["userId"]]})
    await asyncio.gather(*(s.close() for s in idle + warm), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
