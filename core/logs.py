"""Log records that say which request or socket they belong to, as plain text or JSON lines.

Every record carries ``request_id``: the id of the HTTP request being served (the client's
``X-Request-ID`` when it is a safe token, else a new one; sent back in the response's
``X-Request-ID``), or of the WebSocket connection (``ws-...``), or ``-`` outside both.
``LOG_FORMAT=json`` writes one JSON object per line (docs/deploy.md#logs).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

current_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The record's own attributes, which are not extra fields of a JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:16]


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request or socket)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, requestId, the
    record's extra fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": getattr(record, "request_id", None) or current_id.get() or "-",
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def with_request_ids(app: Any) -> Any:
    """Wrap the HTTP ASGI application: each request gets an id for all its log records
    (Django's own "Not Found" and "Internal Server Error" lines included) and answers it in the
    ``X-Request-ID`` header."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        offered = next((value.decode("latin-1") for name, value in scope.get("headers", [])
                        if name == b"x-request-id"), "")
        request_id = offered if _SAFE_ID.fullmatch(offered) else new_id()

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        token = current_id.set(request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            current_id.reset(token)

    return asgi
