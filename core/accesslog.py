"""Secrets in URLs never reach daphne's access log.

Clients put their login token in the URL where the protocol says so (``?token=`` on the
native and J-IM sockets, ``session_key`` on ``/im/*``). daphne writes every request line to its
access log as received; ``install`` makes it write those parameters' values as ``[redacted]``.
daphne's access log is not a ``logging`` logger but a writer it creates itself
(``daphne.access.AccessLogGenerator``), so the redaction wraps that writer; it is installed by
the ASGI application module (``config.asgi``), which daphne imports before serving.
"""
from __future__ import annotations

import re
from typing import Any

SECRET_PARAMETERS = ("token", "session_key", "sessionKey", "access_token")
_SECRET = re.compile(r"([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;#\s\"]*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` (a request line or URL) with the values of secret query parameters replaced."""
    return _SECRET.sub(lambda match: match.group(1) + REDACTED, text)


def install() -> None:
    """Make daphne's access log redact secrets (idempotent)."""
    from daphne.access import AccessLogGenerator

    original = AccessLogGenerator.write_entry
    if getattr(original, "redacting", False):
        return

    def write_entry(self: AccessLogGenerator, host: Any, date: Any, request: str, *args: Any, **kwargs: Any) -> None:
        original(self, host, date, redact(request), *args, **kwargs)

    write_entry.redacting = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = write_entry
