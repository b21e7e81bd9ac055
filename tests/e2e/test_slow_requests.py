"""A real daphne process drops clients that never finish their request: half the headers, or a
WebSocket upgrade whose request never completes (HTTP_HEADERS_TIMEOUT, core/gateway/transport.py).
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.server import daphne

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS_TIMEOUT = 2


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    with daphne(env={"HTTP_HEADERS_TIMEOUT": str(HEADERS_TIMEOUT)}) as port:
        yield "127.0.0.1", port


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
