"""A real daphne process drops clients that never finish their request: half the headers, or a
WebSocket upgrade whose request never completes (HTTP_HEADERS_TIMEOUT, core/gateway/transport.py).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.e2e.test_live_server import ROOT, _database_url, _free_port

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS_TIMEOUT = 2


def _port() -> int:
    """A free port; within ``TEST_LIVE_PORTS`` ("18300-18399") when that is set."""
    span = os.environ.get("TEST_LIVE_PORTS", "")
    if not span:
        return _free_port()
    low, high = (int(part) for part in span.split("-"))
    for port in range(low, high + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {span}")


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    port = _port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "EMBEDDED_BEAT": "false", "CHANNEL_LAYER_PREFIX": f"e2e{port}",
           "HTTP_HEADERS_TIMEOUT": str(HEADERS_TIMEOUT)}
    if settings.REDIS_URL:
        env["CACHE_REDIS_URL"] = settings.CACHE_REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"server did not start:\n{output}") from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _dropped_after(address: tuple[str, int], data: bytes, limit: float = HEADERS_TIMEOUT + 6) -> tuple[float, bytes]:
    """Send ``data`` and wait (at most ``limit`` seconds) for the server to close; return how
    long that took and what it answered."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=limit) as conn:
        conn.sendall(data)
        received = b""
        while True:
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                pytest.fail(f"still connected after {limit} s; received {received!r}")
            if not chunk:
                return time.monotonic() - started, received
            received += chunk


UPGRADE = (b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


def test_half_the_headers_is_dropped_within_the_timeout(server: tuple[str, int]) -> None:
    took, answer = _dropped_after(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n")
    assert HEADERS_TIMEOUT - 0.5 <= took <= HEADERS_TIMEOUT + 3
    assert answer.startswith(b"HTTP/1.1 408")


def test_trickled_headers_do_not_extend_the_deadline(server: tuple[str, int]) -> None:
    started = time.monotonic()
    with socket.create_connection(server, timeout=HEADERS_TIMEOUT + 6) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        answer = b""
        for index in range(20):  # a header line every half second, never the blank line
            try:
                conn.sendall(f"X-Slow-{index}: 1\r\n".encode())
            except OSError:
                break
            conn.settimeout(0.5)
            try:
                answer = conn.recv(4096)
            except TimeoutError:
                continue
            break
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started <= HEADERS_TIMEOUT + 3


def test_an_upgrade_that_never_completes_is_dropped(server: tuple[str, int]) -> None:
    # The upgrade's headers without the blank line that ends them ...
    took, answer = _dropped_after(server, UPGRADE)
    assert took <= HEADERS_TIMEOUT + 3 and answer.startswith(b"HTTP/1.1 408")
    # ... and a complete upgrade head announcing a body that never comes.
    took, answer = _dropped_after(server, UPGRADE + b"Content-Length: 10\r\n\r\n")
    assert took <= HEADERS_TIMEOUT + 3 and answer.startswith(b"HTTP/1.1 408")


def test_a_prompt_upgrade_still_opens_a_socket(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as conn:
        conn.sendall(UPGRADE + b"\r\n")
        head = conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        time.sleep(HEADERS_TIMEOUT + 1)  # open past the request deadline: the socket stays
        conn.sendall(bytes([0x89, 0x80, 1, 2, 3, 4]))  # a masked ping
        pong = conn.recv(16)
        assert pong[:1] == bytes([0x8A])
