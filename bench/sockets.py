"""Gateway benchmark against a running server: idle sockets and request/reply rate.

    python -m bench.sockets --url http://127.0.0.1:8000 --idle 10000 --clients 50 --seconds 10

1. Logs in the demo user alice and opens ``--idle`` authenticated sockets that stay idle,
   then prints the server's resident memory (``--pid``, else found by the listening port)
   per socket.
2. ``--clients`` sockets each send requests back to back for ``--seconds`` and it prints
   replies per second and latency p50/p95/p99, for ``system.heartbeat`` (no database) and
   ``users.info`` (one indexed query on the gateway's thread pool).

Loopback only; every loop is bounded in count and time. Raise ``ulimit -n`` for large
``--idle`` values (the script tries to itself).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import time
import urllib.request

import websockets


def login(base: str, username: str, password: str) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def server_rss_kib(pid: int | None, port: int) -> int | None:
    if pid is None:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
        if "pid=" not in out:
            return None
        pid = int(out.split("pid=")[1].split(",")[0])
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def open_idle(ws_url: str, count: int) -> list[websockets.ClientConnection]:
    sockets: list[websockets.ClientConnection] = []
    for start in range(0, count, 200):  # in batches, so the accept queue is not flooded
        batch = await asyncio.gather(*(websockets.connect(ws_url, ping_interval=None, max_queue=4)
                                       for _ in range(min(200, count - start))))
        sockets.extend(batch)
    return sockets


async def hammer(ws_url: str, clients: int, seconds: float, method: str, params: dict) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def one() -> None:
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
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.monotonic() - started
    ms = [v * 1000 for v in latencies]
    print(f"{method:18s} {clients} clients: {len(ms) / elapsed:8.0f} replies/s   "
          f"p50 {statistics.median(ms):6.2f} ms  p95 {percentile(ms, .95):6.2f} ms  "
          f"p99 {percentile(ms, .99):6.2f} ms   errors {errors}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo1234"))
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pid", type=int, default=None, help="server pid for the memory figure")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("benchmarks target loopback addresses only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + args.clients + 1000)), hard))

    auth = login(args.url, args.user, args.password)
    ws_url = args.url.replace("http://", "ws://") + f"/ws/?token={auth['token']}"
    port = int(args.url.rsplit(":", 1)[1].split("/")[0])

    before = server_rss_kib(args.pid, port)
    started = time.monotonic()
    idle = await open_idle(ws_url, args.idle)
    opened = time.monotonic() - started
    await asyncio.sleep(2)
    after = server_rss_kib(args.pid, port)
    print(f"idle sockets: {len(idle)} opened in {opened:.1f} s ({len(idle) / opened:.0f}/s)")
    if before and after:
        print(f"server RSS: {before / 1024:.0f} MiB -> {after / 1024:.0f} MiB "
              f"= {(after - before) / max(1, len(idle)):.1f} KiB per idle socket")
    await hammer(ws_url, args.clients, args.seconds, "system.heartbeat", {})
    await hammer(ws_url, args.clients, args.seconds, "users.info", {"uIds": [auth["userId"]]})
    probe = idle[len(idle) // 2] if idle else None
    if probe is not None:  # the idle sockets are still alive and answer
        await probe.send(json.dumps({"id": 1, "method": "system.heartbeat"}))
        print(f"an idle socket still answers: {json.loads(await probe.recv())['code'] == 200}")
    await asyncio.gather(*(s.close() for s in idle))


if __name__ == "__main__":
    asyncio.run(main())
