"""``LeanQueue``: an ``asyncio.Queue`` that costs a few hundred bytes while it is idle.

Every open socket holds two queues that are empty nearly all the time: daphne's inbox of its
frames and the channel layer's queue of its channel. A stock ``asyncio.Queue`` allocates four
``collections.deque`` up front (its items, getters, putters and the waiters of the ``join``
event), about 3 KiB per queue; at 10,000 idle sockets that is 60 MiB of empty deques.

``LeanQueue`` keeps the same behaviour and interface (it is an ``asyncio.Queue``: ``qsize``,
``get``, ``put_nowait``, ``join`` ...) but holds its items and waiters in small lists (a list
of a few items is a tenth of an empty deque's size), switches the items to a deque once more
than ``DEQUE_AT`` are waiting (a backlog stays O(1) per item), and makes the ``join`` event
only when someone joins.
"""
from __future__ import annotations

import asyncio
import collections
from typing import Any

DEQUE_AT = 32


class Lane(list[Any]):
    """A list with deque's ``popleft``, for queues that are a few items long at most: a tenth
    of an empty deque's size."""

    __slots__ = ()

    def popleft(self) -> Any:
        return self.pop(0)


class _NotJoined:
    """Stands in for the ``join`` event until someone joins (nothing waits on it till then)."""

    __slots__ = ()

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def is_set(self) -> bool:
        return True


_NOT_JOINED = _NotJoined()


class LeanQueue(asyncio.Queue[Any]):
    def __init__(self, maxsize: int = 0) -> None:  # same fields as asyncio.Queue
        self._maxsize = maxsize
        self._getters: Any = Lane()
        self._putters: Any = Lane()
        self._unfinished_tasks = 0
        self._finished: Any = _NOT_JOINED
        self._init(maxsize)

    def _init(self, maxsize: int) -> None:
        self._queue: Any = Lane()

    def _put(self, item: Any) -> None:
        items = self._queue
        if len(items) >= DEQUE_AT and type(items) is Lane:
            self._queue = items = collections.deque(items)
        items.append(item)

    async def join(self) -> None:
        if self._finished is _NOT_JOINED:
            self._finished = asyncio.Event()
            if self._unfinished_tasks == 0:
                self._finished.set()
        await super().join()
