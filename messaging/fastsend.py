"""The fast path of ``messages.send`` on the native socket: sends are stored in batches.

A send over the socket does not take a database thread, a connection and a transaction of its
own. It joins the process's next batch: one thread hop, one transaction and, on PostgreSQL, two
round trips for the whole batch (one statement locks the batch's chats in id order, then every
message is one pipelined statement that checks the sender, takes the chat's next seq and inserts
the message). The replies go out once the batch has committed, so a message is still durable
before its sender hears of it; the pushes leave as on the ordinary path, after commit. While one
batch is in the database the next one fills up: under load, batches grow and the cost of a
commit is shared (group commit); alone, a send waits for nobody.

Only the common case takes this path: a text, location or custom message to a chat this process
has already seen (``services``' chat cache), checked entirely in SQL (the blacklist, a shared
group's whisper ban, the friends-only switch, group membership, mutes, a repeated
``clientMsgId``). Everything else, and every send the statement does not store (a refusal, a
group with content rules for its members, a resend), goes the ordinary way (``services.
message_send``), which re-checks and answers exactly as it always did: this path never refuses
anything itself. A batch that fails as a whole (a resend racing its first copy hits the unique
constraint, a deadlock, a lost connection) is rolled back and each of its sends goes the
ordinary way.
"""
# ruff: noqa: S608 - the statements name the models' tables; every value is a parameter
from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Block, Friendship, User
from chats.models import Chat, ChatMember
from core import jsonwire, metrics, throttle
from core.appconfig import app_config
from core.gateway import batching
from core.gateway.batching import Call
from core.gateway.registry import RpcContext
from core.gateway.threads import run_sync
from core.realtime import send_event_on_commit
from messaging import content as rules
from messaging import services
from messaging.models import Message

log = logging.getLogger(__name__)


FAST_TYPES = frozenset({Message.Type.TEXT, Message.Type.LOCATION, Message.Type.CUSTOM})
INT64_MAX = 2**63 - 1

_M, _C, _CM = Message._meta.db_table, Chat._meta.db_table, ChatMember._meta.db_table
_B, _F, _U = Block._meta.db_table, Friendship._meta.db_table, User._meta.db_table

# Whether the sender may post, evaluated under the chat's row lock (taken by the batch's first
# statement), mirroring services._enforce. A private chat: the peer has not blacklisted the
# sender, no group both are in bans whispers while the sender is an ordinary member there, and
# the friends-only switch allows it. A group: the sender is a member and, unless an owner or
# admin, neither muted nor subject to content rules (those are checked the ordinary way).
_MAY_POST = f"""
CASE WHEN %(private)s::boolean THEN
    NOT EXISTS (SELECT 1 FROM {_B} b WHERE b.user_id = %(peer)s::bigint AND b.blocked_id = %(sender)s::bigint)
    AND NOT EXISTS (
        SELECT 1 FROM {_CM} u JOIN {_C} g ON g.id = u.chat_id JOIN {_CM} v ON v.chat_id = u.chat_id
        WHERE u.user_id = %(sender)s::bigint AND u.role = {ChatMember.Role.MEMBER} AND g.ban_whisper
          AND v.user_id = %(peer)s::bigint)
    AND (NOT %(friends_only)s::boolean
         OR EXISTS (SELECT 1 FROM {_U} p WHERE p.id = %(peer)s::bigint AND p.is_internal)
         OR EXISTS (SELECT 1 FROM {_F} f WHERE f.user_id = %(sender)s::bigint AND f.friend_id = %(peer)s::bigint))
ELSE
    EXISTS (
        SELECT 1 FROM {_CM} m JOIN {_C} g ON g.id = m.chat_id
        WHERE m.chat_id = %(chat)s::bigint AND m.user_id = %(sender)s::bigint
          AND (m.role <> {ChatMember.Role.MEMBER}
               OR ((m.muted_until IS NULL OR m.muted_until <= %(now)s::timestamptz)
                   AND NOT (g.ban_send_web_link OR g.ban_send_keyword OR g.ban_send_dm_mention
                            OR g.ban_send_qrcode))))
END
AND (%(cmid)s::varchar IS NULL OR NOT EXISTS (
    SELECT 1 FROM {_M} d WHERE d.sender_id = %(sender)s::bigint AND d.client_msg_id = %(cmid)s::varchar))
"""

# PostgreSQL: one statement for the whole batch. Each row of ``i`` is a send (``ord``: its place
# in the batch); ``ok`` keeps those the sender may post, numbered per chat in arrival order; each
# chat's ``last_seq`` moves by its count, and its sends take the seqs in between, in order: the
# seqs stay gap-free and in arrival order within a chat, as one send at a time would leave them.
# The same check with the send's values taken from the row of ``i`` (the time stays a parameter).
_MAY_POST_SET = re.sub(r"%\((?!now\))(\w+)\)s::\w+", r"i.\1", _MAY_POST)
_SET_COLUMNS = "ord, chat, sender, peer, private, friends_only, type, content, cmid"
_POST_PG = f"""
WITH i AS (
    SELECT * FROM unnest(%(ord)s::int[], %(chat)s::bigint[], %(sender)s::bigint[], %(peer)s::bigint[],
                         %(private)s::boolean[], %(friends_only)s::boolean[], %(type)s::smallint[],
                         %(content)s::jsonb[], %(cmid)s::varchar[]) AS t({_SET_COLUMNS})
), ok AS MATERIALIZED (
    SELECT i.*, row_number() OVER (PARTITION BY i.chat ORDER BY i.ord) AS rn
    FROM i WHERE {_MAY_POST_SET}
), n AS (
    SELECT chat, count(*) AS k FROM ok GROUP BY chat
), s AS (
    UPDATE {_C} c SET last_seq = c.last_seq + n.k, updated_at = %(now)s::timestamptz
    FROM n WHERE c.id = n.chat
    RETURNING c.id, c.last_seq - n.k AS base
), m AS (
    INSERT INTO {_M} (chat_id, seq, sender_id, type, sub_type, content, client_msg_id, created_at, recalled_at)
    SELECT ok.chat, s.base + ok.rn, ok.sender, ok.type, 0, ok.content, ok.cmid, %(now)s::timestamptz, NULL
    FROM ok JOIN s ON s.id = ok.chat
    RETURNING id, chat_id, seq
)
SELECT ok.ord, m.id, m.seq FROM m JOIN s ON s.id = m.chat_id JOIN ok ON ok.chat = m.chat_id AND ok.rn = m.seq - s.base
"""
_LOCK_PG = f"SELECT id FROM {_C} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
_MEMBERS_PG = f"SELECT chat_id, user_id FROM {_CM} WHERE chat_id = ANY(%s)"


def _for_sqlite(sql: str) -> str:
    """The same statement for SQLite: named parameters, no casts."""
    return re.sub(r"%\((\w+)\)s(::\w+)?", r":\1", sql)


# SQLite (one writer at a time, in process): the seq, then the row, one statement each.
_SEQ_SQLITE = _for_sqlite(
    f"UPDATE {_C} SET last_seq = last_seq + 1, updated_at = %(now)s WHERE id = %(chat)s AND ({_MAY_POST}) "
    "RETURNING last_seq")
_INSERT_SQLITE = (f"INSERT INTO {_M} (chat_id, seq, sender_id, type, sub_type, content, client_msg_id, created_at, "
                  "recalled_at) VALUES (:chat, :seq, :sender, :type, 0, :content, :cmid, :now, NULL)")


@dataclass(eq=False, slots=True)
class _Send(Call):
    ctx: RpcContext
    chat: Chat
    peer: int | None  # the other user of a private chat
    type_: int
    content: dict[str, Any]
    cmid: str | None
    spent: bool = False  # counted against MESSAGES_PER_MINUTE already


def _int64(value: Any, low: int) -> bool:
    return type(value) is int and low <= value <= INT64_MAX


def _prepare(ctx: RpcContext, raw: Any) -> tuple[Chat, int | None, int, dict[str, Any], str | None] | None:
    """The send's chat and fields when it can take the fast path, else None. Anything unusual
    (a parameter DRF would coerce or refuse, content that would be refused, an unknown chat)
    goes the ordinary way, which answers it exactly as always."""
    if not isinstance(raw, dict):
        return None
    to, wire_id, type_, cmid = raw.get("to"), raw.get("chatId"), raw.get("type"), raw.get("clientMsgId")
    if type(type_) is not int or type_ not in FAST_TYPES:
        return None
    if cmid is not None and not (isinstance(cmid, str) and 0 < len(cmid) <= 64 and cmid == cmid.strip()
                                 and "\x00" not in cmid):
        return None
    sender_id = ctx.user.pk
    if "to" in raw and "chatId" not in raw:
        if not _int64(to, 1) or to == sender_id:
            return None
        cached = services._pair_shells.get((min(sender_id, to), max(sender_id, to)))
        peer = to
    elif "chatId" in raw and "to" not in raw:
        if not isinstance(wire_id, int) or not _int64(wire_id, -INT64_MAX):
            return None
        cached = services._wire_shells.get(wire_id)
        peer = None
        if cached is not None and cached.kind == Chat.Kind.PRIVATE:
            if sender_id not in (cached.user_low_id, cached.user_high_id):
                return None
            peer = cached.user_high_id if cached.user_low_id == sender_id else cached.user_low_id
    else:
        return None
    if cached is None:
        return None
    try:
        content = rules.normalize(type_, jsonwire.plain(raw.get("content")))
    except Exception:  # refused the ordinary way, with its own message
        return None
    return cached, peer, type_, content, cmid


def _spend(batch: Sequence[_Send]) -> None:
    """MESSAGES_PER_MINUTE for the whole batch, in one round trip on Redis. A send over the
    limit is left unspent, for the ordinary way to refuse (429); like every limit, it fails
    open while Redis is down."""
    allowed = throttle.spend_each([f"messages:{send.ctx.user.pk}" for send in batch],
                                  settings.MESSAGES_PER_MINUTE, 60)
    for send, ok in zip(batch, allowed, strict=True):
        send.spent = ok


def _params(send: _Send, now: datetime, friends_only: bool) -> dict[str, Any]:
    sender = send.ctx.user
    return {
        "private": send.chat.kind == Chat.Kind.PRIVATE, "peer": send.peer, "sender": sender.pk,
        "friends_only": friends_only and not sender.is_internal, "chat": send.chat.pk, "now": now,
        "cmid": send.cmid, "type": send.type_,
    }


def _store(batch: Sequence[_Send]) -> None:
    """Runs on a database thread: spend the rate limit, store what may be stored in one
    transaction, and set each stored send's reply. Pushes leave after commit."""
    _spend(batch)
    stored = [send for send in batch if send.spent]
    if not stored:
        return
    # Each chat's sends in arrival order; chats in id order, the order their rows are locked in.
    stored.sort(key=lambda send: send.chat.pk)
    now = timezone.now()
    friends_only = app_config().only_friend_chat
    with transaction.atomic():
        connection.ensure_connection()
        if connection.vendor == "postgresql":
            rows, members = _store_pg(stored, now, friends_only)
        else:
            rows, members = _store_sqlite(stored, now, friends_only), None
        created = int(now.timestamp())
        for send, row in zip(stored, rows, strict=True):
            if row is None:
                continue  # not stored: the ordinary way decides
            message_id, seq = row
            chat = send.chat
            recipients = (services._recipients(chat) if members is None or chat.kind == Chat.Kind.PRIVATE
                          else members.get(chat.pk, []))
            send_event_on_commit("onMessage", {
                "messageId": message_id, "chatId": chat.wire_id, "seq": seq, "from": send.ctx.user.pk,
                "type": send.type_, "subType": 0, "content": send.content, "clientMsgId": send.cmid,
                "createAt": created,
            }, recipients, exclude_channel=send.ctx.channel_name)
            send.reply = {"messageId": message_id, "chatId": chat.wire_id, "seq": seq, "createAt": created}
    metrics.MESSAGES_STORED.labels("batched").inc(sum(1 for row in rows if row is not None))  # committed


def _store_pg(stored: list[_Send], now: datetime,
              friends_only: bool) -> tuple[list[tuple[int, int] | None], dict[int, list[int]]]:
    chats = sorted({send.chat.pk for send in stored})
    columns: dict[str, list[Any]] = {name: [] for name in _SET_COLUMNS.split(", ")}
    first: set[tuple[int, str]] = set()
    for place, send in enumerate(stored):
        if send.cmid is not None:
            if (send.ctx.user.pk, send.cmid) in first:
                continue  # a resend within the batch: the ordinary way answers it after commit
            first.add((send.ctx.user.pk, send.cmid))
        p = _params(send, now, friends_only)
        p["ord"], p["content"] = place, jsonwire.dumps(send.content)
        for name, values in columns.items():
            values.append(p[name])
    found: dict[int, tuple[int, int]] = {}
    with batching.prepared_cursor() as cur:
        cur.execute(_LOCK_PG, [chats])
        cur.execute(_POST_PG, {**columns, "now": now})
        for place, message_id, seq in cur.fetchall():
            found[place] = (message_id, seq)
        members: dict[int, list[int]] = {}
        groups = sorted({stored[place].chat.pk for place in found if stored[place].chat.kind != Chat.Kind.PRIVATE})
        if groups:
            cur.execute(_MEMBERS_PG, [groups])
            for chat_id, user_id in cur.fetchall():
                members.setdefault(chat_id, []).append(user_id)
    return [found.get(place) for place in range(len(stored))], members


def _store_sqlite(stored: list[_Send], now: datetime, friends_only: bool) -> list[tuple[int, int] | None]:
    content_field = Message._meta.get_field("content")
    raw = connection.connection
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows: list[tuple[int, int] | None] = []
    cur = raw.cursor()
    try:
        for send in stored:
            p = _params(send, now, friends_only)
            p["now"] = stamp
            found = cur.execute(_SEQ_SQLITE, p).fetchone()
            if found is None:
                rows.append(None)
                continue
            p["seq"] = found[0]
            p["content"] = content_field.get_db_prep_save(send.content, connection)
            cur.execute(_INSERT_SQLITE, p)
            rows.append((cur.lastrowid, found[0]))
    finally:
        cur.close()
    return rows


# Sends to one chat are never in two batches in the database at once: they are stored in the
# order they arrived, whatever the number of batches running.
BATCHES = batching.batcher("messages.send", _store, lambda: settings.MESSAGES_BATCH_MAX,
                           lambda: settings.MESSAGES_BATCH_CONCURRENCY, key=lambda send: send.chat.pk)


async def send(ctx: RpcContext, raw: Any, turn: Callable[[], Awaitable[None]] | None = None) -> dict[str, Any] | None:
    """The reply to a ``messages.send``: stored by a batch, or else sent the ordinary way
    (``slow``, told whether the batch counted it against the rate limit already; after ``turn``,
    when the socket's earlier sends are done). None when it cannot take this path at all: the
    caller then sends it the ordinary way."""
    if not settings.MESSAGES_BATCHED:
        return None
    prepared = _prepare(ctx, raw)
    if prepared is None and turn is not None:
        # Perhaps an earlier send of this socket, not done yet, is looking the chat up: once it
        # is, this one finds the chat and takes the batch too.
        await turn()
        prepared = _prepare(ctx, raw)
    if prepared is None:
        return None
    chat, peer, type_, content, cmid = prepared
    item = _Send(ctx, chat, peer, type_, content, cmid)
    reply = await BATCHES.call(item)
    if reply is None:
        if turn is not None:
            await turn()
        return await run_sync(slow)(ctx, raw, spent=item.spent)
    return reply


def slow(ctx: RpcContext, raw: Any, *, spent: bool = False) -> dict[str, Any]:
    """``messages.send`` the ordinary way (validation, checks, one transaction of its own)."""
    from core.gateway import registry
    from messaging.rpc import send_validated

    method = registry.get("messages.send")
    assert method is not None
    with throttle.serving(ctx.ip):
        return send_validated(ctx, method.admit(ctx, raw), spent=spent)
