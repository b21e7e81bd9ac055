"""Unmodified RongCloud-era ``im/*`` apps (docs/im.md#compatibility): each test replays the
documents' own request (their parameter names, nothing of ours) and asserts the documents'
answer under the switch that restores it, and the default answer without it."""
from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Block, User
from core import jsonwire
from messaging.media import fresh_content
from messaging.models import Media, Message
from redpackets.models import RedPacket
from remittance.models import Remittance
from tests.accounts.test_concurrency import run_parallel
from tests.conftest import Connect, atoken_for, token_for
from tests.messaging.test_im_facade import fund, im
from tests.wallet.factories import make_coin
from wallet.models import Coin, IdempotencyKey, JournalEntry, Transfer
from wallet.selectors import ledger_verify
from wallet.services import user_account


def amr(seconds: int) -> bytes:
    """AMR-NB at 12.2 kbit/s: the 6-byte header, then 50 frames of 32 bytes a second (60 s: 96,006 bytes)."""
    return b"#!AMR\n" + (bytes([0x3C]) + bytes(31)) * (50 * seconds)


def coins(alice: User) -> tuple[Coin, Coin]:
    cny = make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    fund(alice, cny, "100")
    fund(alice, usdt, "50")
    return cny, usdt


def post_raw(method: str, body: Any, **extra: Any) -> Any:
    return Client().post(f"/im/{method}", body, **extra)


# --- 1. success status ----------------------------------------------------------------------

@pytest.mark.django_db
def test_get_token_answers_the_chosen_generations_success(alice: User, settings: Any) -> None:
    key = token_for(alice)
    # "方法: im/get_token 参数: session_key" — the newer generation: status=0 成功 (the default)
    assert im(Client(), "get_token", key) == {"status": 0, "msg": "成功", "data": key}
    settings.IM_API_GENERATION = "older"  # "status=2 未登录，status=1 成功"
    assert im(Client(), "get_token", key) == {"status": 1, "msg": "成功", "data": key}
    assert im(Client(), "get_token", "expired-key")["status"] == 2
    bad = post_raw("get_token", '{"session_key": ', content_type="application/json")
    assert bad.json()["status"] == 4  # a bad request cannot answer 1 where 1 is success
    # methods both generations have keep status 0: user_info's "status=0 成功" is in both
    assert im(Client(), "user_info", key)["status"] == 0


@pytest.mark.django_db
def test_the_older_generations_own_methods_answer_status_1(alice: User, bob: User, settings: Any) -> None:
    cny, usdt = coins(alice)
    fund(bob, usdt, "10")
    for generation in ("newer", "older"):  # they exist only in the older generation: always its codes
        settings.IM_API_GENERATION = generation
        offer = im(Client(), "msg_exchange_publish", token_for(alice), from_coin_id=cny.pk, from_coin_amount="1",
                   toUserId=bob.pk, to_coin_id=usdt.pk, to_coin_amount="1", wallet_pwd="pay123", content=generation)
        assert offer["status"] == 1, offer  # "status=1 成功 data中包含了exchange_id"
        eid = offer["data"]["exchange_id"]
        accepted = im(Client(), "msg_exchange_accept", token_for(bob), exchange_id=eid, wallet_pwd="pay123")
        assert accepted["status"] == 1, accepted  # "status=1 成功"
        shown = im(Client(), "msg_get_exchange", token_for(bob), exchange_id=eid)
        assert shown["status"] == 1 and shown["msg"] == "成功" and shown["data"]["exchange_log"]["status"] == "100"
        sent = im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="1",
                  wallet_pwd="pay123", content=generation)
        assert sent["status"] == 0  # in both generations: the newer one's table
        detail = im(Client(), "msg_get_transfer", token_for(bob), transfer_id=sent["data"]["transfer_id"])
        assert detail["status"] == 1 and detail["data"]["transfer_log"]["wrap"] == "1"  # {"status":1,"msg":"成功",...
        assert im(Client(), "msg_get_transfer", token_for(bob), transfer_id="abc")["status"] == 4
        assert im(Client(), "msg_exchange_accept", token_for(bob), wallet_pwd="pay123")["status"] == 4


# --- 2. red packets without wallet_pwd ------------------------------------------------------

def newer_red_packet(alice: User, bob: User, cny: Coin, **extra: Any) -> dict[str, Any]:
    """The newer generation's frame: session_key, toUserId, coin_id, amount, content; no wallet_pwd."""
    return im(Client(), "msg_redpack_publish", token_for(alice), **{
        "toUserId": bob.pk, "coin_id": cny.pk, "amount": "8.88", "content": "恭喜发财", **extra})


@pytest.mark.django_db
def test_a_missing_payment_password_never_locks_the_wallet(alice: User, bob: User) -> None:
    cny, _ = coins(alice)
    for _ in range(8):  # more than PAYMENT_PASSWORD_MAX_FAILURES taps
        refused = newer_red_packet(alice, bob, cny)
        assert refused["status"] == 8 and "required" in refused["msg"], refused
    assert RedPacket.objects.count() == 0 and user_account(user=alice, coin=cny).balance == Decimal("100")
    paid = newer_red_packet(alice, bob, cny, wallet_pwd="pay123")  # not locked
    assert paid["status"] == 0, paid
    for _ in range(5):  # a wrong password still counts
        assert newer_red_packet(alice, bob, cny, wallet_pwd="wrong1", clientMsgId=f"w{_}")["status"] in (8, 9)
    assert newer_red_packet(alice, bob, cny, wallet_pwd="pay123", clientMsgId="after")["status"] == 9


@pytest.mark.django_db
def test_im_redpack_without_password_lets_the_session_pay(alice: User, bob: User, settings: Any) -> None:
    cny, _ = coins(alice)
    assert newer_red_packet(alice, bob, cny)["status"] == 8  # the default
    settings.IM_REDPACK_WITHOUT_PASSWORD = True
    sent = newer_red_packet(alice, bob, cny)
    assert sent["status"] == 0 and sent["data"]["transfer_id"].endswith("1"), sent  # the document's answer
    assert newer_red_packet(alice, bob, cny) == sent  # a retry within the window: paid once
    assert user_account(user=alice, coin=cny).balance == Decimal("91.12")
    accepted = im(Client(), "msg_redpack_accept", token_for(bob), transfer_id=sent["data"]["transfer_id"])
    assert accepted["status"] == 0 and accepted["data"]["amount"] == "8.88"
    # still every other rule: balance, limits; and only red packets without a wallet_pwd parameter
    over = im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="300")
    assert over["status"] == 6  # above a share's maximum
    poor = im(Client(), "msg_redpack_publish", token_for(bob), toUserId=alice.pk, coin_id=cny.pk, amount="9")
    assert poor["status"] == 7
    assert newer_red_packet(alice, bob, cny, wrap=2)["status"] == 8  # a transfer still needs the password
    assert newer_red_packet(alice, bob, cny, wallet_pwd="", content="x")["status"] == 8  # sent empty: not absent
    for n in range(5):  # locked by wrong passwords: the session no longer pays either
        newer_red_packet(alice, bob, cny, wallet_pwd="wrong1", content=f"w{n}")
    assert newer_red_packet(alice, bob, cny, content="locked")["status"] == 9
    assert ledger_verify() == []


# --- 3. inline voice notes ------------------------------------------------------------------

def voice(alice: User, bob: User, audio: bytes | str, duration: Any = 7) -> dict[str, Any]:
    text = audio if isinstance(audio, str) else base64.b64encode(audio).decode()
    content = jsonwire.dumps({"content": text, "duration": duration, "extra": ""})
    return im(Client(), "msg_private_publish", token_for(alice), toUserId=bob.pk, objectName="RC:VcMsg",
              content=content)


@pytest.mark.django_db
def test_an_inline_amr_voice_note_becomes_a_voice_upload(alice: User, bob: User, settings: Any,
                                                         tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    audio = amr(60)  # the longest RongCloud records: 96,006 bytes, 128,008 characters of base64
    sent = voice(alice, bob, audio, duration=60)
    assert sent["status"] == 0 and sent["msg"] == "成功", sent
    message = Message.objects.get(pk=sent["data"]["messageId"])
    assert message.type == Message.Type.VOICE and message.sender_id == alice.pk
    assert message.content["duration"] == 60 and message.content["url"].startswith("/api/v1/media/")
    media = Media.objects.get(pk=message.content["mediaId"])
    assert (media.kind, media.content_type, media.size, media.owner_id) == ("voice", "audio/amr", len(audio), alice.pk)
    link = fresh_content(message.pk, message.type, message.content)["url"]  # what bob's socket is handed
    got = Client().get(link, HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}")
    body = b"".join(got.streaming_content)  # type: ignore[attr-defined]
    assert got.status_code == 200 and body == audio
    assert got["Content-Type"] == "audio/amr"
    wrapped = base64.encodebytes(amr(2)).decode()  # Android's Base64.DEFAULT: lines of 76
    assert voice(alice, bob, wrapped, duration="2")["status"] == 0


@pytest.mark.django_db
def test_inline_voice_notes_are_bounded(alice: User, bob: User, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    assert voice(alice, bob, "not base64!")["status"] == 1
    assert voice(alice, bob, "QUJD=")["status"] == 1  # bad padding
    assert voice(alice, bob, b"RIFF....WAVEfmt ")["status"] == 1  # not AMR
    assert voice(alice, bob, amr(1), duration=0)["status"] == 1
    assert voice(alice, bob, amr(1), duration=61)["status"] == 1
    assert voice(alice, bob, amr(1), duration="1e3")["status"] == 1
    assert voice(alice, bob, amr(62), duration=60)["status"] == 1  # over IM_VOICE_INLINE_MAX_BYTES
    settings.IM_VOICE_INLINE_MAX_BYTES = 4096
    assert voice(alice, bob, amr(3), duration=3)["status"] == 1  # 4,806 bytes
    assert voice(alice, bob, amr(2), duration=2)["status"] == 0  # 3,206 bytes
    settings.IM_VOICE_INLINE_MAX_BYTES = 0  # refused: the behaviour before inline audio was accepted
    assert voice(alice, bob, amr(2), duration=2)["status"] == 1
    Block.objects.create(user=bob, blocked=alice)
    settings.IM_VOICE_INLINE_MAX_BYTES = 4096
    assert voice(alice, bob, amr(2), duration=2)["status"] == 3  # refused message: its upload is removed
    assert Media.objects.count() == 1 and Message.objects.filter(type=Message.Type.VOICE).count() == 1


# --- 4. 128 KiB of content ------------------------------------------------------------------

@pytest.mark.django_db
def test_a_message_of_128k_goes_through(alice: User, bob: User, settings: Any) -> None:
    text = "字" * 40_000  # 120,000 bytes of UTF-8
    sent = im(Client(), "msg_private_publish", token_for(alice), toUserId=bob.pk, objectName="RC:TxtMsg",
              content=jsonwire.dumps({"content": text, "extra": ""}))
    assert sent["status"] == 0, sent["msg"]
    assert Message.objects.get(pk=sent["data"]["messageId"]).content["text"] == text
    assert settings.WS_MAX_FRAME_BYTES >= settings.MESSAGE_MAX_CONTENT_BYTES + 4096  # the socket takes it too
    too_big = im(Client(), "msg_private_publish", token_for(alice), toUserId=bob.pk, objectName="RC:TxtMsg",
                 content="x" * (128 * 1024 + 1))
    assert too_big["status"] == 1
    settings.MESSAGE_MAX_CONTENT_BYTES = 16 * 1024  # the earlier cap, still a setting
    assert im(Client(), "msg_private_publish", token_for(alice), toUserId=bob.pk, objectName="RC:TxtMsg",
              content=text)["status"] == 1


@pytest.mark.django_db(transaction=True)
async def test_the_socket_carries_a_128k_message_both_ways(connect: Connect, alice: User, bob: User) -> None:
    """What the im/* apps may now send, the native socket takes too, and pushes to the reader:
    its frame limit has room for the largest content even from a client whose JSON encoder
    escapes every non-ASCII character (as this test's does: 6 bytes a character)."""
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    text = "字" * 43_000  # 129,000 bytes of UTF-8, just under 128 KiB with the JSON around it
    await a.ok("messages.send", {"type": 1, "content": {"text": text}, "to": bob.pk})
    assert (await b.push("onMessage"))["content"]["text"] == text
    refused = await a.call("messages.send", {"type": 1, "content": {"text": text + "字" * 800}, "to": bob.pk})
    assert refused["code"] == 422, refused  # over MESSAGE_MAX_CONTENT_BYTES: refused by the content rule


# --- 5. transfers in any coin, 225-character notes -------------------------------------------

@pytest.mark.django_db
def test_transfers_in_any_active_coin_with_the_documented_note(alice: User, bob: User) -> None:
    cny, usdt = coins(alice)
    note = "备" * 225  # content vchar(225)
    sent = im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=usdt.pk, amount="12.5",
              wallet_pwd="pay123", wrap=2, content=note)
    assert sent["status"] == 0 and sent["data"]["wrap"] == 2, sent
    remittance = Remittance.objects.get(pk=int(sent["data"]["transfer_id"]) // 10)
    assert remittance.coin_id == usdt.pk and remittance.description == note
    card = Message.objects.filter(type=Message.Type.REMITTANCE).latest("pk").content
    assert card["coinId"] == usdt.pk and card["amount"] == Decimal("12.500000")
    taken = im(Client(), "msg_redpack_accept", token_for(bob), transfer_id=sent["data"]["transfer_id"])
    assert taken["status"] == 0 and taken["data"]["amount"] == "12.500000"
    assert user_account(user=bob, coin=usdt).balance == Decimal("12.5")
    log = im(Client(), "msg_get_transfer", token_for(alice), transfer_id=sent["data"]["transfer_id"])["data"]
    assert log["coin_info"]["name"] == "usdt" and log["transfer_log"]["memo"] == note
    packet = im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="1",
                wallet_pwd="pay123", content=note)
    assert packet["status"] == 0 and RedPacket.objects.get().title == note
    assert im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="1",
              wallet_pwd="pay123", content=note + "!")["status"] == 1
    Coin.objects.filter(pk=usdt.pk).update(is_active=False)
    assert im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=usdt.pk, amount="1",
              wallet_pwd="pay123", wrap=2)["status"] == 5
    assert ledger_verify() == []


# --- 6. repeated accept, portraitUri --------------------------------------------------------

@pytest.mark.django_db
def test_a_repeated_accept_answers_4_and_portrait_is_a_string(alice: User, bob: User) -> None:
    cny, _ = coins(alice)
    sent = im(Client(), "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="3",
              wallet_pwd="pay123")
    tid = sent["data"]["transfer_id"]
    assert im(Client(), "msg_redpack_accept", token_for(bob), transfer_id=tid)["status"] == 0
    again = im(Client(), "msg_redpack_accept", token_for(bob), transfer_id=tid)
    assert again["status"] == 4, again  # "status=4 没有可领取的红包"
    assert user_account(user=bob, coin=cny).balance == Decimal("3")
    info = im(Client(), "user_info", token_for(bob))
    assert info["data"]["portraitUri"] == "" and info["status"] == 0  # portraitUri vchar(255)


# --- 7. plain transfers (wrap 0) ------------------------------------------------------------

def plain(alice: User, bob: User, coin: Coin, **params: Any) -> dict[str, Any]:
    return im(Client(), "wallet_transfer", token_for(alice), **{"toUserId": bob.pk, "coin_id": coin.pk,
                                                               "amount": "2.5", "wallet_pwd": "pay123", **params})


@pytest.mark.postgres
def test_a_plain_transfer_pays_at_once_and_shows_as_wrap_0(alice: User, bob: User, charlie: User) -> None:
    _, usdt = coins(alice)
    assert plain(alice, bob, usdt, wallet_pwd="nope12")["status"] == 8
    assert plain(alice, bob, usdt, wallet_pwd="")["status"] == 8
    assert plain(alice, bob, usdt, amount="51")["status"] == 7
    assert plain(alice, bob, usdt, amount="0.0000001")["status"] == 6
    assert plain(alice, bob, usdt, coin_id=999)["status"] == 5
    assert plain(alice, bob, usdt, toUserId=alice.pk)["status"] == 4  # a bad parameter (1 is success)
    assert plain(alice, bob, usdt, content="x" * 226)["status"] == 4
    sent = plain(alice, bob, usdt, content="test redpack")
    assert sent["status"] == 1 and sent["data"]["wrap"] == 0 and sent["data"]["transfer_id"].endswith("0"), sent
    assert plain(alice, bob, usdt, content="test redpack") == sent  # the app retried: paid once
    assert user_account(user=alice, coin=usdt).balance == Decimal("47.5")
    assert user_account(user=bob, coin=usdt).balance == Decimal("2.5")
    tid = sent["data"]["transfer_id"]
    for reader in (alice, bob):
        shown = im(Client(), "msg_get_transfer", token_for(reader), transfer_id=tid)
        assert shown["status"] == 1 and shown["msg"] == "成功"
        log = shown["data"]["transfer_log"]
        assert {k: log[k] for k in ("id", "from_user_id", "to_user_id", "coin_id", "amount", "memo", "status",
                                    "wrap")} == {
            "id": tid, "from_user_id": str(alice.pk), "to_user_id": str(bob.pk), "coin_id": str(usdt.pk),
            "amount": "2.500000", "memo": "test redpack", "status": "100", "wrap": "0"}
        assert set(shown["data"]) == {"from_user", "to_user", "coin_info", "transfer_log"}
        assert set(shown["data"]["to_user"]) == {"id", "name", "icon", "extra"}
    assert im(Client(), "msg_get_transfer", token_for(charlie), transfer_id=tid)["status"] == 4
    assert im(Client(), "msg_redpack_accept", token_for(bob), transfer_id=tid)["status"] == 4
    transfer = Transfer.objects.get()
    assert transfer.entry is not None and transfer.entry.kind == JournalEntry.Kind.TRANSFER
    assert transfer.entry.idempotency_key == f"transfer:{transfer.pk}"
    Block.objects.create(user=bob, blocked=alice)
    assert plain(alice, bob, usdt, content="blocked")["status"] == 3
    assert Message.objects.count() == 0  # no chat message
    assert ledger_verify() == []


@pytest.mark.postgres
def test_parallel_plain_transfers_pay_once_per_request_and_never_overdraw(alice: User, bob: User) -> None:
    _, usdt = coins(alice)  # alice holds 50 usdt
    results = run_parallel(4, lambda _: plain(alice, bob, usdt, amount="5", content="same request"))
    assert all(isinstance(r, dict) and r["status"] == 1 for r in results), results
    assert len({r["data"]["transfer_id"] for r in results}) == 1  # one request: one payment
    assert Transfer.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    # eight different requests of 6 each against the 45 left: at most 7 can be paid
    results = run_parallel(8, lambda i: plain(alice, bob, usdt, amount="6", clientMsgId=f"pay-{i}"))
    assert all(isinstance(r, dict) for r in results), results
    paid = [r for r in results if r["status"] == 1]
    assert len(paid) == 7 and [r["status"] for r in results if r["status"] != 1] == [7], results
    assert user_account(user=alice, coin=usdt).balance == Decimal("3")
    assert user_account(user=bob, coin=usdt).balance == Decimal("47")
    assert Transfer.objects.count() == 8 and ledger_verify() == []
