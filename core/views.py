"""Health and the landing page."""
from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


async def _check_channel_layer() -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned a different message")
    return type(layer).__name__


async def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok", "database": {...}, "channelLayer": {...}}``; 503 when a part is down."""
    report: dict[str, object] = {}
    healthy = True
    for name, check in (("database", sync_to_async(_check_database)), ("channelLayer", _check_channel_layer)):
        started = time.perf_counter()
        try:
            backend = await check()
            report[name] = {"status": "ok", "backend": backend,
                            "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:  # a health check reports any failure rather than raising
            log.warning("health check %s failed: %s", name, exc)
            healthy = False
            report[name] = {"status": "down", "error": type(exc).__name__}
    report["status"] = "ok" if healthy else "down"
    return JsonResponse(report, status=200 if healthy else 503)


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><title>IM server</title><h1>IM server</h1><ul>"
        '<li><a href="/api/docs/">REST API docs</a> (<a href="/api/schema/">OpenAPI schema</a>)</li>'
        '<li><a href="/admin/">Operator console</a></li><li><a href="/healthz">Health</a></li>'
        "<li>Native socket: <code>ws://HOST/ws/?token=TOKEN</code></li>"
        "<li>J-IM socket: <code>ws://HOST/?token=TOKEN</code></li></ul>"
    )
