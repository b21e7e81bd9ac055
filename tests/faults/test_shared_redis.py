"""Two deployments on one Redis that differ only by the db number in REDIS_URL: pub/sub
ignores the db number, so only their derived prefixes keep them apart. A push in one never
reaches a socket of the other, and the second to start warns that the first is live."""
from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
import urllib.request
from typing import Any

import pytest
import websockets
from django.conf import settings

from tests.e2e.server import daphne

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def _with_db(url: str, db: int) -> str:
    return re.sub(r"/\d*/?$", "", url.rstrip("/")) + f"/{db}"


async def _nothing(ws: Any, seconds: float) -> bool:
    try:
        frame = await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame: {frame}")


def test_deployments_differing_by_redis_db_never_see_each_others_pushes() -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (run with REDIS_URL=redis://...)")
    cache_db = int(settings.CACHE_REDIS_URL.rstrip("/").rsplit("/", 1)[-1])
    first = {"REDIS_URL": _with_db(settings.REDIS_URL, 0), "CHANNEL_LAYER_PREFIX": ""}
    second = {"REDIS_URL": _with_db(settings.REDIS_URL, cache_db if cache_db else 1), "CHANNEL_LAYER_PREFIX": ""}
    with tempfile.TemporaryFile() as log_b, daphne(env=first) as port_a, \
            daphne(env=second, output=log_b.fileno()) as port_b:
        a = f"http://127.0.0.1:{port_a}"
        for name in ("erin", "frank"):
            _post(f"{a}/api/v1/auth/register", {"username": name, "password": "secret123"})
        # Same user ids on both sides (one test database): exactly what a leak would hit.
        erin = _post(f"{a}/api/v1/auth/login", {"username": "erin", "password": "secret123"})
        frank = _post(f"{a}/api/v1/auth/login", {"username": "frank", "password": "secret123"})

        async def scenario() -> None:
            async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws/?token={erin['token']}") as erin_a, \
                    websockets.connect(f"ws://127.0.0.1:{port_b}/ws/?token={erin['token']}") as erin_b, \
                    websockets.connect(f"ws://127.0.0.1:{port_a}/ws/?token={frank['token']}") as frank_a, \
                    websockets.connect(f"ws://127.0.0.1:{port_b}/ws/?token={frank['token']}") as frank_b:
                for rid, (sender, mine, theirs) in enumerate([(erin_a, frank_a, frank_b), (erin_b, frank_b, frank_a)]):
                    await sender.send(json.dumps({"id": rid, "method": "system.relayData",
                                                  "params": {"action": f"hello{rid}", "to": [frank["userId"]]}}))
                    assert json.loads(await asyncio.wait_for(sender.recv(), 5)) == {"id": rid, "code": 200, "data": {}}
                    push = json.loads(await asyncio.wait_for(mine.recv(), 5))
                    assert push["data"]["action"] == f"hello{rid}"
                    assert await _nothing(theirs, 1.5)

        asyncio.run(scenario())

        prefix_a = f"im-{settings.DATABASES['default']['NAME'].rsplit('/', 1)[-1]}-0"
        text = ""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # bounded: the warning is logged at start-up
            log_b.seek(0)
            text = log_b.read().decode(errors="replace")
            if "other deployments are live on this Redis" in text:
                break
            time.sleep(0.2)
        assert "other deployments are live on this Redis" in text, text
        warning = next(line for line in text.splitlines() if "other deployments are live" in line)
        assert prefix_a in warning, warning
