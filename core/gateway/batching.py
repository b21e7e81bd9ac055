"""Socket calls stored in batches: one database thread hop and one transaction for many calls.

A ``Batcher`` collects the calls that arrive on one event loop. Whenever fewer than
``concurrency`` batches are in the database, it takes up to ``size`` waiting calls and hands
them to ``store`` on a gateway database thread. While a batch is in the database the next one
fills up, so under load batches grow and the cost of a transaction and of its commit is shared
(group commit); a call arriving alone waits for nobody.

``store`` sets each call's ``reply``: a result, an ``ApplicationError`` (answered as the
method's refusal), or None when the call must go the ordinary way (its own transaction, the
method's full checks). If ``store`` raises, its transaction was rolled back and every call of
the batch goes the ordinary way. Every batcher counts what it did in ``stats`` (``/healthz``).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.gateway.threads import run_sync

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Call:
    """One call waiting in a batch; subclasses carry what ``store`` needs."""

    future: asyncio.Future[Any] = field(init=False)
    reply: Any = field(default=None, init=False)


class Batcher:
    def __init__(self, name: str, store: Callable[[Sequence[Any]], None], size: Callable[[], int],
                 concurrency: Callable[[], int]) -> None:
        self.name = name
        self.store = store
        self.size, self.concurrency = size, concurrency
        self.stats = {"batches": 0, "done": 0, "ordinary": 0, "largest": 0}
        self._pending: dict[int, list[Call]] = {}  # per event loop
        self._running: dict[int, int] = {}
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, item: Call) -> Any:
        """Queue ``item``; its reply once its batch has committed (None: go the ordinary way)."""
        loop = asyncio.get_running_loop()
        key = id(loop)
        if self._loops.get(key) is not loop:  # a new loop (tests), possibly at a reused id
            self._loops[key], self._pending[key], self._running[key] = loop, [], 0
        item.future = loop.create_future()
        self._pending[key].append(item)
        if self._running[key] < self.concurrency():
            self._running[key] += 1
            task = loop.create_task(self._run(key), name=f"{self.name}-batch")
            self._tasks.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)
        return await item.future

    async def _run(self, key: int) -> None:
        pending = self._pending[key]
        try:
            while pending:
                batch = pending[: self.size()]
                del pending[: len(batch)]
                await self._one(batch)
        finally:
            self._running[key] -= 1

    async def _one(self, batch: list[Call]) -> None:
        try:
            await run_sync(self.store)(batch)
        except Exception as exc:  # rolled back: every call goes the ordinary way
            log.warning("a batch of %d %s failed (%s: %s); each goes the ordinary way", len(batch), self.name,
                        type(exc).__name__, exc)
            for item in batch:
                item.reply = None
        except BaseException:
            for item in batch:
                if not item.future.done():
                    item.future.cancel()
            raise
        done = sum(item.reply is not None for item in batch)
        self.stats["batches"] += 1
        self.stats["done"] += done
        self.stats["ordinary"] += len(batch) - done
        self.stats["largest"] = max(self.stats["largest"], len(batch))
        for item in batch:
            if not item.future.done():
                item.future.set_result(item.reply)


_all: list[Batcher] = []


def batcher(name: str, store: Callable[[Sequence[Any]], None], size: Callable[[], int],
            concurrency: Callable[[], int]) -> Batcher:
    made = Batcher(name, store, size, concurrency)
    _all.append(made)
    return made


def stats() -> dict[str, dict[str, int]]:
    """What ``/healthz`` shows: per kind of call, batches run, calls done in a batch, calls sent
    the ordinary way after joining one, and the largest batch, since the process started."""
    return {b.name: dict(b.stats) for b in _all}


def prepared_cursor() -> Any:
    """A psycopg cursor on this thread's Django connection (PostgreSQL) that binds on the
    server, so a batch's statements are prepared once per connection. Django's own cursors bind
    on the client and never prepare: allowing it on the connection changes nothing for them."""
    import psycopg
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = 0
    return psycopg.Cursor(raw)

