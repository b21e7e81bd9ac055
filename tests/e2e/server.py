"""One way to start a real daphne process for end-to-end tests: ``make run``'s server pointed
at the test database, on a free loopback port, stopped when the block ends."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port_in(ports: range) -> int:
    """The first port of ``ports`` free on the loopback address."""
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def free_port() -> int:
    """A free port; within ``TEST_LIVE_PORTS`` (e.g. "18300-18399") when that is set, so suites
    running side by side do not race for the same one."""
    span = os.environ.get("TEST_LIVE_PORTS", "")
    if not span:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low, high = (int(part) for part in span.split("-"))
    return free_port_in(range(low, high + 1))


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextlib.contextmanager
def daphne(*args: str, env: dict[str, str] | None = None, output: int | None = subprocess.PIPE,
           started: list[subprocess.Popen[bytes]] | None = None) -> Iterator[int]:
    """Run daphne (extra command-line ``args``, extra ``env``) until it answers ``/healthz``
    (any HTTP status: a health check may fail while the server serves); yield its port. The
    process is appended to ``started`` (a test that kills it)."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base",
                   "EMBEDDED_BEAT": "false", "CHANNEL_LAYER_PREFIX": f"e2e{port}",
                   "GATEWAY_QUEUE_BUDGET_MS": "0"}  # a loaded test machine must not see 503 "busy"
    if settings.REDIS_URL:
        # The test cache database, flushed before every test: throttle counters (e.g. the
        # per-address registration limit) must not pile up across runs.
        environment["CACHE_REDIS_URL"] = settings.CACHE_REDIS_URL
    else:
        environment.pop("REDIS_URL", None)
    environment.update(env or {})  # the caller's word is last (e.g. a Redis of its own)
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *args, "config.asgi:application"],
        cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
    )
    if started is not None:
        started.append(proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"server did not start:\n{text}") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError("the server did not stop within 10 s of SIGTERM") from None
