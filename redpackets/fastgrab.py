# ruff: noqa: S608 - the statements name the models' tables; every value is a parameter
"""The fast path of ``redpacket.get`` (a grab) on the native socket, on PostgreSQL: grabs are
paid in batches.

When 300 members tap one packet at once, each grab on its own queues on the same two rows (the
packet and the coin's escrow account) for about eighteen statements and a commit. Here the
grabs that arrive together are paid by one transaction with a fixed number of set-based
statements, whatever their number: the free shares are claimed (``SKIP LOCKED``), the packet
row counts them all at once, the grabbers' accounts are made if new, every account is locked in
primary-key order, and one journal entry per grab (two postings, the running balances, the same
idempotency key ``redpacket:<id>:share:<index>``) is written in bulk. The lock order is the
ordinary grab's (shares, then packets in id order, then accounts in key order), so the two
paths never deadlock. Pushes leave after commit as on the ordinary path; the last share's
notice goes to every member.

A grab the batch can answer from what it read (not a member, the sender's own packet, expired,
all taken, no such packet) is answered the same way the ordinary path answers it. Anything else
(a repeated tap, a user whose login must be re-checked and is not live, a share held by a grab
still in flight, a packet in a private chat...) goes the ordinary way, which answers exactly as
before. SQLite has no row locks to share out: there, every grab goes the ordinary way.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AuthSession, User
from chats.models import Chat, ChatMember
from core.exceptions import ApplicationError
from core.gateway import batching
from core.gateway.batching import Call
from core.gateway.registry import RpcContext
from redpackets.models import RedPacket, RedPacketShare
from redpackets.selectors import grabbers
from redpackets.services import _refuse_unless_active, all_taken, no_packet, not_a_member, notify_grab, own_packet
from wallet.models import Account, JournalEntry, Posting
from wallet.services import exact_arithmetic, system_account

INT64_MAX = 2**63 - 1
_P, _S, _A = RedPacket._meta.db_table, RedPacketShare._meta.db_table, Account._meta.db_table
_J, _PO, _CM = JournalEntry._meta.db_table, Posting._meta.db_table, ChatMember._meta.db_table
_SESSIONS, _USERS = AuthSession._meta.db_table, User._meta.db_table

_LIVE = (f"SELECT s.id FROM {_SESSIONS} s JOIN {_USERS} u ON u.id = s.user_id "
         "WHERE s.id = ANY(%s) AND s.user_id = ANY(%s) AND u.is_active AND s.revoked_at IS NULL AND s.expires_at > %s")
_MEMBERS = f"SELECT chat_id, user_id FROM {_CM} WHERE chat_id = ANY(%s) AND user_id = ANY(%s)"
_HOLDERS = f"SELECT packet_id, user_id FROM {_S} WHERE packet_id = ANY(%s) AND user_id = ANY(%s)"
_FREE_WAIT = (f"SELECT id, index, amount FROM {_S} WHERE packet_id = %s AND user_id IS NULL ORDER BY index "
              "LIMIT %s FOR UPDATE")
_FREE = f"{_FREE_WAIT} SKIP LOCKED"
_COUNT = (f"UPDATE {_P} SET remaining_count = remaining_count - %(n)s, "
          f"status = CASE WHEN remaining_count = %(n)s THEN {RedPacket.Status.TAKEN} ELSE status END, "
          "finished_at = CASE WHEN remaining_count = %(n)s THEN %(now)s ELSE finished_at END "
          f"WHERE id = %(id)s AND status = {RedPacket.Status.ACTIVE} AND remaining_count >= %(n)s "
          "AND expires_at > %(now)s RETURNING remaining_count")
_ASSIGN = (f"UPDATE {_S} s SET user_id = v.u, grabbed_at = %s FROM unnest(%s::bigint[], %s::bigint[]) v(id, u) "
           "WHERE s.id = v.id")
_NEW_ACCOUNTS = (f"INSERT INTO {_A} (kind, owner_id, coin_id, balance, created_at) "
                 f"SELECT '{Account.Kind.USER}', u, c, 0, %s FROM unnest(%s::bigint[], %s::bigint[]) v(u, c) "
                 f"ON CONFLICT (owner_id, coin_id) WHERE kind = '{Account.Kind.USER}' DO NOTHING")
_USER_ACCOUNTS = (f"SELECT a.id, a.owner_id, a.coin_id FROM {_A} a JOIN unnest(%s::bigint[], %s::bigint[]) v(u, c) "
                  f"ON a.owner_id = v.u AND a.coin_id = v.c WHERE a.kind = '{Account.Kind.USER}'")
_LOCK_ACCOUNTS = f"SELECT id, balance FROM {_A} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
_ENTRIES = (f"INSERT INTO {_J} (kind, idempotency_key, memo, created_by_id, created_at) "
            f"SELECT {JournalEntry.Kind.REDPACKET_GRAB}, k, m, NULL, %s FROM unnest(%s::varchar[], %s::varchar[]) "
            "WITH ORDINALITY v(k, m, n) ORDER BY n RETURNING id, idempotency_key")
_BALANCES = f"UPDATE {_A} a SET balance = v.b FROM unnest(%s::bigint[], %s::numeric[]) v(id, b) WHERE a.id = v.id"
_POSTINGS = (f"INSERT INTO {_PO} (entry_id, account_id, amount, balance_after) "
             "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::numeric[])")


@dataclass(eq=False, slots=True)
class _Grab(Call):
    ctx: RpcContext
    packet_id: int


def _store(batch: Sequence[_Grab]) -> None:
    """Runs on a database thread: pay what the batch can pay in one transaction and set each
    grab's reply (a result, a refusal, or None for the ordinary way)."""
    now = timezone.now()
    with transaction.atomic(), exact_arithmetic(), batching.prepared_cursor() as cur:
        _pay(cur, batch, now)


def _pay(cur: psycopg.Cursor[Any], batch: Sequence[_Grab], now: datetime) -> None:
    # One grab per user and packet in a batch: a second tap goes the ordinary way (it answers
    # with the share the first one got).
    seen: set[tuple[int, int]] = set()
    grabs: list[_Grab] = []
    for grab in batch:
        key = (grab.ctx.user.pk, grab.packet_id)
        if key not in seen:
            seen.add(key)
            grabs.append(grab)
    users = sorted({g.ctx.user.pk for g in grabs})
    # A money method re-checks that the caller's login is live (registry._login_still_valid).
    sessions = [g.ctx.session_id for g in grabs if g.ctx.session_id is not None]
    live = {row[0] for row in cur.execute(_LIVE, [sessions, users, now]).fetchall()} if sessions else set()
    grabs = [g for g in grabs if g.ctx.session_id in live]
    packets = {p.pk: p for p in RedPacket.objects.select_related("chat", "coin")
               .filter(pk__in={g.packet_id for g in grabs})}
    by_packet: dict[int, list[_Grab]] = defaultdict(list)
    for grab in grabs:
        packet = packets.get(grab.packet_id)
        if packet is None:
            grab.reply = no_packet(grab.packet_id)
        elif packet.sender_id == grab.ctx.user.pk:
            grab.reply = own_packet()
        elif packet.chat.kind == Chat.Kind.PRIVATE:
            continue  # one grabber at most: nothing to share out
        else:
            by_packet[packet.pk].append(grab)
    if not by_packet:
        return
    chats = sorted({packets[pid].chat_id for pid in by_packet})
    candidates = sorted({g.ctx.user.pk for gs in by_packet.values() for g in gs})
    members = set(cur.execute(_MEMBERS, [chats, candidates]).fetchall())
    holders = set(cur.execute(_HOLDERS, [sorted(by_packet), candidates]).fetchall())
    paid: list[tuple[_Grab, RedPacket, int, int, Decimal]] = []  # grab, packet, share id, index, amount
    last: dict[int, int] = {}  # packet id -> the share index that finished it
    for pid in sorted(by_packet):  # packet rows locked in id order
        packet = packets[pid]
        eligible = []
        for grab in by_packet[pid]:
            uid = grab.ctx.user.pk
            if (packet.chat_id, uid) not in members:
                grab.reply = not_a_member()
            elif (pid, uid) in holders:
                continue  # grabbed before: the ordinary way answers with that share
            else:
                try:
                    _refuse_unless_active(packet, now)
                except ApplicationError as refused:
                    grab.reply = refused
                else:
                    eligible.append(grab)
        if not eligible:
            continue
        free = cur.execute(_FREE, [pid, len(eligible)]).fetchall()
        if len(free) < len(eligible):
            # The other free shares are held by grabs in flight (another batch, an ordinary
            # grab): wait for them, as the ordinary grab does, rather than answer "all taken"
            # while they might still come free.
            free = cur.execute(_FREE_WAIT, [pid, len(eligible)]).fetchall()
        if free:
            counted = cur.execute(_COUNT, {"n": len(free), "now": now, "id": pid}).fetchone()
            if counted is None:
                continue  # expired or finished meanwhile: the ordinary way answers
            for grab, (share_id, index, amount) in zip(eligible, free, strict=False):
                paid.append((grab, packet, share_id, index, amount))
            if counted[0] == 0:
                last[pid] = free[-1][1]
            else:
                continue  # shares left: everyone eligible was paid
        # No share is free any more, nor held by a grab in flight: the rest are refused as the
        # ordinary grab refuses them (expired, or all taken), unless a tap of theirs on another
        # device won a share meanwhile (the ordinary way answers with it).
        unpaid = eligible[len(free):]
        if not unpaid:
            continue
        packet.status, packet.expires_at = RedPacket.objects.filter(pk=pid).values_list("status", "expires_at").get()
        won = {uid for _, uid in cur.execute(_HOLDERS, [[pid], [g.ctx.user.pk for g in unpaid]]).fetchall()}
        for grab in unpaid:
            if grab.ctx.user.pk in won:
                continue
            try:
                _refuse_unless_active(packet, now)
            except ApplicationError as refused:
                grab.reply = refused
            else:
                grab.reply = all_taken()
    if not paid:
        return
    cur.execute(_ASSIGN, [now, [p[2] for p in paid], [p[0].ctx.user.pk for p in paid]])
    _post(cur, paid, now)
    _reply_and_notify(paid, last, now)


def _post(cur: psycopg.Cursor[Any], paid: list[tuple[_Grab, RedPacket, int, int, Decimal]], now: datetime) -> None:
    """One REDPACKET_GRAB entry per share: escrow -> grabber, as ledger_transfer writes it."""
    owners = [p[0].ctx.user.pk for p in paid]
    coins = [p[1].coin_id for p in paid]
    cur.execute(_NEW_ACCOUNTS, [now, owners, coins])
    account_of = {(owner, coin): aid for aid, owner, coin in cur.execute(_USER_ACCOUNTS, [owners, coins]).fetchall()}
    escrow_of = {coin: system_account(kind=Account.Kind.ESCROW, coin=packet.coin).pk
                 for coin, packet in {p[1].coin_id: p[1] for p in paid}.items()}
    ids = sorted(set(account_of.values()) | set(escrow_of.values()))
    balance = {aid: Decimal(b) for aid, b in cur.execute(_LOCK_ACCOUNTS, [ids]).fetchall()}
    keys = [f"redpacket:{packet.pk}:share:{index}" for _, packet, _, index, _ in paid]
    memos = [(packet.title or "red packet")[:255] for _, packet, _, _, _ in paid]
    entry_of = dict((key, eid) for eid, key in cur.execute(_ENTRIES, [now, keys, memos]).fetchall())
    if len(entry_of) != len(paid):
        raise RuntimeError("journal entries not all written")
    entries, accounts, amounts, after = [], [], [], []
    for (grab, packet, _, _, amount), key in zip(paid, keys, strict=True):
        escrow, target = escrow_of[packet.coin_id], account_of[(grab.ctx.user.pk, packet.coin_id)]
        for aid, delta in ((escrow, -amount), (target, amount)):
            balance[aid] += delta
            if balance[aid] < 0:
                raise RuntimeError("escrow below zero")  # rolled back: the ordinary way refuses
            entries.append(entry_of[key])
            accounts.append(aid)
            amounts.append(delta)
            after.append(balance[aid])
    cur.execute(_BALANCES, [ids, [balance[aid] for aid in ids]])
    cur.execute(_POSTINGS, [entries, accounts, amounts, after])


def _reply_and_notify(paid: list[tuple[_Grab, RedPacket, int, int, Decimal]], last: dict[int, int],
                      now: datetime) -> None:
    lists = {packet.pk: grabbers(packet) for packet in {p[1].pk: p[1] for p in paid}.values()}
    for grab, packet, _, index, amount in paid:
        notify_grab(packet, grab.ctx.user.pk, amount, is_last=last.get(packet.pk) == index, now=now)
        grab.reply = {"users": lists[packet.pk]}


BATCHES = batching.batcher("redpacket.get", _store, lambda: settings.REDPACKET_GRAB_BATCH_MAX,
                           lambda: settings.REDPACKET_GRAB_BATCH_CONCURRENCY)


async def grab(ctx: RpcContext, raw: Any) -> Any:
    """The reply to a ``redpacket.get`` paid (or refused) by a batch, or None for the caller to
    take it the ordinary way."""
    if (not settings.REDPACKET_GRABS_BATCHED or connection.vendor != "postgresql" or not isinstance(raw, dict)
            or set(raw) != {"redPacketId"}):
        return None
    packet_id = raw["redPacketId"]
    if type(packet_id) is not int or not 1 <= packet_id <= INT64_MAX:
        return None
    reply = await BATCHES.call(_Grab(ctx, packet_id))
    if reply is None:
        return None
    if isinstance(reply, ApplicationError):
        raise reply
    return reply

