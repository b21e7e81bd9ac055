"""Run blocking (database) work off the event loop.

Channels' default ``database_sync_to_async`` is thread-sensitive: every call in the
process queues on one shared thread. The gateway instead uses its own pool of
``GATEWAY_DB_THREADS`` threads, each holding its own persistent database connection, so
independent sockets do not wait on each other.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.GATEWAY_DB_THREADS, thread_name_prefix="gateway-db"
        )
    return _executor


def run_sync(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Like ``database_sync_to_async`` (closes stale connections around the call), on the pool."""
    wrapped: Any = DatabaseSyncToAsync(func, thread_sensitive=False, executor=executor())
    return wrapped
