"""The native socket envelope: what a client sees for good and bad frames."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuthSession, User
from core.gateway import registry
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)




@registry.method("test.crash", auth=False)
def _crash(ctx: Any, params: dict[str, Any]) -> None:
    raise RuntimeError("secret internal detail")


async def test_synctime_works_anonymously_and_echoes_client_time(connect: Connect) -> None:
    client = await connect()
    data = await client.ok("system.synctime", {"client_time": 1700000000123})
    assert data["client_time"] == 1700000000123
    assert len(str(data["server_time"])) == 13


async def test_heartbeat_answers_with_server_time(connect: Connect) -> None:
    client = await connect()
    data = await client.ok("system.heartbeat")
    assert len(str(data["server_time"])) == 13


async def test_method_needing_login_answers_401_on_anonymous_socket(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("users.info", {"uIds": [1]})
    assert reply == {"id": reply["id"], "code": 401, "msg": "not logged in"}


async def test_bad_token_closes_socket_with_4001(connect: Connect) -> None:
    client = await connect("not-a-real-token")
    assert await client.closed() == 4001


async def test_expired_token_closes_socket_with_4001(connect: Connect, alice: User) -> None:
    token = await atoken_for(alice)
    await AuthSession.objects.filter(user=alice).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    client = await connect(token)
    assert await client.closed() == 4001


async def test_unknown_method_is_404(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("no.such.method")
    assert reply["code"] == 404
    assert "no.such.method" in reply["msg"]


async def test_underscore_methods_are_never_dispatched(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("_internal")
    assert reply["code"] == 404


async def test_missing_method_is_404(connect: Connect) -> None:
    client = await connect()
    await client.send_raw(json.dumps({"id": 9, "params": {}}))
    assert await client.frame() == {"id": 9, "code": 404, "msg": "method is required"}


async def test_bad_params_are_422_with_field_name(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("system.synctime", {"client_time": "soon"})
    assert reply["code"] == 422
    assert reply["msg"].startswith("client_time:")


async def test_params_must_be_an_object(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("system.synctime", [1, 2])
    assert reply["code"] == 422


async def test_malformed_json_is_answered_not_dropped(connect: Connect) -> None:
    client = await connect()
    await client.send_raw("{not json")
    assert await client.frame() == {"id": None, "code": 400, "msg": "malformed JSON"}
    # and the socket still works
    assert (await client.call("system.heartbeat"))["code"] == 200


async def test_non_object_frame_is_refused(connect: Connect) -> None:
    client = await connect()
    await client.send_raw("[1,2,3]")
    assert (await client.frame())["code"] == 400


async def test_binary_frame_is_refused(connect: Connect) -> None:
    client = await connect()
    await client.comm.send_to(bytes_data=b"\x00\x01")
    reply = await client.frame()
    assert reply["code"] == 400 and "binary" in reply["msg"]


@override_settings(WS_MAX_FRAME_BYTES=2048)
async def test_oversized_frame_is_refused_with_413(connect: Connect) -> None:
    client = await connect()
    big = json.dumps({"id": 1, "method": "system.heartbeat", "params": {"pad": "x" * 4000}})
    await client.send_raw(big)
    reply = await client.frame()
    assert reply["code"] == 413 and reply["id"] is None
    # multi-byte characters count as bytes, not characters
    await client.send_raw(json.dumps({"id": 2, "method": "system.heartbeat", "p": "汉" * 1000},
                                     ensure_ascii=False))
    assert (await client.frame())["code"] == 413


@override_settings(WS_RATE_PER_SECOND=1, WS_RATE_BURST=5)
async def test_rate_limit_answers_429_after_the_burst(connect: Connect) -> None:
    client = await connect()
    codes = [(await client.call("system.heartbeat"))["code"] for _ in range(8)]
    assert codes[:5] == [200] * 5
    assert 429 in codes[5:]


async def test_internal_error_is_500_without_details(connect: Connect) -> None:
    client = await connect()
    reply = await client.call("test.crash")
    assert reply == {"id": reply["id"], "code": 500, "msg": "internal error"}


async def test_string_ids_are_echoed(connect: Connect) -> None:
    client = await connect()
    await client.send_raw(json.dumps({"id": "req-1", "method": "system.heartbeat"}))
    assert (await client.frame())["id"] == "req-1"


async def test_relay_data_pushes_on_event_to_each_device_of_recipients(
    connect: Connect, alice: User, bob: User
) -> None:
    sender = await connect(await atoken_for(alice))
    bob_phone, bob_pc = await connect(await atoken_for(bob, "phone")), await connect(await atoken_for(bob, "pc"))
    data = await sender.ok("system.relayData", {"action": "typing", "to": [bob.pk], "data": {"chat": 5}})
    assert data == {}
    expected = {"action": "typing", "from": alice.pk, "to": [bob.pk], "data": {"chat": 5}}
    assert await bob_phone.push("on_event") == expected
    assert await bob_pc.push("on_event") == expected
    assert await sender.nothing()


async def test_relay_skips_recipients_who_blacklisted_the_sender(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    from accounts.models import Block

    await Block.objects.acreate(user=bob, blocked=alice)
    sender = await connect(await atoken_for(alice))
    bob_socket, charlie_socket = await connect(await atoken_for(bob)), await connect(await atoken_for(charlie))
    await sender.ok("system.relayData", {"action": "ping", "to": [bob.pk, charlie.pk]})
    assert (await charlie_socket.push("on_event"))["from"] == alice.pk
    assert await bob_socket.nothing()


@override_settings(RELAY_MAX_RECIPIENTS=3)
async def test_relay_recipient_limit_is_422(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    reply = await client.call("system.relayData", {"action": "x", "to": [1, 2, 3, 4]})
    assert reply["code"] == 422 and "at most 3" in reply["msg"]


@override_settings(WS_RATE_PER_SECOND=1, WS_RATE_BURST=3)
async def test_junk_frames_spend_rate_tokens_too(connect: Connect) -> None:
    client = await connect()
    for _ in range(3):
        await client.send_raw("{junk")
        assert (await client.frame())["code"] == 400
    await client.send_raw("{junk")
    assert (await client.frame())["code"] == 429
    assert (await client.call("system.heartbeat"))["code"] == 429


async def test_expired_session_gets_no_more_pushes(connect: Connect, alice: User, bob: User) -> None:
    with override_settings(AUTH_TOKEN_TTL_SECONDS=1):
        bob_token = await atoken_for(bob)
    bob_socket = await connect(bob_token)
    sender = await connect(await atoken_for(alice))
    await asyncio.sleep(1.1)
    await sender.ok("system.relayData", {"action": "late", "to": [bob.pk]})
    assert await bob_socket.closed() == 4001
    assert not any(frame.get("event") == "on_event" for frame in bob_socket.pending)


async def test_a_frame_for_a_socket_closed_meanwhile_is_dropped_quietly() -> None:
    """daphne raises when a reply or push meets a socket the client just closed; the consumer
    drops the frame instead of logging "Exception inside application" with a traceback."""
    from autobahn.exception import Disconnected

    from core.gateway.consumer import GatewayConsumer

    consumer = GatewayConsumer()
    consumer.channel_name = "test.closed"
    sent: list[dict[str, Any]] = []

    async def closed(message: dict[str, Any]) -> None:
        sent.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = closed
    await consumer.send(text_data='{"event": "x"}')  # does not raise
    assert sent == [{"type": "websocket.send", "text": '{"event": "x"}'}]
