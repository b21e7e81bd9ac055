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
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from core.gateway.threads import run_sync

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Call:
    """One call waiting in a batch; subclasses carry what ``store`` needs."""

    future: asyncio.Future[Any] = field(init=False)
    reply: Any = field(default=None, init=False)


@dataclass(eq=False, slots=True)
class _LoopState:
    """A batcher's calls on one event loop."""

    loop: asyncio.AbstractEventLoop
    pending: list[Call] = field(default_factory=list)
    running: int = 0
    busy_keys: Counter[Any] = field(default_factory=Counter)  # keys of the batches in the database


class Batcher:
    """``key`` (optional) names what a call must not overtake: a call waits while a batch holding
    a call of the same key is in the database, so calls of one key are stored in the order they
    arrived even with several batches running (e.g. sends to one chat keep their order)."""

    def __init__(self, name: str, store: Callable[[Sequence[Any]], None], size: Callable[[], int],
                 concurrency: Callable[[], int], key: Callable[[Any], Any] | None = None) -> None:
        self.name = name
        self.store = store
        self.size, self.concurrency, self.key = size, concurrency, key
        self.stats = {"batches": 0, "done": 0, "ordinary": 0, "largest": 0, "msInDatabase": 0}
        self._states: dict[int, _LoopState] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_batch = 0.005  # seconds a batch takes, moving average

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(id(loop))
        if state is None or state.loop is not loop:  # a new loop (tests), possibly at a reused id
            state = self._states[id(loop)] = _LoopState(loop)
        return state

    def late(self) -> float:
        """Seconds a call queued now on this loop would wait for its batch to be taken, estimated
        from the calls waiting, the batch size, the batches running at once and the recent time
        per batch (the caller refuses it when that is over its budget)."""
        state = self._state()
        rounds = len(state.pending) // max(1, self.size() * self.concurrency())
        return rounds * self._per_batch

    async def call(self, item: Call) -> Any:
        """Queue ``item``; its reply once its batch has committed (None: go the ordinary way)."""
        state = self._state()
        item.future = state.loop.create_future()
        state.pending.append(item)
        self._start(state)
        return await item.future

    def _start(self, state: _LoopState) -> None:
        """Hand waiting calls to new batches while fewer than ``concurrency`` run."""
        while state.pending and state.running < self.concurrency():
            batch = self._take(state)
            if not batch:
                return  # every waiting call waits for a running batch's key
            state.running += 1
            task = state.loop.create_task(self._run(state, batch), name=f"{self.name}-batch")
            self._tasks.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)

    def _take(self, state: _LoopState) -> list[Call]:
        size, pending = self.size(), state.pending
        if self.key is None or not state.busy_keys:
            batch = pending[:size]
            del pending[: len(batch)]
        else:
            batch, kept = [], []
            for item in pending:
                if len(batch) < size and state.busy_keys[self.key(item)] == 0:
                    batch.append(item)
                else:
                    kept.append(item)
            pending[:] = kept
        if self.key is not None:
            state.busy_keys.update(self.key(item) for item in batch)
        return batch

    async def _run(self, state: _LoopState, batch: list[Call]) -> None:
        try:
            await self._one(batch)
        finally:
            state.running -= 1
            if self.key is not None:
                state.busy_keys.subtract(self.key(item) for item in batch)
                state.busy_keys += Counter()  # drops the keys at zero
            self._start(state)

    async def _one(self, batch: list[Call]) -> None:
        started = time.perf_counter()
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
        took = time.perf_counter() - started
        self._per_batch += (took - self._per_batch) * 0.1
        done = sum(item.reply is not None for item in batch)
        self.stats["batches"] += 1
        self.stats["done"] += done
        self.stats["ordinary"] += len(batch) - done
        self.stats["largest"] = max(self.stats["largest"], len(batch))
        self.stats["msInDatabase"] += round(took * 1000)
        for item in batch:
            if not item.future.done():
                item.future.set_result(item.reply)


_all: list[Batcher] = []


def batcher(name: str, store: Callable[[Sequence[Any]], None], size: Callable[[], int],
            concurrency: Callable[[], int], key: Callable[[Any], Any] | None = None) -> Batcher:
    made = Batcher(name, store, size, concurrency, key)
    _all.append(made)
    return made


def overdue() -> bool:
    """True when a call queued now on this loop would wait longer than
    ``GATEWAY_QUEUE_BUDGET_MS`` for its batch (any batcher): the socket refuses it (503)."""
    budget = settings.GATEWAY_QUEUE_BUDGET_MS
    return bool(budget) and any(b.late() * 1000 > budget for b in _all)


def stats() -> dict[str, dict[str, int]]:
    """What ``/healthz`` shows: per kind of call, batches run, calls done in a batch, calls sent
    the ordinary way after joining one, the largest batch and the milliseconds batches spent on
    their database thread, since the process started."""
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

