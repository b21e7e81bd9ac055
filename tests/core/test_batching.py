"""core.gateway.batching: calls of one key never overtake each other across running batches."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from core.gateway.batching import Batcher, Call

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(eq=False, slots=True)
class Item(Call):
    key: str
    name: str


async def test_a_key_in_a_running_batch_waits_for_it() -> None:
    log: list[tuple[str, list[str], float, float]] = []
    lock = threading.Lock()

    def store(batch: Sequence[Item]) -> None:
        started = time.monotonic()
        time.sleep(0.2)
        with lock:
            log.append(("batch", [item.name for item in batch], started, time.monotonic()))
        for item in batch:
            item.reply = item.name

    batcher = Batcher("test", store, lambda: 10, lambda: 2, key=lambda item: item.key)
    first = asyncio.ensure_future(batcher.call(Item("a", "a1")))
    await asyncio.sleep(0.05)  # a1's batch is in the "database"
    second = asyncio.ensure_future(batcher.call(Item("a", "a2")))  # must wait for a1's batch
    third = asyncio.ensure_future(batcher.call(Item("b", "b1")))  # may run beside it
    assert await asyncio.gather(first, second, third) == ["a1", "a2", "b1"]
    batches = {tuple(names): (start, end) for _, names, start, end in log}
    assert set(batches) == {("a1",), ("b1",), ("a2",)}
    assert batches[("a2",)][0] >= batches[("a1",)][1]  # a2 started after a1's batch ended
    assert batches[("b1",)][0] < batches[("a1",)][1]  # b1 did not wait
    assert batcher.stats["batches"] == 3 and batcher.stats["done"] == 3


async def test_without_a_key_calls_join_the_next_batch_in_order() -> None:
    seen: list[list[int]] = []

    def store(batch: Sequence[Item]) -> None:
        time.sleep(0.1)
        seen.append([int(item.name) for item in batch])
        for item in batch:
            item.reply = True

    batcher = Batcher("test", store, lambda: 3, lambda: 1)
    calls = [asyncio.ensure_future(batcher.call(Item("k", str(i)))) for i in range(7)]
    await asyncio.gather(*calls)
    assert [n for batch in seen for n in batch] == list(range(7))
    assert max(len(batch) for batch in seen) == 3 and batcher.stats["largest"] == 3
