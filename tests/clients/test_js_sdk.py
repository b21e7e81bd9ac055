"""The JavaScript SDK (``clients/js``) against a real server.

A real daphne (``tests/e2e/server.py``) serves the test database; the SDK's own tests run in
Node.js (``node --test clients/js/test/*.test.mjs``) with the server's URL in ``IM_SERVER_URL``.
They register their users over REST and cover login, calls and errors, pushes, the outbox
across a cut network, gap repair by ``messages.sync``, reconnection and the type generator.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, daphne

JS = ROOT / "clients" / "js"
NODE = shutil.which("node")


def _node_version() -> tuple[int, int]:
    if NODE is None:
        return (0, 0)
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=10).stdout
    try:
        major, minor = version.strip().lstrip("v").split(".")[:2]
        return (int(major), int(minor))
    except ValueError:
        return (0, 0)


def _node_flags() -> list[str]:
    """Skip unless Node.js is 20 or later; the flags it needs: WebSocket is behind one in Node
    20 (a default from 22 on)."""
    version = _node_version()
    if version < (20, 0):
        pytest.skip(f"Node.js 20 or later is needed (found {version[0] or 'an unreadable version'})")
    return ["--experimental-websocket"] if version < (22, 0) else []


def _run(command: list[str], port: int, timeout: int) -> tuple[int, str]:
    """Run ``command`` in clients/js against the server on ``port``: its exit code and output
    (a run cut off by ``timeout`` counts as failed, with what it printed)."""
    try:
        result = subprocess.run(command, cwd=JS, capture_output=True, text=True, timeout=timeout,
                                env={**os.environ, "IM_SERVER_URL": f"http://127.0.0.1:{port}"})
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or b""
        return -1, f"timed out after {timeout} s\n" + (out.decode(errors="replace") if isinstance(out, bytes) else out)
    return result.returncode, result.stdout + result.stderr


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NODE is None, reason="node is not on PATH: the JS SDK's tests need Node.js 20 or later"),
]


def test_js_sdk_against_a_real_server() -> None:
    flags = _node_flags()
    if _node_version() >= (20, 14):
        # No test waits for ever, and one that failed with a socket open does not hang the run.
        flags += ["--test-timeout=60000", "--test-force-exit"]
    tests = sorted(str(path.relative_to(JS)) for path in (JS / "test").glob("*.test.mjs"))
    assert tests, "no JS tests found"
    with tempfile.TemporaryFile() as log:
        # The tests register a few dozen users from one address: lift the per-address
        # registration limit, which is not what they are about. The server's output goes to a
        # file, since an unread pipe would stall it.
        with daphne(env={"REGISTER_PER_IP_PER_HOUR": "1000"}, output=log.fileno()) as port:
            code, output = _run([str(NODE), *flags, "--test", *tests], port, timeout=300)
        log.seek(0)
        server_log = log.read().decode(errors="replace")
    report = f"node exited with {code}\n{output[-30000:]}"
    assert code == 0, report + "\n--- server log (tail) ---\n" + server_log[-5000:]
    assert "# fail 0" in output, report


def test_the_example_runs_against_a_real_server() -> None:
    """examples/echo.mjs: two users, one echoes what the other sends."""
    flags = _node_flags()
    with daphne(output=subprocess.DEVNULL) as port:
        code, output = _run([str(NODE), *flags, str(Path("examples") / "echo.mjs"), "--demo"], port, timeout=60)
    assert code == 0, output
    assert "echo: hello" in output
