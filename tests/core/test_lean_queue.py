"""LeanQueue behaves as asyncio.Queue does (the inbox of every socket and channel)."""
from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from core.lean_queue import DEQUE_AT, LeanQueue


async def _script(cls: type[asyncio.Queue[Any]]) -> list[Any]:
    out: list[Any] = []
    q = cls()
    q.put_nowait(1)
    q.get_nowait()
    q.task_done()
    await asyncio.wait_for(q.join(), 1)
    bounded = cls(maxsize=1)
    bounded.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        bounded.put_nowait(2)
    putter = asyncio.ensure_future(bounded.put(2))
    await asyncio.sleep(0)
    out.append(bounded.get_nowait())
    await putter
    out.append(bounded.get_nowait())
    getter = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    getter.cancel()
    await asyncio.sleep(0)
    out.append(len(q._getters))  # type: ignore[attr-defined]
    q = cls()
    q.put_nowait(5)
    joiner = asyncio.ensure_future(q.join())
    await asyncio.sleep(0)
    out.append(joiner.done())
    q.get_nowait()
    q.task_done()
    await asyncio.sleep(0)
    out.append(joiner.done())
    getters = [asyncio.ensure_future(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for i in range(3):
        q.put_nowait(i)
    await asyncio.sleep(0)
    out.append([g.result() for g in getters])
    for i in range(3 * DEQUE_AT):  # a backlog, past the switch to a deque
        q.put_nowait(i)
    out.append(q.qsize())
    out.append([q.get_nowait() for _ in range(3 * DEQUE_AT)] == list(range(3 * DEQUE_AT)))
    out.append(q.empty())
    return out


def test_same_behaviour_as_asyncio_queue() -> None:
    assert asyncio.run(_script(LeanQueue)) == asyncio.run(_script(asyncio.Queue))


def test_small_while_idle() -> None:
    q = LeanQueue()
    fields = [q._queue, q._getters, q._putters]
    assert sum(sys.getsizeof(f) for f in fields) < sys.getsizeof(asyncio.Queue()._queue)  # type: ignore[attr-defined]
