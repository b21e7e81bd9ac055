"""Every write of the red packets: create, grab, expire (docs/redpackets.md).

Lock order on every path: a share row, then the packet row, then the accounts (the ledger
locks them in pk order), then the chat row (creation posts its message last; a grab takes no
chat lock: its notice is a push, not a stored message). Grabs claim
different shares with ``SKIP LOCKED`` and meet only at the packet row, whose
``UPDATE ... WHERE status = 50 AND remaining_count > 0`` both counts the grab and refuses
one that lost to the last share or to expiry. Expiry claims the packet with a
compare-and-set and refunds what the grabs left, so a packet is never paid twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import User
from chats.models import Chat, ChatMember
from chats.selectors import chat_from_wire
from core.exceptions import INVALID, NOT_FOUND, ApplicationError
from core.realtime import send_event_on_commit
from core.sweep import sweep
from messaging.models import Message
from redpackets import exceptions as codes
from redpackets.models import RedPacket, RedPacketShare
from redpackets.split import lucky_split
from wallet import idempotency
from wallet.models import Account, Coin
from wallet.models import JournalEntry as Entry
from wallet.passwords import payment_password_check, payment_unlocked
from wallet.selectors import exact_sum
from wallet.services import (
    active_coin,
    ledger_transfer,
    parse_amount,
    system_account,
    user_account,
    wire_decimal,
)

CREATED, GRABBED = 100, 200  # message subTypes of type 2 (the native API document)


def is_member(user_id: int, chat: Chat) -> bool:
    if chat.kind == Chat.Kind.PRIVATE:
        return user_id in (chat.user_low_id, chat.user_high_id)
    return ChatMember.objects.filter(chat=chat, user_id=user_id).exists()


def _units(value: Decimal, coin: Coin, rounding: str) -> int:
    return int((value / coin.quantum).to_integral_value(rounding=rounding))


def _optional_amount(raw: Any, coin: Coin, *, least: Decimal) -> Decimal | None:
    """The amount, or None when not sent. A number under ``least`` (zero and negatives included)
    is the document's "share under the minimum" (402), before the coin's own rules (422)."""
    if raw is None:
        return None
    if wire_decimal(raw) < least:
        raise ApplicationError(codes.SHARE_TOO_SMALL, f"each share must be at least {settings.REDPACKET_MIN_SHARE}")
    return parse_amount(raw, coin)


def _plan(*, chat: Chat, type_: int, price: Any, total_price: Any, count: int, coin: Coin) -> tuple[Decimal, Decimal,
                                                                                                      int, list[int]]:
    """``(price, total, count, shares in coin units)`` for the request, or the seed's refusal."""
    if count < 1:
        raise ApplicationError(INVALID, "count must be at least 1")
    if count > settings.REDPACKET_MAX_COUNT:
        raise ApplicationError(codes.TOO_MANY, f"a red packet has at most {settings.REDPACKET_MAX_COUNT} shares")
    least = settings.REDPACKET_MIN_SHARE
    one = _optional_amount(price, coin, least=least)
    total = _optional_amount(total_price, coin, least=least * (1 if type_ == RedPacket.Type.SINGLE else count))
    if type_ == RedPacket.Type.SINGLE:
        if chat.kind != Chat.Kind.PRIVATE:
            raise ApplicationError(INVALID, "a single red packet (type 1) is for a private chat")
        if one is not None and total is not None and one != total:
            raise ApplicationError(INVALID, "price and total_price differ")
        count, one = 1, one if one is not None else total
        total = one
    elif type_ == RedPacket.Type.EQUAL:
        if one is None and total is not None:
            one = total / count
            if one != one.quantize(coin.quantum):
                raise ApplicationError(INVALID, f"total_price does not divide into {count} equal shares")
        if one is None:
            raise ApplicationError(INVALID, "price (one share) is required")
        if total is not None and total != one * count:
            raise ApplicationError(INVALID, "total_price is not price x count")
        total = one * count
    else:  # lucky
        if total is None:
            raise ApplicationError(INVALID, "total_price is required for a lucky packet")
        one = (total / count).quantize(coin.quantum, rounding=ROUND_FLOOR)
    if one is None or total is None:
        raise ApplicationError(INVALID, "an amount is required")
    minimum = _units(settings.REDPACKET_MIN_SHARE, coin, ROUND_CEILING)
    maximum = _units(settings.REDPACKET_MAX_SHARE, coin, ROUND_FLOOR)
    units = _units(total, coin, ROUND_FLOOR)
    if units < minimum * count or (type_ != RedPacket.Type.LUCKY and _units(one, coin, ROUND_FLOOR) < minimum):
        raise ApplicationError(codes.SHARE_TOO_SMALL, f"each share must be at least {settings.REDPACKET_MIN_SHARE}")
    if units > maximum * count or (type_ != RedPacket.Type.LUCKY and _units(one, coin, ROUND_FLOOR) > maximum):
        raise ApplicationError(codes.SHARE_TOO_LARGE, f"a share can be at most {settings.REDPACKET_MAX_SHARE}")
    if type_ == RedPacket.Type.LUCKY:
        shares = lucky_split(units, count, minimum=minimum, maximum=maximum)
    else:
        shares = [_units(one, coin, ROUND_FLOOR)] * count
    return one, total, count, shares


def redpacket_create(
    *, user: User, chat_wire_id: int, type_: int, title: str, price: Any, total_price: Any, count: int, password: str,
    coin_id: int | None = None, client_msg_id: str | None = None, password_required: bool = True,
) -> RedPacket:
    """Hold the total in escrow, split it into shares and post the packet (message 2/100).
    The coin is the default one unless ``coin_id`` names another active coin (the older im/* document's
    ``im/msg_redpack_publish`` lets the client choose).

    A repeated ``client_msg_id`` returns the first packet and moves nothing (wallet.idempotency);
    the same key with other parameters is refused with ``idempotency_conflict``.

    ``password_required=False`` is for the im/* facade's ``IM_REDPACK_WITHOUT_PASSWORD`` only:
    the login session authorises the payment, no payment password is asked (a payment lock
    still refuses it); every other check is the same."""
    request = idempotency.keyed(user_id=user.pk, method="redpacket.create", key=client_msg_id, params={
        "chatId": chat_wire_id, "type": type_, "title": title, "price": idempotency.amount_text(price),
        "total_price": idempotency.amount_text(total_price), "count": count, "coinId": coin_id})
    return idempotency.run_once(
        request, replay=lambda pk: RedPacket.objects.get(pk=pk),
        perform=lambda: _create(user=user, chat_wire_id=chat_wire_id, type_=type_, title=title, price=price,
                                total_price=total_price, count=count, password=password, coin_id=coin_id,
                                request=request, password_required=password_required))


def _create(
    *, user: User, chat_wire_id: int, type_: int, title: str, price: Any, total_price: Any, count: int, password: str,
    coin_id: int | None, request: idempotency.KeyedRequest | None, password_required: bool = True,
) -> RedPacket:
    coin = active_coin(coin_id)
    chat = chat_from_wire(chat_wire_id)
    one, total, count, shares = _plan(chat=chat, type_=type_, price=price, total_price=total_price, count=count,
                                      coin=coin)
    if password_required:
        payment_password_check(user=user, password=password)  # slow hashing: before any lock
    else:
        payment_unlocked(user=user)
    from messaging.services import service_message_send

    best = shares.index(max(shares)) if type_ == RedPacket.Type.LUCKY else -1
    with transaction.atomic():
        packet = RedPacket.objects.create(
            sender=user, chat=chat, coin=coin, type=type_, title=title, price=one, total_price=total, count=count,
            remaining_count=count,
            expires_at=timezone.now() + timedelta(seconds=settings.REDPACKET_EXPIRE_SECONDS))
        # Before the ledger: a concurrent call with the same key waits here, then fails.
        idempotency.remember(request, packet.pk)
        RedPacketShare.objects.bulk_create(
            RedPacketShare(packet=packet, index=i, amount=units * coin.quantum, is_best=i == best)
            for i, units in enumerate(shares))
        ledger_transfer(kind=Entry.Kind.REDPACKET_CREATE, source=user_account(user=user, coin=coin),
                        target=system_account(kind=Account.Kind.ESCROW, coin=coin), amount=total,
                        idempotency_key=f"redpacket:{packet.pk}:hold", memo=title or "red packet")
        # Last: membership, mute and the chat's rules are checked under the chat's row lock.
        service_message_send(sender=user, chat_wire_id=chat_wire_id, type_=Message.Type.RED_PACKET,
                             sub_type=CREATED, content={"redPacketId": packet.pk, "from": user.pk, "title": title,
                                                        "type": type_})
    return packet


def _visible(user: User, packet_id: int) -> RedPacket:
    packet = RedPacket.objects.select_related("chat", "coin").filter(pk=packet_id).first()
    if packet is None or not is_member(user.pk, packet.chat):
        # Only members of the chat may read a packet; to others it does not exist.
        raise ApplicationError(NOT_FOUND, f"no red packet {packet_id}")
    return packet


def redpacket_for_reader(*, user: User, packet_id: int) -> RedPacket:
    return _visible(user, packet_id)


# Table name and statuses are constants: no user input is formatted into these statements.
_COUNT_GRAB = " ".join([
    f"UPDATE {RedPacket._meta.db_table} SET remaining_count = remaining_count - 1,",  # noqa: S608
    f"status = CASE WHEN remaining_count = 1 THEN {RedPacket.Status.TAKEN} ELSE status END,",
    "finished_at = CASE WHEN remaining_count = 1 THEN %s ELSE finished_at END",
    f"WHERE id = %s AND status = {RedPacket.Status.ACTIVE} AND remaining_count > 0 AND expires_at > %s",
    "RETURNING remaining_count",
])


def redpacket_grab(*, user: User, packet_id: int) -> tuple[RedPacket, RedPacketShare | None]:
    """Take one share. Returns ``(packet, share)``; ``share`` is the user's earlier share when
    they had already grabbed (a repeated tap, from any device, takes nothing more)."""
    packet, share, _ = redpacket_take(user=user, packet_id=packet_id)
    return packet, share


def redpacket_take(*, user: User, packet_id: int) -> tuple[RedPacket, RedPacketShare | None, bool]:
    """``redpacket_grab`` that also says whether this call took the share (False: the user's
    earlier share, taken by an earlier call or by a concurrent tap from another device)."""
    packet = RedPacket.objects.select_related("chat", "coin").filter(pk=packet_id).first()
    if packet is None:
        raise no_packet(packet_id)
    if packet.sender_id == user.pk:
        raise own_packet()
    if not is_member(user.pk, packet.chat):
        raise not_a_member()
    mine = RedPacketShare.objects.filter(packet=packet, user=user).first()
    if mine is not None:
        return packet, mine, False
    now = timezone.now()
    _refuse_unless_active(packet, now)
    try:
        share = _claim_retrying(user, packet, now)
    except IntegrityError:  # the same user's other device won the race for a share
        mine = RedPacketShare.objects.filter(packet=packet, user=user).first()
        if mine is None:
            raise
        return packet, mine, False
    except ApplicationError as refused:
        # The same user's other tap may have taken the last free share while this one waited:
        # this tap answers with that share, not "all taken".
        mine = RedPacketShare.objects.filter(packet=packet, user=user).first()
        if mine is None or refused.code != codes.ALL_TAKEN:
            raise
        return packet, mine, False
    return packet, share, True


# The grab's refusals, worded once for the ordinary grab and the batched one (fastgrab).
def no_packet(packet_id: int) -> ApplicationError:
    return ApplicationError(NOT_FOUND, f"no red packet {packet_id}")


def own_packet() -> ApplicationError:
    return ApplicationError(codes.OWN_PACKET, "you cannot grab your own red packet")


def not_a_member() -> ApplicationError:
    return ApplicationError(codes.NOT_ALLOWED, "only members of the chat can grab this red packet")


def all_taken() -> ApplicationError:
    return ApplicationError(codes.ALL_TAKEN, "all shares of this red packet have been taken")


def _refuse_unless_active(packet: RedPacket, now: datetime) -> None:
    """Expired is answered from the deadline itself, not only once the expiry job has run."""
    if packet.status == RedPacket.Status.EXPIRED or (packet.status == RedPacket.Status.ACTIVE
                                                     and packet.expires_at <= now):
        raise ApplicationError(codes.EXPIRED, "this red packet has expired")
    if packet.status == RedPacket.Status.TAKEN:
        raise all_taken()


DEADLOCK_RETRIES = 3


def _claim_retrying(user: User, packet: RedPacket, now: datetime) -> RedPacketShare:
    """``_claim``, tried again when PostgreSQL broke a deadlock by rolling it back (seen once
    in hundreds of runs of 300 simultaneous taps, where a user's two devices and the waits for
    the last shares queue on the same rows): nothing of the rolled-back try is left."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _claim(user, packet, now)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "40P01" or attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


_FREE_SHARES = RedPacketShare.objects.filter(user__isnull=True).order_by("index")


@transaction.atomic
def _claim(user: User, packet: RedPacket, now: datetime) -> RedPacketShare:
    share: RedPacketShare | None = None
    for _ in range(5):  # SQLite has no row locks: a share another writer took first is retried
        share = _FREE_SHARES.select_for_update(skip_locked=True).filter(packet_id=packet.pk).first()
        if share is None:
            # Every free share is taken or held by a grab still in flight. Those grabs may roll
            # back (a user's second tap, a grab that lost to expiry) and free their shares, so
            # wait for them before answering "all taken": the first share still free after its
            # holder finished, or none. Only the last shares of a packet take this path.
            share = _FREE_SHARES.select_for_update().filter(packet_id=packet.pk).first()
        if share is None:
            break
        if RedPacketShare.objects.filter(pk=share.pk, user__isnull=True).update(user=user, grabbed_at=now):
            break
        share = None
    if share is None:
        raise all_taken()
    # Looked up before the packet row is locked: grabs of one packet queue from here to commit.
    source = system_account(kind=Account.Kind.ESCROW, coin=packet.coin)
    target = user_account(user=user, coin=packet.coin)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_GRAB, [now, packet.pk, now])
        row = cursor.fetchone()
    if row is None:  # expired, or finished, since we read it: this grab rolls back
        packet.refresh_from_db(fields=["status"])
        _refuse_unless_active(packet, now)
        raise all_taken()
    share.user, share.grabbed_at = user, now
    ledger_transfer(kind=Entry.Kind.REDPACKET_GRAB, source=source, target=target, amount=share.amount,
                    idempotency_key=f"redpacket:{packet.pk}:share:{share.index}", memo=packet.title or "red packet",
                    savepoint=False)  # a refusal rolls the whole grab back anyway
    notify_grab(packet, user.pk, share.amount, is_last=row[0] == 0, now=now)
    return share


def notify_grab(packet: RedPacket, user_id: int, amount: Decimal, *, is_last: bool, now: datetime) -> None:
    """onMessage(2,200) after commit: a notification, not a stored chat message (messageId and
    seq are null). It goes to the packet's sender and the grabber; the last grab's goes to
    every member, so every client can mark the packet finished. Pushing each grab to a whole
    group would cost members x shares deliveries per packet (docs/decisions.md)."""
    chat = packet.chat
    content = {"redPacketId": packet.pk, "from": packet.sender_id, "type": packet.type,
               "price": amount.quantize(packet.coin.quantum), "isLast": is_last}
    data = {"messageId": None, "chatId": chat.wire_id, "seq": None, "from": user_id, "type": Message.Type.RED_PACKET,
            "subType": GRABBED, "content": content, "clientMsgId": None, "createAt": int(now.timestamp())}
    if is_last:
        recipients = ([chat.user_low_id, chat.user_high_id] if chat.kind == Chat.Kind.PRIVATE
                      else list(ChatMember.objects.filter(chat=chat).values_list("user_id", flat=True)))
    else:
        recipients = [packet.sender_id, user_id]
    send_event_on_commit("onMessage", data, [uid for uid in recipients if uid is not None])


_CLAIM_EXPIRED = (
    f"UPDATE {RedPacket._meta.db_table} SET status = {RedPacket.Status.EXPIRED}, finished_at = %s "  # noqa: S608
    f"WHERE id = %s AND status = {RedPacket.Status.ACTIVE} AND expires_at <= %s"
)


def redpacket_expire(*, packet_id: int, now: datetime | None = None) -> Decimal | None:
    """Return what the grabs left of a packet past its deadline to its sender. Returns the
    refunded amount, or None if the packet was not due or is already finished (by its last
    grab or another run of the job)."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_EXPIRED, [now, packet_id, now])
            if cursor.rowcount != 1:
                return None
        # A grab that committed first has its share; one still in flight now fails on the
        # packet's status and rolls its share back, so the free shares are exactly the rest.
        rest = exact_sum(RedPacketShare.objects.filter(packet_id=packet_id, user__isnull=True), "amount")
        if rest > 0:
            packet = RedPacket.objects.select_related("coin", "sender").get(pk=packet_id)
            RedPacket.objects.filter(pk=packet_id).update(refunded=rest)
            ledger_transfer(kind=Entry.Kind.REDPACKET_REFUND,
                            source=system_account(kind=Account.Kind.ESCROW, coin=packet.coin),
                            target=user_account(user=packet.sender, coin=packet.coin), amount=rest,
                            idempotency_key=f"redpacket:{packet_id}:refund", memo="red packet expired")
    return rest


def redpacket_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """The beat job: expire every active packet past its deadline; returns how many this run
    finished. Safe to run twice at once (each packet is claimed by compare-and-set)."""
    now = now or timezone.now()
    due = RedPacket.objects.filter(status=RedPacket.Status.ACTIVE, expires_at__lte=now)
    return sweep(due, lambda pk: redpacket_expire(packet_id=pk, now=now) is not None, batch=batch)
