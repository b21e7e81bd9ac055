"""Fixtures of the fault suite."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.faults.test_redis_faults import ThrowawayRedis


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    """A ``redis-server`` of this test only, stopped at the end whatever happens."""
    with tempfile.TemporaryDirectory(prefix="im-fault-redis-") as directory:
        server = ThrowawayRedis(directory)
        try:
            server.start()
            yield server
        finally:
            server.close()
