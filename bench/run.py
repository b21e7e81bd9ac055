"""The benchmark run behind ``make bench``: starts a server, measures it open loop, prints one table.

    make bench                                  # embedded: SQLite, in-memory channel layer
    DATABASE_URL=postgres://... REDIS_URL=redis://... make bench
    make bench BENCH_ARGS=--smoke               # a few seconds (CI)
    python -m bench.run --help

It starts its own daphne process (the command line of ``make run``, ``DEBUG=false``, the abuse
limits raised) on a free loopback port, with a fresh SQLite file under ``var/bench/`` or the
``DATABASE_URL``/``REDIS_URL`` given, migrates, creates the users in bulk (no password hashing)
and runs, in order:

1. **relay**: a bare asyncio WebSocket relay (bench/relay.py, no database, no checks) measured by
   the same one-to-one client, at the rates of ``--rates`` and two doublings past them: the
   reference for the "x relay" column (its best delivered/s).
2. **one-to-one step test**: ``--pairs`` senders, each to its own receiver, open loop at each
   rate of ``--rates`` for ``--step-seconds``. "Sustained" is the highest rate whose end-to-end
   p99 is within ``--target-ms`` with nothing lost or duplicated. The ladder stops after the
   first saturated step (delivered below 90% of the offer, or p99 over ten times the target).
3. **group fan-out**: one group of ``--group`` online members, ``--senders`` of them sending
   open loop at each rate of ``--group-rates`` (messages/s; deliveries = rate x (members - 1)).
4. **red-packet burst**: ``--grabbers`` online members of one group grab one lucky packet of
   ``--shares`` shares all at once; then ``--packets`` packets in as many groups at once.
   Checks that exactly the shares were paid and sum to the amount, then ``manage.py ledger_check``.
5. **overload**: three times the sustained rate for ``--overload-seconds``; the replies counted
   by code and the requests unanswered within ``--reply-timeout``; then a low-rate step to see
   whether the server recovers.

Latency is measured from each frame's scheduled send time. "lost": requests never answered plus
pushes never received, by the time everything came or the server went idle (bounded by
``--settle``). "server CPU ms/msg": the daphne process's user + system CPU during the step
(PostgreSQL's and Redis's own CPU not included) over the requests sent. Exit status: 0 when the
run completed, whatever the figures; 1 on a crash, a server that died, or a ledger that does not
balance. Every wait is bounded; the whole run is cut at ``--timeout`` seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from bench.messages import pct
from bench.openloop import Conn, CpuMeter, Step, close, codes, connect, ms, p50_p99, run_step

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PY = sys.executable
# The abuse limits a benchmark must not hit (docs/deploy.md#benchmarks); the environment wins.
LIMITS = {
    "WS_RATE_PER_SECOND": "100000", "WS_RATE_BURST": "100000",
    "WS_USER_RATE_PER_SECOND": "100000", "WS_USER_RATE_BURST": "100000",
    "MESSAGES_PER_MINUTE": "1000000", "RELAY_RECIPIENTS_PER_MINUTE": "1000000",
    "GROUP_CREATE_PER_HOUR": "100000", "GROUP_INVITES_PER_HOUR": "1000000",
    "WS_MAX_SOCKETS_PER_ADDRESS": "0",
}
SETUP_TIMEOUT = 300.0
GRAB_TIMEOUT = 60.0  # a grab unanswered by then counts as lost
GRAB_RETRIES = 50  # a grab answered 503 "server busy, retry" is tried again, as clients do
STOP_TIMEOUT = 10.0


@dataclass
class Row:
    name: str
    offered: str
    delivered: float | None  # per second
    reply: str
    e2e: str
    lost: int
    dup: int | None
    cpu_ms: float | None
    note: str


class Interrupted(Exception):
    pass


def interrupt(signum: int, _frame: object) -> NoReturn:
    raise Interrupted(f"stopped by signal {signum}")


# --- processes -----------------------------------------------------------------------------

def free_port(ports: range, taken: set[int]) -> int:
    for port in ports:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def daphne_timeouts() -> list[str]:
    """``DAPHNE_TIMEOUTS`` from make, else the Makefile's own value: the command line of ``make run``."""
    value = os.environ.get("DAPHNE_TIMEOUTS")
    if value is None:
        text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
        found = re.search(r"^DAPHNE_TIMEOUTS \?= (.*)$", text, re.MULTILINE)
        value = found.group(1) if found else ""
    return shlex.split(value)


def server_command(server: str, port: int) -> list[str]:
    """The command line of the ASGI server measured: daphne as ``make run`` serves, or uvicorn."""
    if server == "uvicorn":
        return [str(Path(PY).parent / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--ws", "websockets",
                "--http", "httptools", "--loop", "asyncio", "--no-access-log", "config.asgi:application"]
    return [str(Path(PY).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), *daphne_timeouts(),
            "config.asgi:application"]


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=SETUP_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


Proc = subprocess.Popen[bytes]


def start(cmd: list[str], env: dict[str, str], log: Path, procs: list[Proc]) -> Proc:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL after ``STOP_TIMEOUT``."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def wait_ready(proc: subprocess.Popen[bytes], url: str | None, port: int, log: Path, seconds: float) -> None:
    """Until ``url`` answers 200 (or the port accepts connections, without a url)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if url:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{proc.args!r} not ready after {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def server_env(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the server's own settings, never the test settings
    env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50))
    env.setdefault("DEPLOYMENT_NAME", f"bench-{secrets.token_hex(3)}")
    for name, value in LIMITS.items():
        env.setdefault(name, value)
    if env.get("DATABASE_URL"):
        layout = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    else:
        db = VAR / "bench.sqlite3"
        for old in VAR.glob("bench.sqlite3*"):
            old.unlink()
        env["DATABASE_URL"] = f"sqlite:///{db}"
        layout = "embedded SQLite"
    layout += " + Redis" if env.get("REDIS_URL") else ", in-memory channel layer"
    return env, layout


# --- scenarios -----------------------------------------------------------------------------

def message_row(name: str, rate: float, step: Step, cpu: float, seconds: float, client: float, target_ms: float) -> Row:
    delivered = sum(step.pushed.values())
    elapsed = max(seconds, step.last_arrival - step.start)
    sent = len(step.sent)
    others = {code: n for code, n in sorted(codes(step).items()) if code != 200}
    notes = []
    if others:
        notes.append("codes " + ", ".join(f"{c}: {n}" for c, n in others.items()))
    lag = pct(step.send_lag, .99) if step.send_lag else 0.0
    if lag > 0.02:
        notes.append(f"client sent late (p99 {ms(lag)} ms)")
    if client > 0.8:
        notes.append(f"client CPU {client:.0%}")
    within = bool(step.e2e) and pct(step.e2e, .99) <= target_ms / 1000
    notes.insert(0, f"p99 ≤ {target_ms:.0f} ms" if within and not step.lost() and not step.duplicates
                 else f"over {target_ms:.0f} ms target or lost" if step.e2e else "nothing delivered")
    return Row(name, f"{rate:g}", delivered / elapsed, p50_p99([lat for _, lat in step.replies.values()]),
               p50_p99(step.e2e), step.lost(), step.duplicates, cpu * 1000 / max(1, sent), "; ".join(notes))


def met(step: Step, target_ms: float) -> bool:
    return (bool(step.e2e) and pct(step.e2e, .99) <= target_ms / 1000 and step.lost() == 0
            and step.duplicates == 0 and set(codes(step)) == {200})


def saturated(step: Step, rate: float, seconds: float, target_ms: float) -> bool:
    delivered = sum(step.pushed.values()) / max(1, step.fanout)
    return delivered < 0.9 * rate * seconds or not step.e2e or pct(step.e2e, .99) > 10 * target_ms / 1000


async def ladder(name: str, ws_base: str, users: list[dict[str, Any]], args: argparse.Namespace, cpu: CpuMeter,
                 rows: list[Row], ladder_rates: list[float]) -> tuple[float, float]:
    """The one-to-one step test; returns (sustained rate, best delivered/s)."""
    conns = await connect(ws_base, users[: 2 * args.pairs])
    senders = [(conns[i], {"to": conns[args.pairs + i].user_id}) for i in range(args.pairs)]
    sustained = best = 0.0
    try:
        for rate in ladder_rates:
            step, used, client = await timed_step(senders, conns[args.pairs:], 1, rate, args.step_seconds, args, cpu)
            row = message_row(f"{name}, {args.pairs} pairs", rate, step, used, args.step_seconds, client,
                              args.target_ms)
            rows.append(row)
            print_row(row)
            best = max(best, row.delivered or 0.0)
            if met(step, args.target_ms):
                sustained = rate
            if saturated(step, rate, args.step_seconds, args.target_ms):
                break
    finally:
        await close(conns)
    return sustained, best


async def timed_step(senders: list[tuple[Conn, dict[str, Any]]], receivers: list[Conn], fanout: int, rate: float,
                     seconds: float, args: argparse.Namespace, cpu: CpuMeter,
                     settle: float | None = None) -> tuple[Step, float, float]:
    """run_step, plus the benchmark client's own CPU share over the step."""
    client_before, wall_before = time.process_time(), time.monotonic()
    step, used = await run_step(senders, receivers, fanout, rate, seconds, settle or args.settle, cpu)
    client = (time.process_time() - client_before) / max(1e-6, time.monotonic() - wall_before)
    return step, used, client


async def fanout(ws_base: str, users: list[dict[str, Any]], args: argparse.Namespace, cpu: CpuMeter,
                 rows: list[Row]) -> None:
    conns = await connect(ws_base, users[: args.group])
    try:
        made = await conns[0].call("chats.create", {"title": "bench", "uIds": [c.user_id for c in conns[1:]]},
                                   SETUP_TIMEOUT)
        if made.get("code") != 200:
            raise RuntimeError(f"chats.create failed: {made}")
        await asyncio.sleep(0.5)
        target = {"chatId": made["data"]["chatId"]}
        senders = [(c, target) for c in conns[: args.senders]]
        for rate in args.group_rates:
            step, used, client = await timed_step(senders, conns, args.group - 1, rate, args.step_seconds, args, cpu)
            row = message_row(f"group of {args.group}, {args.senders} senders", rate, step, used,
                              args.step_seconds, client, args.group_target_ms)
            row.offered = f"{rate:g} ({rate * (args.group - 1):g} deliveries)"
            rows.append(row)
            print_row(row)
            if saturated(step, rate, args.step_seconds, args.group_target_ms):
                break
    finally:
        await close(conns)


async def grab_round(name: str, ws_base: str, users: dict[int, dict[str, Any]], setup: dict[str, Any], shares: int,
                     args: argparse.Namespace, cpu: CpuMeter) -> tuple[Row, bool]:
    """Every group's sender makes one lucky packet of ``shares``; then every member of every
    group grabs their group's packet, all at once. Returns the row and whether the money is right."""
    groups = setup["groups"]
    amount = Decimal(shares)
    everyone = [users[g["senderId"]] for g in groups] + [users[m] for g in groups for m in g["memberIds"]]
    conns = await connect(ws_base, everyone)
    by_id = {c.user_id: c for c in conns}
    loop = asyncio.get_running_loop()
    try:
        made = await asyncio.gather(*(by_id[g["senderId"]].call("redpacket.create", {
            "chatId": g["chatId"], "type": 2, "title": "bench", "count": shares, "total_price": str(amount),
            "password": setup["password"]}, SETUP_TIMEOUT) for g in groups))  # each checks a password hash
        if any(m.get("code") != 200 for m in made):
            raise RuntimeError(f"redpacket.create failed: {[m for m in made if m.get('code') != 200][:3]}")
        await asyncio.sleep(0.5)  # the 2/100 pushes reach everyone first

        retried = Counter[int]()

        async def grab(member: int, packet: int) -> tuple[dict[str, Any], float]:
            # As a client does: "server busy, retry" (503) is retried after a short back-off.
            for attempt in range(GRAB_RETRIES + 1):
                left = GRAB_TIMEOUT - (loop.time() - started)
                reply = await by_id[member].call("redpacket.get", {"redPacketId": packet}, max(0.1, left))
                if reply.get("code") != 503 or attempt == GRAB_RETRIES or left < 1:
                    break
                retried[503] += 1
                await asyncio.sleep(0.1 + 0.2 * random.random())
            return reply, loop.time() - started

        jobs = [(m, made[i]["data"]["redPacketId"], i) for i, g in enumerate(groups) for m in g["memberIds"]]
        cpu_before, client_before = cpu.seconds(), time.process_time()
        started = loop.time()
        results = await asyncio.gather(*(grab(m, p) for m, p, _ in jobs))
        elapsed = loop.time() - started
        used, client = cpu.seconds() - cpu_before, (time.process_time() - client_before) / max(1e-6, elapsed)
    finally:
        await close(conns)
    paid: list[dict[int, Decimal]] = [{} for _ in groups]
    for (_, _, i), (reply, _) in zip(jobs, results, strict=True):
        if reply.get("code") == 200:
            for got in reply["data"]["users"]:  # everyone who got a share so far
                paid[i][got["userId"]] = Decimal(str(got["price"]))
    count = Counter(reply.get("code", 0) for reply, _ in results)
    right = all(len(p) == min(shares, len(g["memberIds"])) and (sum(p.values()) == amount or len(p) < shares)
                for p, g in zip(paid, groups, strict=True))
    overpaid = any(len(p) > shares or sum(p.values()) > amount for p in paid)
    latencies = [lat for reply, lat in results if reply.get("code")]
    notes = [f"{len(jobs) / max(1e-6, elapsed):,.0f} attempts/s",
             f"paid {sum(len(p) for p in paid)} of {shares * len(groups)} shares",
             "sums exact" if right else "SHARES WRONG"]
    notes += [f"{code}: {n}" for code, n in sorted(count.items()) if code not in (200, 0)]
    if retried:
        notes.append(f"{retried[503]} retries after 503 busy")
    if client > 0.8:
        notes.append(f"client CPU {client:.0%}")
    row = Row(name, f"{len(jobs)} at once", count[200] / max(1e-6, elapsed), p50_p99(latencies), "-", count[0],
              None, used * 1000 / max(1, len(jobs)), "; ".join(notes))
    return row, not overpaid


async def red_packets(ws_base: str, env: dict[str, str], users: list[dict[str, Any]], setups: list[dict[str, Any]],
                      args: argparse.Namespace, cpu: CpuMeter, rows: list[Row]) -> bool:
    by_id = {u["userId"]: u for u in users}
    ok = True
    for setup, shares in zip(setups, (args.shares, args.packet_shares), strict=True):
        groups = setup["groups"]
        name = (f"red packet: {len(groups[0]['memberIds'])} grab one of {shares} shares" if len(groups) == 1 else
                f"red packets: {len(groups)} groups of {len(groups[0]['memberIds'])}, {shares} shares each")
        row, right = await grab_round(name, ws_base, by_id, setup, shares, args, cpu)
        ok = ok and right
        rows.append(row)
        print_row(row)
    checked = subprocess.run([PY, "manage.py", "ledger_check"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=SETUP_TIMEOUT, check=False)
    verdict = "ledger_check ok" if checked.returncode == 0 else "LEDGER_CHECK FAILED"
    if checked.returncode != 0:
        print(checked.stdout + checked.stderr, file=sys.stderr)
    for row in rows[-2:]:
        row.note += f"; {verdict}"
    return ok and checked.returncode == 0


async def overload(ws_base: str, users: list[dict[str, Any]], rate: float, basis: str, args: argparse.Namespace,
                   cpu: CpuMeter, rows: list[Row]) -> None:
    conns = await connect(ws_base, users[: 2 * args.pairs])
    senders = [(conns[i], {"to": conns[args.pairs + i].user_id}) for i in range(args.pairs)]
    try:
        step, used, client = await timed_step(senders, conns[args.pairs:], 1, rate, args.overload_seconds, args, cpu,
                                              settle=2 * args.settle)
        in_time = [lat for code, lat in step.replies.values() if code == 200 and lat <= args.reply_timeout]
        late = sum(1 for _, lat in step.replies.values() if lat > args.reply_timeout)
        count = Counter(code for code, lat in step.replies.values() if lat <= args.reply_timeout)
        timeouts = len(step.sent) - len(step.replies) + late
        counts = ", ".join(f"{c}: {count[c]}" for c in (200, 429, 503)) + f", timeouts: {timeouts}"
        counts += "".join(f", {c}: {n}" for c, n in sorted(count.items()) if c not in (200, 429, 503))
        row = Row(f"overload, {basis}, {args.pairs} pairs", f"{rate:.0f}", sum(step.pushed.values())
                  / max(args.overload_seconds, step.last_arrival - step.start), p50_p99(in_time), p50_p99(step.e2e),
                  step.lost(), step.duplicates, used * 1000 / max(1, len(step.sent)),
                  f"{counts}; accepted p99 {'≤' if in_time and pct(in_time, .99) <= 1 else '>'} 1 s"
                  + (f"; client CPU {client:.0%}" if client > 0.8 else ""))
        rows.append(row)
        print_row(row)
        low = args.rates[0]
        step, used, client = await timed_step(senders, conns[args.pairs:], 1, low, args.step_seconds, args, cpu)
        row = message_row("after overload", low, step, used, args.step_seconds, client, args.target_ms)
        row.note = ("recovered: " if met(step, args.target_ms) else "NOT recovered: ") + row.note
        rows.append(row)
        print_row(row)
    finally:
        await close(conns)


# --- output --------------------------------------------------------------------------------

HEADER = ("run", "offered/s", "delivered/s", "reply p50 / p99 ms", "end-to-end p50 / p99 ms", "lost", "dup",
          "server CPU ms/msg", "x relay", "note")


def cells(row: Row, relay: float | None) -> list[str]:
    ratio = "-"
    if relay and row.delivered is not None:
        ratio = f"{row.delivered / relay:.2f}" if row.delivered >= 0.1 * relay else f"{row.delivered / relay:.3f}"
    return [row.name, row.offered, "-" if row.delivered is None else f"{row.delivered:,.0f}", row.reply, row.e2e,
            str(row.lost), "-" if row.dup is None else str(row.dup),
            "-" if row.cpu_ms is None else f"{row.cpu_ms:.2f}", ratio, row.note]


def print_row(row: Row) -> None:
    print("  " + " | ".join([*cells(row, None)[:-2], row.note]), flush=True)


def table(rows: list[Row], relay: float | None) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(row, relay)) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores{', ' + model if model else ''}; Python {platform.python_version()}; load {load}"


# --- the run -------------------------------------------------------------------------------

async def run(args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    env, layout = server_env(args)
    print(f"bench: {layout}; {machine()}; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    manage(env, "migrate", "--noinput", "-v0")
    needed = max(2 * args.pairs, args.group, args.grabbers + 1, args.packets * (args.packet_grabbers + 1))
    users = json.loads(manage(env, "bench_users", "--count", str(needed)))
    users_file = VAR / "users.json"
    users_file.write_text(json.dumps(users))
    setups, password = [], secrets.token_hex(8)  # the two setups share senders
    for name, count, groups in (("one", args.grabbers + 1, 1), ("many", args.packets * (args.packet_grabbers + 1),
                                                                 args.packets)):
        part = VAR / f"redpacket-{name}.json"
        part.write_text(json.dumps(users[:count]))
        setups.append(json.loads(manage(env, "bench_redpacket", "--users", str(part), "--groups", str(groups),
                                        "--password", password)))

    taken: set[int] = set()
    rows: list[Row] = []
    port = free_port(args.ports, taken)
    relay_port = free_port(args.ports, taken)

    relay_best = 0.0
    if "relay" in args.parts:
        relay_best = await measure_relay(args, env, users_file, users, relay_port, rows, procs)

    log = VAR / "server.log"
    server = start(server_command(args.server, port), env, log, procs)
    wait_ready(server, f"http://127.0.0.1:{port}/healthz", port, log, 90)
    profiler = profile(args.profile, server.pid, procs) if args.profile else None
    ws_base, cpu = f"ws://127.0.0.1:{port}", CpuMeter(server.pid)
    sustained = best = 0.0
    if "one" in args.parts:
        sustained, best = await ladder("one-to-one", ws_base, users, args, cpu, rows, args.rates)
        print(f"  sustained one-to-one: {sustained:g} msg/s (best delivered {best:,.0f}/s)", flush=True)
    failed = False
    if "group" in args.parts:
        failed |= not await guard("group fan-out", fanout(ws_base, users, args, cpu, rows), rows)
    money_right = True
    if "packets" in args.parts:
        money_right = await guard("red packets", red_packets(ws_base, env, users, setups, args, cpu, rows), rows)
    if "overload" in args.parts:
        basis = "3 x sustained" if sustained else "3 x best delivered (none sustained)"
        failed |= not await guard("overload", overload(ws_base, users, 3 * (sustained or max(best, args.rates[0])),
                                                       basis, args, cpu, rows), rows)
    if server.poll() is not None:
        raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
    batches = health(port).get("batches")
    if batches:
        print(f"  batches: {json.dumps(batches)}", flush=True)
    if profiler is not None:
        stop_profile(profiler, args.profile)
    stop(server)

    print(f"\n{layout}; {machine()}; sustained one-to-one {sustained:g} msg/s; relay best {relay_best:,.0f}/s\n")
    print(table(rows, relay_best or None), flush=True)
    if not money_right:
        print("bench: red packets failed, or their shares or the ledger are WRONG (see above)", file=sys.stderr)
    return 0 if money_right and not failed else 1


async def measure_relay(args: argparse.Namespace, env: dict[str, str], users_file: Path, users: list[dict[str, Any]],
                        relay_port: int, rows: list[Row], procs: list[Proc]) -> float:
    """The bare relay's best delivered/s, by the same one-to-one client."""
    relay_log = VAR / "relay.log"
    relay = start([PY, "-m", "bench.relay", "--port", str(relay_port), "--users", str(users_file)], env, relay_log,
                  procs)
    wait_ready(relay, None, relay_port, relay_log, 30)
    # The relay climbs two doublings past the ladder, to find its own limit (or the client's).
    relay_rates = [*args.rates, 2 * args.rates[-1], 4 * args.rates[-1]]
    _, relay_best = await ladder("relay", f"ws://127.0.0.1:{relay_port}", users, args, CpuMeter(relay.pid), rows,
                                 relay_rates)
    stop(relay)
    return relay_best


def health(port: int) -> dict[str, Any]:
    """The server's /healthz report ({} when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))
    except (OSError, ValueError):
        return {}


def profile(path: str, pid: int, procs: list[Proc]) -> Proc:
    """py-spy records the server (every thread, idle ones left out) until stop_profile;
    ``BENCH_PYSPY_ARGS`` adds py-spy options (``--gil``: only the thread holding the GIL)."""
    spy = str(Path(PY).parent / "py-spy")
    return start([spy, "record", "--pid", str(pid), "--threads", "--rate", "200", "--format", "raw",
                  "--output", path, "--nonblocking", *shlex.split(os.environ.get("BENCH_PYSPY_ARGS", ""))],
                 dict(os.environ), VAR / "py-spy.log", procs)


def stop_profile(proc: Proc, path: str) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        stop(proc)
    print(f"bench: profile of the server in {path} (py-spy raw; {VAR / 'py-spy.log'})", flush=True)


async def guard(name: str, part: Awaitable[Any], rows: list[Row]) -> bool:
    """Run one part; a crash becomes a FAILED row (the run goes on, and exits 1). True if it
    ran and did not return False."""
    try:
        return await part is not False
    except Exception as exc:
        traceback.print_exc()
        row = Row(name, "-", None, "-", "-", 0, None, None, f"FAILED: {type(exc).__name__}: {str(exc)[:200]}")
        rows.append(row)
        print_row(row)
        return False


def rates(text: str) -> list[float]:
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or any(v <= 0 or v > 100_000 for v in values):
        raise argparse.ArgumentTypeError("rates are positive numbers up to 100000, comma-separated")
    return values


PARTS = ("relay", "one", "group", "packets", "overload")


def parts(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = set(chosen) - set(PARTS)
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"parts are some of {', '.join(PARTS)}")
    return chosen


def ports(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


SMOKE = {"pairs": 4, "rates": [20.0, 40.0], "step_seconds": 1.0, "group": 12, "senders": 2, "group_rates": [4.0],
         "grabbers": 12, "shares": 5, "packets": 3, "packet_grabbers": 4, "packet_shares": 2,
         "overload_seconds": 1.0, "settle": 5.0, "timeout": 240.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne", help="the ASGI server measured")
    parser.add_argument("--smoke", action="store_true", help="a few seconds of each part, to see that it all runs")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--rates", type=rates, default=rates("100,200,400,800,1200,1600,2400,3200"),
                        help="one-to-one offered rates, messages/s")
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--target-ms", type=float, default=100.0, help="one-to-one end-to-end p99 target")
    parser.add_argument("--group", type=int, default=500, help="members of the fan-out group")
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--group-rates", type=rates, default=rates("10,20,40"), help="group messages/s")
    parser.add_argument("--group-target-ms", type=float, default=250.0)
    parser.add_argument("--grabbers", type=int, default=300)
    parser.add_argument("--shares", type=int, default=100)
    parser.add_argument("--packets", type=int, default=20, help="packets grabbed at once, one per group")
    parser.add_argument("--packet-grabbers", type=int, default=15, help="members of each of those groups")
    parser.add_argument("--packet-shares", type=int, default=10)
    parser.add_argument("--overload-seconds", type=float, default=5.0)
    parser.add_argument("--reply-timeout", type=float, default=5.0, help="a reply later than this is a timeout")
    parser.add_argument("--settle", type=float, default=30.0, help="most seconds to wait for a step's stragglers")
    parser.add_argument("--ports", type=ports, default=ports("18200-18299"), help="loopback ports to use")
    parser.add_argument("--parts", type=parts, default=PARTS,
                        help=f"the parts to run, comma-separated (default all: {','.join(PARTS)})")
    parser.add_argument("--profile", metavar="FILE",
                        help="record the server with py-spy (raw collapsed stacks) while the parts run")
    parser.add_argument("--timeout", type=float, default=1800.0, help="the whole run, seconds")
    args = parser.parse_args()
    if args.smoke:
        given = {a.lstrip("-").replace("-", "_") for a in sys.argv[1:] if a.startswith("--")}
        for name, value in SMOKE.items():
            if name not in given:
                setattr(args, name, value)
    for name in ("pairs", "group", "senders", "grabbers", "shares", "packets", "packet_grabbers", "packet_shares"):
        if not 1 <= getattr(args, name) <= 5000:
            parser.error(f"--{name.replace('_', '-')} must be 1 to 5000")
    if args.group < 2 or args.senders > args.group:
        parser.error("--group needs at least 2 members and no more senders than members")

    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 16384)), hard))
    procs: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(int(args.timeout))
    status = 1
    try:
        status = asyncio.run(run(args, procs))
    except (Interrupted, KeyboardInterrupt) as exc:
        print(f"bench: interrupted ({exc or 'Ctrl-C'}); stopping", file=sys.stderr)
    finally:
        signal.alarm(0)
        for proc in procs:
            stop(proc)
    sys.exit(status)


if __name__ == "__main__":
    main()
