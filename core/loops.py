"""Process-wide tasks the gateway starts on its event loop (the publisher, the departures, the
resync monitor, the broadcast listener, the lag watch)."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any, and still running) and wait until it has ended."""
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
