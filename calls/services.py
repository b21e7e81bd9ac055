"""Call signalling (docs/calls.md): create, start (join), stop (leave), cancel, the ring
timeout, and the call-record message a finished call leaves in its chat.

Every change of a call runs under its row lock (``SELECT ... FOR UPDATE``), so joins, leaves,
a cancel and the ring-timeout job see one another in order. A call closes when it is
cancelled or nobody is left in it; a one-to-one call also when one person is left and nobody
is still ringing.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import blockers_among
from calls import events
from calls import exceptions as codes
from calls.models import Call, CallParticipant
from chats.exceptions import NOT_A_MEMBER
from chats.models import Chat, ChatMember
from chats.selectors import chat_from_wire
from core.exceptions import BLACKLISTED, INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.realtime import send_event_on_commit
from core.sweep import sweep
from messaging import exceptions as message_codes
from messaging.models import Message
from messaging.services import friends_only_refuses


def _member_ids(chat: Chat) -> set[int]:
    if chat.kind == Chat.Kind.PRIVATE:
        return {uid for uid in (chat.user_low_id, chat.user_high_id) if uid is not None}
    return set(ChatMember.objects.filter(chat=chat).values_list("user_id", flat=True))


def new_channel_name() -> str:
    """A fresh Agora channel for one call: 128 random bits, so nobody can guess or reserve the
    channel of a call to come, and a channel is never used by two calls."""
    return f"call-{secrets.token_hex(16)}"


def call_create(*, user: User, to: list[int], chat_wire_id: int, is_meeting: bool, is_video: bool) -> Call:
    """Invite ``to`` (members of the chat) to a call on a channel the server names; push
    call.onInvite."""
    chat = chat_from_wire(chat_wire_id)
    members = _member_ids(chat)
    if user.pk not in members:
        raise ApplicationError(NOT_A_MEMBER, "you are not a member of this chat")
    invitees = sorted(set(to) - {user.pk})
    if not invitees:
        raise ApplicationError(INVALID, "invite at least one other member")
    if len(invitees) > settings.CALL_MAX_INVITEES:
        raise ApplicationError(INVALID, f"a call invites at most {settings.CALL_MAX_INVITEES} users")
    strangers = [uid for uid in invitees if uid not in members]
    if strangers:
        raise ApplicationError(INVALID, f"not members of this chat: {strangers}")
    blockers = blockers_among(invitees, user.pk)
    if blockers:
        raise ApplicationError(BLACKLISTED, f"these users have blacklisted you: {sorted(blockers)}")
    if chat.kind == Chat.Kind.PRIVATE and friends_only_refuses(user, invitees[0]):
        raise ApplicationError(message_codes.NOT_FRIENDS, "only friends can call each other")
    channel_name = new_channel_name()
    now = timezone.now()
    try:
        with transaction.atomic():
            call = Call.objects.create(creator=user, chat=chat, channel_name=channel_name, is_meeting=is_meeting,
                                       is_video=is_video,
                                       ring_until=now + timedelta(seconds=settings.CALL_RING_SECONDS))
            CallParticipant.objects.bulk_create(
                [CallParticipant(call=call, user=user, is_creator=True, enter_at=now, in_call=True)]
                + [CallParticipant(call=call, user_id=uid) for uid in invitees])
            send_event_on_commit("call.onInvite", events.call(call, invitees), invitees)
    except IntegrityError as exc:
        raise ApplicationError(codes.CHANNEL_BUSY, f"channel {channel_name!r} already has an open call") from exc
    call.invitee_ids = invitees  # type: ignore[attr-defined]
    return call


def _visible(user: User, call_id: int, *, lock: bool = False) -> tuple[Call, CallParticipant]:
    """The call and the caller's part in it; to anyone else the call does not exist."""
    calls = Call.objects.select_related("chat")
    if lock:
        calls = calls.select_for_update(of=("self",))
    call = calls.filter(pk=call_id).first()
    me = CallParticipant.objects.filter(call_id=call_id, user=user).first() if call else None
    if call is None or me is None:
        raise ApplicationError(NOT_FOUND, f"no call {call_id}")
    return call, me


def call_info(*, user: User, call_id: int) -> dict[str, Any]:
    call, _ = _visible(user, call_id)
    return events.info(call, _invitee_ids(call))


def _invitee_ids(call: Call) -> list[int]:
    return list(call.participants.filter(is_creator=False).order_by("user_id").values_list("user_id", flat=True))


@transaction.atomic
def call_cancel(*, user: User, call_id: int) -> Call:
    """The creator hangs up before (or instead of) the call: it closes for everyone."""
    call, me = _visible(user, call_id, lock=True)
    if not me.is_creator:
        raise ApplicationError(PERMISSION_DENIED, "only the call's creator can cancel it")
    if call.is_closed:
        raise ApplicationError(codes.CLOSED, "this call is already over")
    _close(call, Call.End.CANCELLED, timezone.now())
    return call


@transaction.atomic
def call_start(*, user: User, call_id: int) -> Call:
    """Join (answer) the call."""
    call, me = _visible(user, call_id, lock=True)
    if call.is_closed:
        raise ApplicationError(codes.CLOSED, "this call is already over")
    now = timezone.now()
    CallParticipant.objects.filter(pk=me.pk).update(in_call=True, enter_at=me.enter_at or now, missed=False)
    return call


@transaction.atomic
def call_stop(*, user: User, call_id: int) -> Call:
    """Leave the call (or decline it); push call.onLeave to the others. Leaving twice, or after
    the call closed, changes nothing."""
    call, me = _visible(user, call_id, lock=True)
    if call.is_closed or (me.leave_at is not None and not me.in_call):
        return call
    now = timezone.now()
    CallParticipant.objects.filter(pk=me.pk).update(in_call=False, leave_at=now)
    others = list(call.participants.exclude(user=user).values_list("user_id", flat=True))
    send_event_on_commit("call.onLeave", events.left(call, user.pk, _invitee_ids(call)), others)
    _close_if_over(call, now)
    return call


def _close_if_over(call: Call, now: datetime) -> None:
    """A call is over when nobody is in it; a one-to-one call (not a meeting) also when one
    person is left and nobody still rings (the other hung up or declined)."""
    people = list(call.participants.all())
    inside = sum(p.in_call for p in people)
    ringing = sum(p.ringing for p in people)
    if inside == 0 or (not call.is_meeting and inside == 1 and ringing == 0):
        invitees = [p for p in people if not p.is_creator]
        if any(p.enter_at for p in invitees):
            end = Call.End.ENDED
        elif invitees and all(p.leave_at and not p.missed for p in invitees):
            end = Call.End.DECLINED
        else:
            end = Call.End.MISSED
        _close(call, end, now)


def _close(call: Call, end: str, now: datetime) -> None:
    """Close the call under its lock: whoever still rings missed it and is told to stop
    ringing (call.onCancel); whoever is inside leaves; the chat gets the call record."""
    people = list(call.participants.all())
    ringing = [p.user_id for p in people if p.ringing]
    CallParticipant.objects.filter(call=call, pk__in=[p.pk for p in people if p.ringing]).update(missed=True)
    CallParticipant.objects.filter(call=call, in_call=True).update(in_call=False, leave_at=now)
    Call.objects.filter(pk=call.pk).update(closed_at=now, end=end)
    call.closed_at, call.end = now, end
    if end == Call.End.CANCELLED:
        ringing = [p.user_id for p in people if not p.is_creator]  # every invitee's call screen closes
    if ringing:
        send_event_on_commit("call.onCancel", events.cancelled(call, end), ringing)
    from messaging.services import service_message_post

    entered = [p.enter_at for p in people if p.enter_at and not p.is_creator]
    duration = int((now - min(entered)).total_seconds()) if entered else 0
    service_message_post(chat=call.chat, sender_id=call.creator_id, type_=Message.Type.CALL, sub_type=0,
                         content={"callId": call.pk, "from": call.creator_id, "isVideo": call.is_video,
                                  "isMeetingAV": call.is_meeting, "end": end, "duration": duration,
                                  "createAt": int(call.created_at.timestamp()), "closeAt": int(now.timestamp())})


def call_ring_timeout(*, call_id: int, now: datetime | None = None) -> bool:
    """The ring job for one call: invitees still ringing past ``ring_until`` missed it. True if
    this run changed the call."""
    now = now or timezone.now()
    with transaction.atomic():
        call = (Call.objects.select_for_update(of=("self",)).select_related("chat")
                .filter(pk=call_id, closed_at__isnull=True, ring_until__lte=now).first())
        if call is None:
            return False  # closed, or answered, meanwhile
        ringing = call.participants.filter(is_creator=False, enter_at__isnull=True, leave_at__isnull=True,
                                           missed=False)
        missed = list(ringing.values_list("user_id", flat=True))
        if missed:
            ringing.update(missed=True)
            send_event_on_commit("call.onCancel", events.cancelled(call, Call.End.MISSED), missed)
        _close_if_over(call, now)
        if not call.is_closed:  # a meeting goes on for those inside; nobody rings any more
            Call.objects.filter(pk=call.pk).update(ring_until=None)
    return True


def call_ring_due(*, now: datetime | None = None) -> int:
    """The beat job: end the ringing of every call past its ring time, and close every call
    that has reached ``CALL_MAX_SECONDS``. Safe to overlap. Returns the calls changed."""
    now = now or timezone.now()
    due = Call.objects.filter(closed_at__isnull=True, ring_until__lte=now)
    changed = sweep(due, lambda pk: call_ring_timeout(call_id=pk, now=now))
    overrun = Call.objects.filter(closed_at__isnull=True,
                                  created_at__lte=now - timedelta(seconds=settings.CALL_MAX_SECONDS))
    return changed + sweep(overrun, lambda pk: call_overrun(call_id=pk, now=now))


def calls_missed_offline(*, user: User) -> list[dict[str, Any]]:
    """call.queryOffline (the native API document): the calls the user missed that no earlier query returned."""
    with transaction.atomic():
        unseen = (CallParticipant.objects.select_for_update(of=("self",))
                  .filter(user=user, missed=True, offline_seen_at__isnull=True).select_related("call__chat")
                  .order_by("call_id"))
        rows = list(unseen)
        CallParticipant.objects.filter(pk__in=[p.pk for p in rows]).update(offline_seen_at=timezone.now())
    invitees = _invitees_of([p.call_id for p in rows])
    return [events.record(p.call, invitees.get(p.call_id, []), p) for p in rows]


def _invitees_of(call_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for call_id, uid in (CallParticipant.objects.filter(call_id__in=call_ids, is_creator=False)
                         .order_by("call_id", "user_id").values_list("call_id", "user_id")):
        out.setdefault(call_id, []).append(uid)
    return out


def call_records(*, user: User, kind: int, page: int, count: int) -> list[dict[str, Any]]:
    """call.queryRecord (the native API document): 0 one-to-one calls made and received, 1 made, 2 received,
    3 meetings; newest first."""
    mine: QuerySet[CallParticipant] = CallParticipant.objects.filter(user=user).select_related("call__chat")
    filters = {0: Q(call__is_meeting=False), 1: Q(call__is_meeting=False, is_creator=True),
               2: Q(call__is_meeting=False, is_creator=False), 3: Q(call__is_meeting=True)}
    start = (page - 1) * count
    rows = list(mine.filter(filters[kind]).order_by("-call_id")[start:start + count])
    invitees = _invitees_of([p.call_id for p in rows])
    return [events.record(p.call, invitees.get(p.call_id, []), p) for p in rows]


def token_deadline(*, user: User, channel_name: str, now: datetime | None = None) -> datetime:
    """Until when an RTC token for the open call on ``channel_name`` may be valid for ``user``.

    Only the creator and invitees of the open call get one, and only while they are in the
    call or still ringing (someone who declined or left answers with call.start first). While
    nobody has answered, a token ends with the ring time; once answered, it ends at the
    latest when the call reaches ``CALL_MAX_SECONDS`` (the ring job then closes it). Clients
    renew a token with call.token.create when Agora says it will expire.
    """
    now = now or timezone.now()
    me = (CallParticipant.objects.select_related("call")
          .filter(user=user, call__channel_name=channel_name, call__closed_at__isnull=True).first())
    if me is None:
        raise ApplicationError(PERMISSION_DENIED, "you are not in an open call on this channel")
    if not (me.in_call or me.ringing):
        raise ApplicationError(PERMISSION_DENIED, "join the call with call.start first")
    call = me.call
    answered = call.participants.filter(is_creator=False, enter_at__isnull=False).exists()
    if call.ring_until is not None and not answered:
        deadline = call.ring_until
    else:
        deadline = call.created_at + timedelta(seconds=settings.CALL_MAX_SECONDS)
    if deadline <= now:
        raise ApplicationError(codes.CLOSED, "this call has stopped ringing or reached its longest duration")
    return deadline


def call_overrun(*, call_id: int, now: datetime | None = None) -> bool:
    """Close a call that has lasted ``CALL_MAX_SECONDS``: its tokens are expiring and no new
    ones are issued. Those inside get call.onCancel with reason "ended". True if closed here."""
    now = now or timezone.now()
    with transaction.atomic():
        call = (Call.objects.select_for_update(of=("self",)).select_related("chat")
                .filter(pk=call_id, closed_at__isnull=True,
                        created_at__lte=now - timedelta(seconds=settings.CALL_MAX_SECONDS)).first())
        if call is None:
            return False
        inside = list(call.participants.filter(in_call=True).values_list("user_id", flat=True))
        _close(call, Call.End.ENDED, now)
        if inside:
            send_event_on_commit("call.onCancel", events.cancelled(call, Call.End.ENDED), inside)
    return True
