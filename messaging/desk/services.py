"""Every write of the desk: registering users (the J-IM document initUser/getReceiver), routing visitors
to agents, the waiting queue, closing conversations, the chat list's read marks (chatInfo).

Routing runs under one lock (``DeskLock``), so each decision sees every earlier one committed:
no agent's load is counted twice and no visitor is assigned twice (docs/jim.md#routing).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import DESK, manageable_by, session_start
from chats.selectors import private_chat_between
from chats.services import private_chat_get_or_create
from core.exceptions import CONFLICT, INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.realtime import send_event_on_commit
from messaging.desk import selectors
from messaging.desk.models import Conversation, DeskLock, DeskProfile, QueueEntry

log = logging.getLogger(__name__)

Kind = DeskProfile.Kind
OPEN, CLOSED = Conversation.Status.OPEN, Conversation.Status.CLOSED
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
BIG_SEQ = 2**62  # "read everything": messages_read clamps it to the chat's last seq


# --- registration -----------------------------------------------------------------------------
def _username(external_id: str) -> str:
    # ":" is outside the native username alphabet, so no native registration can take it.
    return f"desk:{hashlib.sha256(external_id.encode()).hexdigest()[:24]}"


@transaction.atomic
def profile_register(
    *, external_id: str, kind: int, nick: str = "", avatar: str = "", terminal: str = "", token: str = "",
) -> DeskProfile:
    """Create or update the desk user ``external_id`` (the J-IM document initUser), and register ``token``
    as a login session of theirs so ``ws://HOST/?token=TOKEN`` (and every other protocol) works.
    A registered id keeps its kind: changing it is the operators' (admin)."""
    if not isinstance(external_id, str) or not EXTERNAL_ID_RE.match(external_id):
        raise ApplicationError(INVALID, "senderId must be 1-64 letters, digits, '_' or '-'")
    if kind not in Kind.values:
        raise ApplicationError(INVALID, "type must be 0 (visitor), 1 (agent) or 2 (property consultant)")
    nick, avatar, terminal = nick.strip()[:64], avatar.strip()[:512], terminal.strip()[:16]
    profile = DeskProfile.objects.select_for_update().select_related("user").filter(external_id=external_id).first()
    if profile is None:
        try:
            with transaction.atomic():
                # No password: desk users log in with the token their app server registers.
                user = User.objects.create_user(username=_username(external_id), first_name=nick[:150],
                                                avatar=avatar, is_internal=kind != Kind.VISITOR)
                profile = DeskProfile.objects.create(user=user, external_id=external_id, kind=kind, nick=nick,
                                                     avatar=avatar, terminal=terminal)
        except IntegrityError:  # registered at the same moment by another call
            profile = DeskProfile.objects.select_for_update().select_related("user").get(external_id=external_id)
    if not manageable_by(profile.user, DESK):
        # A native account an operator linked (an agent who uses the app, maybe an operator):
        # the desk neither renames it nor registers tokens that would log in as it.
        raise ApplicationError(CONFLICT, f"{external_id} is not an account the desk manages")
    if profile.kind != kind:
        raise ApplicationError(CONFLICT, f"{external_id} is registered as a {profile.get_kind_display()}")
    changed = {name: value for name, value in (("nick", nick), ("avatar", avatar), ("terminal", terminal))
               if value and getattr(profile, name) != value}
    if changed:
        DeskProfile.objects.filter(pk=profile.pk).update(**changed, updated_at=timezone.now())
        for name, value in changed.items():
            setattr(profile, name, value)
        User.objects.filter(pk=profile.user_id).update(first_name=profile.nick[:150], avatar=profile.avatar)
    if token:
        session_start(user=profile.user, device=profile.terminal or "jim", token=token)
    return profile


@transaction.atomic
def profile_link(*, user: User, external_id: str, kind: int, nick: str = "", avatar: str = "") -> DeskProfile:
    """Operators: make an existing (native) account a desk user, e.g. an agent who uses the app."""
    if not EXTERNAL_ID_RE.match(external_id or ""):
        raise ApplicationError(INVALID, "the external id must be 1-64 letters, digits, '_' or '-'")
    if DeskProfile.objects.filter(user=user).exists():
        raise ApplicationError(CONFLICT, "this user already has a desk profile")
    profile = DeskProfile.objects.create(user=user, external_id=external_id, kind=kind,
                                         nick=nick or user.first_name or user.username, avatar=avatar or user.avatar)
    _drain_after_commit()
    return profile


@transaction.atomic
def profile_update(*, profile_id: int, **fields: Any) -> DeskProfile:
    """Operators: kind, nick, avatar, routing switch and capacity. An agent enabled or given
    room takes waiting visitors at once."""
    allowed = {"kind", "nick", "avatar", "terminal", "is_enabled", "max_open"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(INVALID, f"cannot change {sorted(unknown)}")
    DeskProfile.objects.filter(pk=profile_id).update(**fields, updated_at=timezone.now())
    profile = DeskProfile.objects.select_related("user").get(pk=profile_id)
    User.objects.filter(pk=profile.user_id).update(is_internal=profile.kind != Kind.VISITOR)
    _drain_after_commit()
    return profile


# --- routing ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Routed:
    """getReceiver's answer: the chat partner, or the visitor's place in the queue."""

    receiver: DeskProfile | None
    position: int | None = None


def _lock() -> None:
    """Take the routing lock; held until the caller's transaction ends."""
    DeskLock.objects.get_or_create(pk=1)
    DeskLock.objects.select_for_update().get(pk=1)


def _capacity(agent: DeskProfile) -> int:
    limit = agent.max_open if agent.max_open is not None else settings.DESK_AGENT_MAX_OPEN
    return limit or 2**31  # 0: no limit


class _Board:
    """The online, enabled agents and their open conversations, as of the routing lock."""

    def __init__(self) -> None:
        agents = list(DeskProfile.objects.filter(kind=Kind.AGENT, is_enabled=True, user__is_active=True))
        online = selectors.online_user_ids([a.user_id for a in agents])
        self.agents = {a.pk: a for a in agents if a.user_id in online}
        self.load = selectors.open_counts(list(self.agents))

    def has_room(self, agent_id: int | None) -> bool:
        agent = self.agents.get(agent_id) if agent_id is not None else None
        return agent is not None and self.load[agent.pk] < _capacity(agent)

    def pick(self, previous_id: int | None) -> DeskProfile | None:
        """The previous agent if online with room, else the least loaded (then the one assigned
        longest ago, then the oldest profile): ties rotate instead of piling on one agent."""
        if previous_id is not None and self.has_room(previous_id):
            return self.agents[previous_id]
        free = [a for a in self.agents.values() if self.has_room(a.pk)]
        if not free:
            return None
        return min(free, key=lambda a: (self.load[a.pk], a.last_assigned_at is not None,
                                        a.last_assigned_at or timezone.now(), a.pk))


def _last_agent_id(visitor: DeskProfile) -> int | None:
    return (Conversation.objects.filter(visitor=visitor, agent__kind=Kind.AGENT).order_by("-pk")
            .values_list("agent_id", flat=True).first())


def _assign(visitor: DeskProfile, agent: DeskProfile, board: _Board | None) -> Conversation:
    """Open the conversation (and the private chat, so each sees the other in their list)."""
    chat = private_chat_get_or_create(user_id=visitor.user_id, peer_id=agent.user_id)
    conversation = Conversation.objects.create(visitor=visitor, agent=agent, chat=chat)
    QueueEntry.objects.filter(visitor=visitor).delete()
    now = timezone.now()
    DeskProfile.objects.filter(pk=agent.pk).update(last_assigned_at=now)
    agent.last_assigned_at = now
    if board is not None:
        board.load[agent.pk] = board.load.get(agent.pk, 0) + 1
    data = {"conversationId": conversation.pk, "chatId": chat.wire_id, "visitor": selectors.card(visitor),
            "agent": selectors.card(agent)}
    send_event_on_commit("desk.onAssigned", data, [visitor.user_id, agent.user_id])
    return conversation


def _close(conversation: Conversation, reason: str) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status=CLOSED, closed_at=timezone.now(),
                                                           close_reason=reason)
    conversation.status = CLOSED
    send_event_on_commit("desk.onClosed", {"conversationId": conversation.pk, "reason": reason},
                         [conversation.visitor.user_id, conversation.agent.user_id])


def _drain(board: _Board) -> int:
    """Assign waiting visitors, first come first, while an online agent has room. Caller holds the lock."""
    assigned = 0
    for entry in QueueEntry.objects.select_related("visitor").order_by("pk"):
        agent = board.pick(_last_agent_id(entry.visitor))
        if agent is None:
            break
        _assign(entry.visitor, agent, board)
        assigned += 1
    return assigned


@transaction.atomic
def visitor_route(*, visitor: DeskProfile) -> Routed:
    """getReceiver for a visitor without a chosen receiver:

    1. an open conversation whose agent is online (or a consultant the visitor chose) goes on;
    2. else the agent of their last conversation, if online with room;
    3. else the online agent with the fewest open conversations;
    4. else the visitor waits in the queue (FIFO) and is assigned when an agent comes online
       or has room again (``desk.onAssigned``).
    Those already waiting are served before a newcomer.
    """
    _lock()
    current = (Conversation.objects.select_related("agent", "visitor").filter(visitor=visitor, status=OPEN)
               .first())
    board = _Board()
    if current is not None:
        if current.agent.kind == Kind.CONSULTANT or current.agent_id in board.agents:
            return Routed(current.agent)
        _close(current, "agent_offline")
        board.load[current.agent_id] = max(0, board.load.get(current.agent_id, 1) - 1)
    _drain(board)
    assigned = Conversation.objects.select_related("agent").filter(visitor=visitor, status=OPEN).first()
    if assigned is not None:  # it was waiting, and its turn came
        return Routed(assigned.agent)
    if QueueEntry.objects.filter(visitor=visitor).exists() or (agent := board.pick(_last_agent_id(visitor))) is None:
        QueueEntry.objects.get_or_create(visitor=visitor)
        return Routed(None, selectors.queue_position(visitor.pk))
    _assign(visitor, agent, board)
    return Routed(agent)


@transaction.atomic
def visitor_choose(*, visitor: DeskProfile, receiver: DeskProfile) -> Routed:
    """getReceiver with a receiverId: the visitor picked an agent or consultant (e.g. from a
    property's page). Their open conversation moves there; they leave the queue."""
    if receiver.kind == Kind.VISITOR:
        raise ApplicationError(INVALID, "receiverId must be an agent or a property consultant")
    _lock()
    current = Conversation.objects.select_related("agent", "visitor").filter(visitor=visitor, status=OPEN).first()
    if current is not None and current.agent_id == receiver.pk:
        return Routed(receiver)
    if current is not None:
        _close(current, "moved")
    _assign(visitor, receiver, None)
    _drain(_Board())  # the agent left behind may have room for someone waiting
    return Routed(receiver)


@transaction.atomic
def queue_drain() -> int:
    """Assign waiting visitors to online agents with room; returns how many were assigned."""
    if not QueueEntry.objects.exists():  # the common case costs no lock
        return 0
    _lock()
    return _drain(_Board())


def _drain_after_commit() -> None:
    def run() -> None:
        try:
            queue_drain()
        except Exception:  # the change itself is committed; waiting visitors get the next chance
            log.exception("draining the desk queue failed")

    transaction.on_commit(run)


def agent_came_online(*, user_id: int, **_: Any) -> None:
    """presence.came_online listener: an enabled agent's first socket takes waiting visitors."""
    if QueueEntry.objects.exists() and DeskProfile.objects.filter(
            user_id=user_id, kind=Kind.AGENT, is_enabled=True).exists():
        queue_drain()


@transaction.atomic
def conversation_close(*, conversation_id: int, actor: User | None, reason: str = "closed") -> Conversation:
    """Close a conversation (its agent or consultant, or an operator with ``actor`` None); the
    agent's freed room goes to the first waiting visitor."""
    _lock()
    conversation = (Conversation.objects.select_related("agent", "visitor")
                    .filter(pk=conversation_id).first())
    if conversation is None or (actor is not None and conversation.agent.user_id != actor.pk):
        raise ApplicationError(NOT_FOUND, "no such conversation of yours")
    if conversation.status == OPEN:
        _close(conversation, reason)
        _drain(_Board())
    return conversation


def conversations_close_idle() -> int:
    """The beat job: close conversations without a message for DESK_IDLE_CLOSE_SECONDS."""
    from core.sweep import sweep

    seconds = settings.DESK_IDLE_CLOSE_SECONDS
    if not seconds:
        return 0
    cutoff = timezone.now() - timedelta(seconds=seconds)
    due = Conversation.objects.filter(status=OPEN, created_at__lt=cutoff, chat__updated_at__lt=cutoff)

    def settle(pk: int) -> bool:
        with transaction.atomic():
            _lock()
            # Re-checked under the lock: a message or a close may have come in between.
            conversation = due.select_related("agent", "visitor").filter(pk=pk).first()
            if conversation is None:
                return False
            _close(conversation, "idle")
            _drain(_Board())
            return True

    return sweep(due, settle)


# --- the chat list (chatInfo) -----------------------------------------------------------------
def chat_list_mark(*, owner: User, other: User, op: int, is_concurrent: bool) -> None:
    """the J-IM document chatInfo: op 2 (the owner opened the chat with ``other``), or op 1 (a message
    arrived) while that chat is the one on screen, reads everything ``other`` sent so far."""
    from messaging.services import messages_read

    if op not in (1, 2):
        raise ApplicationError(INVALID, "op must be 1 (a message arrived) or 2 (the chat was opened)")
    if op == 1 and not is_concurrent:
        return  # the counts are derived from the messages themselves: nothing to add
    if owner.pk == other.pk:
        raise ApplicationError(INVALID, "from and to must be two different users")
    chat = private_chat_between(owner.pk, other.pk)
    if chat is not None:
        messages_read(user=owner, wire_id=chat.wire_id, seq=BIG_SEQ)


def require_profile(user: User) -> DeskProfile:
    profile = DeskProfile.objects.filter(user=user).first()
    if profile is None or profile.kind == Kind.VISITOR:
        raise ApplicationError(PERMISSION_DENIED, "only agents and consultants have a desk")
    return profile
