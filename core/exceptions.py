"""One error vocabulary for every protocol.

Services raise ``ApplicationError`` with a symbolic ``code``; each adapter owns its table
from symbolic code to its wire number (native socket: per-method seed codes, REST: HTTP
status, im/*: per-method ``status``, hx: ``code``, J-IM: ``code``).
"""
from __future__ import annotations

from typing import Any

# Symbolic codes shared by every app. Apps add their own in their exceptions.py.
NOT_AUTHENTICATED = "not_authenticated"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
INVALID = "invalid"
RATE_LIMITED = "rate_limited"
BLACKLISTED = "blacklisted"
CONFLICT = "conflict"
INVALID_CREDENTIALS = "invalid_credentials"


UNAVAILABLE = "unavailable"
UNAVAILABLE_MSG = "service unavailable, retry"
BUSY_MSG = "server busy, retry"  # more work queued than the server can answer in time


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot serve right now (down, restarting, no pooled
    connection within the pool timeout): every protocol answers 503 "retry" for it, quickly,
    instead of a 500 with a traceback. Django wraps the driver's error (its ``__cause__``)."""
    try:
        import psycopg
    except ImportError:  # SQLite only
        return False
    current: BaseException | None = exc
    for _ in range(4):  # bounded: the driver's error is at most a couple of causes down
        if current is None:
            return False
        if isinstance(current, psycopg.OperationalError):  # includes psycopg_pool.PoolTimeout
            return True
        current = current.__cause__
    return False


class ApplicationError(Exception):
    """A refusal a user can see: never a bug, never a traceback on the wire."""

    def __init__(self, code: str, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, {self.message!r})"


# Native socket: the contract's generic numbers. Methods override with their seed codes.
WS_DEFAULT_CODES: dict[str, int] = {
    NOT_AUTHENTICATED: 401,
    INVALID_CREDENTIALS: 401,
    PERMISSION_DENIED: 403,
    NOT_FOUND: 404,
    INVALID: 422,
    RATE_LIMITED: 429,
    BLACKLISTED: 501,
    CONFLICT: 409,
    UNAVAILABLE: 503,
}
WS_FALLBACK_CODE = 400

# REST: HTTP status per symbolic code; the body carries the socket's number as well.
HTTP_STATUS: dict[str, int] = {
    NOT_AUTHENTICATED: 401,
    INVALID_CREDENTIALS: 401,
    PERMISSION_DENIED: 403,
    BLACKLISTED: 403,
    NOT_FOUND: 404,
    INVALID: 400,
    CONFLICT: 409,
    RATE_LIMITED: 429,
    UNAVAILABLE: 503,
}
HTTP_FALLBACK_STATUS = 400


def register_http_statuses(statuses: dict[str, int]) -> None:
    """Apps declare the HTTP status of their own codes in their exceptions.py."""
    for code, status in statuses.items():
        if HTTP_STATUS.get(code, status) != status:
            raise ValueError(f"error code {code!r} already maps to HTTP {HTTP_STATUS[code]}")
        HTTP_STATUS[code] = status
