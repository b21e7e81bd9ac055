"""the J-IM document's HTTP endpoints for the property app's server: ``/im/vanke/initUser``,
``getReceiver`` and ``chatInfo`` (docs/jim.md#http). Replies ``{"code", "msg", "data"}``.

They are server-to-server calls: each must carry the shared secret ``DESK_API_KEY`` in the
``X-Desk-Key`` header (401 without it or when wrong; 503 while the setting is empty), unless it
comes without a key from one of ``DESK_TRUSTED_NETWORKS`` (docs/jim.md#compatibility).
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import is_operator
from core.exceptions import CONFLICT, INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.networks import from_trusted
from core.renderers import refuse_nul
from messaging.desk import selectors, services
from messaging.desk.models import DeskProfile
from messaging.jim.frames import number

log = logging.getLogger(__name__)

CODES = {INVALID: 400, PERMISSION_DENIED: 403, NOT_FOUND: 404, CONFLICT: 409}


def _reply(code: int, msg: str, data: Any = None) -> Response:
    return Response({"code": code, "msg": msg, "data": data}, status=200 if code < 300 else code)


def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(refuse_nul(request.query_params).items())
    body = request.data
    if hasattr(body, "dict"):  # a form body
        body = body.dict()
    if not isinstance(body, dict):
        raise ApplicationError(INVALID, "the body must be a JSON object")
    params.update(body)
    return params


def _refusal(request: Request) -> Response | None:
    """None when the caller may use the desk API: it sends the right ``X-Desk-Key``, or sends no
    key at all from one of ``DESK_TRUSTED_NETWORKS`` (the J-IM document's calls carry none). A key
    that is sent is always checked."""
    key = settings.DESK_API_KEY
    if "X-Desk-Key" not in request.headers and from_trusted(request.META, settings.DESK_TRUSTED_NETWORKS):
        return None
    if not key:
        if settings.DESK_TRUSTED_NETWORKS:
            return _reply(401, "missing or wrong X-Desk-Key")
        return _reply(503, "the desk API is off: set DESK_API_KEY")
    given = request.headers.get("X-Desk-Key", "")
    if not hmac.compare_digest(given.encode(), key.encode()):
        return _reply(401, "missing or wrong X-Desk-Key")
    return None


def desk_endpoint(handler: Callable[[dict[str, Any]], Response]) -> Any:
    def view(request: Request) -> Response:
        refused = _refusal(request)
        if refused is not None:
            return refused
        try:
            params = _params(request)
        except APIException as error:  # malformed JSON or form (400), a body too large (413)
            return _reply(error.status_code, str(error.detail))
        except SuspiciousOperation as error:  # too many query fields
            return _reply(400, str(error) or "bad request")
        except ApplicationError as error:
            return _reply(CODES.get(error.code, 400), error.message)
        try:
            return handler(params)
        except ApplicationError as error:
            return _reply(CODES.get(error.code, 400), error.message)

    view.__name__ = view.__qualname__ = handler.__name__
    decorated = throttle_classes([])(permission_classes([AllowAny])(authentication_classes([])(view)))
    return api_view(["POST", "GET"])(decorated)


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, (dict, list)):
        raise ApplicationError(INVALID, f"{name} must be a string")
    return "" if value is None else str(value).strip()


def _register(params: dict[str, Any]) -> DeskProfile:
    return services.profile_register(
        external_id=_text(params, "senderId"), kind=number(params.get("type"), "type"), nick=_text(params, "nick"),
        avatar=_text(params, "avatar"), terminal=_text(params, "terminal"), token=_text(params, "token"),
    )


def receiver_info(profile: DeskProfile) -> dict[str, Any]:
    """the J-IM document's user object; ``status`` says whether they are online now."""
    online = profile.user_id in selectors.online_user_ids([profile.user_id])
    return {"id": profile.external_id, "nick": profile.nick, "avatar": profile.avatar,
            "status": "online" if online else "offline", "sign": None, "terminal": profile.terminal,
            "friends": None, "groups": None, "extras": None}


@desk_endpoint
def init_user(params: dict[str, Any]) -> Response:
    """Register (or update) the sender and their socket token."""
    _register(params)
    return _reply(200, "success")


@desk_endpoint
def get_receiver(params: dict[str, Any]) -> Response:
    """Register the sender and answer who they chat with: for a visitor the chosen receiver or
    the routed agent, or a receiver that says they are queued (``queued_info``); for others the
    named receiver."""
    sender = _register(params)
    receiver_id = _text(params, "receiverId")
    if receiver_id:
        receiver = selectors.profile_by_external_id(receiver_id)
        if receiver is None:
            raise ApplicationError(NOT_FOUND, f"receiverId {receiver_id!r} is not registered")
        if sender.kind == DeskProfile.Kind.VISITOR:
            routed = services.visitor_choose(visitor=sender, receiver=receiver)
        else:
            routed = services.Routed(receiver)
    elif sender.kind == DeskProfile.Kind.VISITOR:
        routed = services.visitor_route(visitor=sender)
    else:
        routed = services.Routed(None)
    if routed.receiver is not None:
        return _reply(200, "success", receiver_info(routed.receiver))
    if routed.position is not None:
        return _reply(200, "success", queued_info(routed.position))
    return _reply(200, "success")


def _leave_message_account() -> DeskProfile | None:
    """``DESK_LEAVE_MESSAGE_ID``'s profile if it is an agent or consultant of an active user who
    is not an operator. (Enabled or not: a disabled agent gets no routed visitors, which suits
    an account that only collects messages.)"""
    external_id = settings.DESK_LEAVE_MESSAGE_ID
    if not external_id:
        return None
    profile = selectors.profile_by_external_id(external_id)
    if (profile is None or profile.kind == DeskProfile.Kind.VISITOR or not profile.user.is_active
            or is_operator(profile.user)):
        log.warning("DESK_LEAVE_MESSAGE_ID %r is not an active agent or consultant (nor may it be an operator's "
                    "account); queued visitors get none", external_id)
        return None
    return profile


def queued_info(position: int) -> dict[str, Any]:
    """getReceiver's answer to a visitor no agent is free for, in the document's shape (it knows
    no other): the desk's leave-a-message account (``DESK_LEAVE_MESSAGE_ID``) if one is set, else
    an empty receiver whose ``status`` is "queued". Either way ``extras`` says queued with the
    place in the queue, and ``position`` repeats it; ``desk.onAssigned`` follows when an agent is
    free (J-IM: command ``frames.ASSIGNED``)."""
    queued = {"queued": True, "position": position}
    account = _leave_message_account()
    if account is not None:
        return {**receiver_info(account), "extras": {**queued, "leaveMessage": True}, "position": position}
    return {"id": "", "nick": "", "avatar": "", "status": "queued", "sign": None, "terminal": "", "friends": None,
            "groups": None, "extras": queued, "position": position}


@desk_endpoint
def chat_info(params: dict[str, Any]) -> Response:
    """The chat-list numbers of ``to`` (and the unread from ``from``); op 2 reads that chat first."""
    to, from_ = _text(params, "to"), _text(params, "from")
    owner, other = selectors.user_by_jim_id(to) if to else None, selectors.user_by_jim_id(from_) if from_ else None
    if owner is None or other is None or is_operator(owner) or is_operator(other):  # operators: as if missing
        raise ApplicationError(NOT_FOUND, "to and from must be registered user ids")
    services.chat_list_mark(owner=owner, other=other, op=number(params.get("op"), "op"),
                            is_concurrent=number(params.get("isConcurrent"), "isConcurrent", 0) == 1)
    counts = selectors.chat_counts(user_id=owner.pk, peer_id=other.pk)
    return _reply(200, "success", {"to": to, "from": from_, **counts})
