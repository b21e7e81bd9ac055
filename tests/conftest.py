"""Shared fixtures: a cast (alice, bob, charlie), tokens, and a socket client.

Socket tests use Channels' ``WebsocketCommunicator`` against the real ASGI application
(routing, origin check, gateway) and need ``transactional_db``: the gateway runs its
database work on its own threads, which only see committed rows.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection

from accounts import presence
from accounts.models import User
from accounts.services import session_start
from accounts.sms import LocmemBackend
from core import appconfig, degrade, realtime
from core.gateway import limits, threads
from messaging import services as message_services
from tests.accounts.factories import UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup: None, django_db_blocker: Any) -> Any:
    """Worker threads (the gateway's pool, sync_to_async) keep their own connections; end them
    before the test database is dropped, which PostgreSQL refuses while they are open."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


def set_app_config(**switches: bool) -> None:
    """Set the admin's app switches (core.models.AppConfig) for this test."""
    from core.models import AppConfig

    AppConfig.objects.update_or_create(pk=1, defaults=switches)  # saving clears the process cache


@pytest.fixture(autouse=True)
def _fresh_state(request: pytest.FixtureRequest) -> None:
    cache.clear()  # throttle counters; with Redis also the presence sets (same database)
    degrade.reset()  # a Redis failure in an earlier test (a push at teardown) must not leave the breaker open
    presence._store = None
    limits.reset()  # open-socket counts and frame budgets of this process
    threads.reset()  # the gateway pool's measured load
    message_services._pair_shells.clear()
    message_services._wire_shells.clear()
    LocmemBackend.outbox.clear()
    appconfig.forget()  # the app switches are cached per process
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.fixture
def user_factory(db: None) -> type[UserFactory]:
    return UserFactory


@pytest.fixture
def alice(db: None) -> User:
    return cast(User, UserFactory(username="alice", phone="13800000001"))


@pytest.fixture
def bob(db: None) -> User:
    return cast(User, UserFactory(username="bob", phone="13800000002"))


@pytest.fixture
def charlie(db: None) -> User:
    return cast(User, UserFactory(username="charlie", phone="13800000003"))


def token_for(user: User, device: str = "test") -> str:
    return session_start(user=user, device=device)[1]


async def atoken_for(user: User, device: str = "test") -> str:
    return await sync_to_async(token_for)(user, device)


class SocketClient:
    """A native-protocol client over a communicator: ``await c.call(method, params)``."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.last_id = 0
        self.pending: list[dict[str, Any]] = []

    async def send_raw(self, text: str) -> None:
        await self.comm.send_to(text_data=text)

    async def frame(self, timeout: float = 3) -> dict[str, Any]:
        return json.loads(await self.comm.receive_from(timeout))

    async def call(self, method: str, params: Any = None, timeout: float = 3) -> dict[str, Any]:
        self.last_id += 1
        rid = self.last_id
        frame: dict[str, Any] = {"id": rid, "method": method}
        if params is not None:
            frame["params"] = params
        await self.comm.send_to(text_data=json.dumps(frame))
        while True:
            reply = await self.frame(timeout)
            if "event" in reply:
                self.pending.append(reply)
                continue
            assert reply.get("id") == rid, reply
            return reply

    async def raw(self, method: str, params: Any = None, timeout: float = 3) -> str:
        """The reply's text as sent (to check exact numbers); pushes before it are kept."""
        self.last_id += 1
        rid = self.last_id
        await self.comm.send_to(text_data=json.dumps({"id": rid, "method": method, "params": params or {}}))
        while True:
            text = await self.comm.receive_from(timeout)
            frame = json.loads(text)
            if "event" in frame:
                self.pending.append(frame)
                continue
            assert frame.get("id") == rid, frame
            return text

    async def ok(self, method: str, params: Any = None) -> Any:
        reply = await self.call(method, params)
        assert reply["code"] == 200, reply
        return reply["data"]

    async def push(self, event: str, timeout: float = 3) -> dict[str, Any]:
        """The next push named ``event`` (earlier other pushes are kept)."""
        for index, frame in enumerate(self.pending):
            if frame["event"] == event:
                return self.pending.pop(index)["data"]
        while True:
            frame = await self.frame(timeout)
            if frame.get("event") == event:
                return frame["data"]
            self.pending.append(frame)

    async def nothing(self, timeout: float = 0.3) -> bool:
        return not self.pending and await self.comm.receive_nothing(timeout)

    async def closed(self, timeout: float = 3) -> int:
        """Wait for the server to close the socket; return the close code."""
        while True:
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)
            if output["type"] == "websocket.send" and output.get("text"):
                self.pending.append(json.loads(output["text"]))


Connect = Callable[..., Any]


async def stop_loop_tasks() -> None:
    """Settle closed sockets, then stop the process-wide tasks the gateway started on this
    test's event loop (the publisher, the departures, the resync monitor)."""
    from core import fanout, resync
    from core.gateway import departures, threads

    await departures.shutdown()
    await resync.stop()
    await fanout.stop()
    await threads.stop_watching()
    await realtime.shutdown()


@pytest.fixture
async def connect(transactional_db: None) -> AsyncIterator[Connect]:
    """``await connect(token)`` opens a socket at /ws/?token=... (``path="/"``: the J-IM socket);
    all are closed afterwards."""
    from config.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(token: str | None = None, *, expect_accept: bool = True, path: str = "/ws/") -> SocketClient:
        comm = WebsocketCommunicator(application, path if token is None else f"{path}?token={token}")
        connected, _ = await comm.connect(timeout=10)  # a loaded CI machine can take over a second
        assert connected == expect_accept
        opened.append(comm)
        return SocketClient(comm)

    yield _connect
    for comm in opened:
        with contextlib.suppress(Exception):  # already closed by the server
            await comm.disconnect()
    await stop_loop_tasks()
