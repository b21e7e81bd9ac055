"""Smaller fault findings: beat runs expire while no worker takes them, and a failed publish
batch logs one line with its count instead of a traceback."""
from __future__ import annotations

import asyncio
import logging

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.test import override_settings

from core import degrade, realtime
from tests.e2e.server import free_port


def test_every_beat_entry_expires_after_its_interval() -> None:
    from config.celery import app

    assert app.conf.beat_schedule
    for name, entry in app.conf.beat_schedule.items():
        assert entry.get("options", {}).get("expires") == float(entry["schedule"]), name


async def test_failed_publish_batches_log_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: every publish fails
    layer = RedisPubSubChannelLayer(hosts=[dead], prefix="quiet")
    with override_settings(CHANNEL_LAYERS={"default": {"CONFIG": {"hosts": [dead]}}}):
        batcher = realtime._PubSubBatch(layer)
    queue: asyncio.Queue[realtime.Envelope] = asyncio.Queue()
    for uid in (1, 2, 3):
        queue.put_nowait(realtime._envelope("message", {"n": uid}, [uid, uid + 10], None))
    degrade.reset()  # no earlier test's failure keeps this one from logging
    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(realtime._drain_with(queue, batcher))
    try:
        for _ in range(100):  # bounded: at most ~5 s
            if caplog.records:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await batcher.close()
    records = [r for r in caplog.records if r.name in ("core.realtime", "core.degrade")]
    assert len(records) == 1  # one line per interval while Redis is away, not one per batch
    assert "Redis unavailable for pushes" in records[0].getMessage()
    assert records[0].exc_info is None and not caplog.text.count("Traceback")
