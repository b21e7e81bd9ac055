"""Health and the landing page."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.version import VERSION
from core import degrade
from core.gateway import batching, threads

log = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


# One reply channel per process for the channel-layer check, reused by every call: a new
# channel per call stays subscribed on the pub/sub layer for the life of the process.
_health_channel: str | None = None


async def _check_channel_layer() -> str:
    global _health_channel
    layer = get_channel_layer()
    if _health_channel is None:
        _health_channel = await layer.new_channel("healthz.")
    elif hasattr(layer, "ensure_subscribed"):  # the pub/sub layer drops a channel whose receive timed out
        await layer.ensure_subscribed(_health_channel)
    channel = _health_channel
    nonce = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "nonce": nonce})
    for _ in range(5):  # a late reply to an earlier, timed-out check may come first
        message = await layer.receive(channel)
        if message.get("type") == "healthz.ping" and message.get("nonce") == nonce:
            return type(layer).__name__
    raise RuntimeError("channel layer returned a different message")


async def _run_check(name: str, check: Callable[[], Awaitable[str]]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        backend = await asyncio.wait_for(check(), timeout=settings.HEALTHZ_TIMEOUT_SECONDS)
    except Exception as exc:  # a health check reports any failure (a timeout too) rather than raising
        log.warning("health check %s failed: %s", name, type(exc).__name__)
        return {"status": "down", "error": type(exc).__name__,
                "ms": round((time.perf_counter() - started) * 1000, 2)}
    return {"status": "ok", "backend": backend, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok", "version": "...", "database": {...}, "channelLayer": {...}}``; 503 when
    a part is down.
    The checks run side by side, each bounded by HEALTHZ_TIMEOUT_SECONDS."""
    names = ("database", "channelLayer")
    results = await asyncio.gather(_run_check("database", sync_to_async(_check_database)),
                                   _run_check("channelLayer", _check_channel_layer))
    report: dict[str, object] = dict(zip(names, results, strict=True))
    healthy = all(result["status"] == "ok" for result in results)
    degraded = degrade.counts()
    if degraded:
        report["redisDegraded"] = degraded
    report["gateway"] = threads.load()
    report["batches"] = batching.stats()
    report["status"] = "ok" if healthy else "down"
    report["version"] = VERSION
    return JsonResponse(report, status=200 if healthy else 503)


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><title>IM server</title><h1>IM server</h1><ul>"
        '<li><a href="/app/">Web chat</a> (demo users: see the README)</li>'
        '<li><a href="/api/docs/">REST API docs</a> (<a href="/api/schema/">OpenAPI schema</a>)</li>'
        '<li><a href="/admin/">Operator console</a></li><li><a href="/healthz">Health</a></li>'
        "<li>Native socket: <code>ws://HOST/ws/?token=TOKEN</code></li>"
        "<li>J-IM socket: <code>ws://HOST/?token=TOKEN</code></li></ul>"
    )
