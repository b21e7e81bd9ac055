"""Run blocking (database) work off the event loop, and refuse work the threads cannot do in time.

Channels' default ``database_sync_to_async`` is thread-sensitive: every call in the
process queues on one shared thread. The gateway instead uses its own pool of
``GATEWAY_DB_THREADS`` threads, each holding its own persistent database connection, so
independent sockets do not wait on each other.

Overload: the pool's queue would otherwise grow without bound under more load than the
threads can serve, and every caller would wait longer and longer. ``busy()`` estimates how long
a call queued now would wait (calls waiting or running, times the recent time per call, over the threads)
and says to refuse it at once when that exceeds ``GATEWAY_QUEUE_BUDGET_MS``: the socket
answers ``503`` "server busy, retry" and nothing is done, so what is accepted stays fast and a
retried money call (same ``clientMsgId``) moves nothing twice.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync
from django.conf import settings

from core.loops import cancel

P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_in_pool = 0  # calls queued or running
_per_call = 0.002  # seconds a call takes, moving average
_refused = 0


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.GATEWAY_DB_THREADS, thread_name_prefix="gateway-db"
        )
    return _executor


def busy(backlog: int = 0) -> bool:
    """True when a call queued now would wait longer than ``GATEWAY_QUEUE_BUDGET_MS``:
    behind the pool's calls, spread over its threads, and behind ``backlog`` frames its own
    socket has waiting (a socket's frames are handled one after another); or when the event
    loop itself runs that late (every frame and push of the process waits for it)."""
    global _refused
    budget = settings.GATEWAY_QUEUE_BUDGET_MS
    if not budget:
        return False
    with _lock:
        wait = (_in_pool / settings.GATEWAY_DB_THREADS + backlog) * _per_call
        if max(wait, _loop_lag) * 1000 <= budget:
            return False
        _refused += 1
        return True


_loop_lag = 0.0  # seconds the event loop runs late, decaying
_watched: asyncio.AbstractEventLoop | None = None
_watch_task: asyncio.Task[None] | None = None
LAG_TICK = 0.05


def watch(loop: asyncio.AbstractEventLoop) -> None:
    """Measure how late the gateway's event loop runs (once per loop), for ``busy``."""
    global _watched, _watch_task
    if _watched is loop:
        return
    _watched = loop
    _watch_task = loop.create_task(_watch_lag(), name="gateway-loop-lag")


async def stop_watching() -> None:
    """Stop the lag watch (tests, before their event loop closes)."""
    global _watched, _watch_task
    task, _watched, _watch_task = _watch_task, None, None
    await cancel(task)


async def _watch_lag() -> None:
    global _loop_lag
    loop = asyncio.get_running_loop()
    for _ in range(10**12):  # bounded; lives as long as the loop
        started = loop.time()
        await asyncio.sleep(LAG_TICK)
        late = max(0.0, loop.time() - started - LAG_TICK)
        with _lock:  # rises at once, falls by a fifth a tick: a burst is remembered ~1 s
            _loop_lag = late if late > _loop_lag else _loop_lag * 0.8 + late * 0.2


def load() -> dict[str, Any]:
    """What ``/healthz`` shows of the pool."""
    with _lock:
        return {"queued": _in_pool, "msPerCall": round(_per_call * 1000, 2), "loopLagMs": round(_loop_lag * 1000, 1),
                "refused": _refused}


def _timed(func: Callable[P, R]) -> Callable[P, R]:
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        global _per_call
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            with _lock:
                _per_call += (took - _per_call) * 0.05

    return call


def run_sync(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Like ``database_sync_to_async`` (closes stale connections around the call), on the pool."""
    wrapped: Any = DatabaseSyncToAsync(_timed(func), thread_sensitive=False, executor=executor())

    async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        global _in_pool
        with _lock:
            _in_pool += 1
        try:
            return await wrapped(*args, **kwargs)
        finally:
            with _lock:
                _in_pool -= 1

    return counted


def reset() -> None:
    """Forget the measured load (tests)."""
    global _in_pool, _per_call, _refused, _loop_lag
    with _lock:
        _in_pool, _per_call, _refused, _loop_lag = 0, 0.002, 0, 0.0
