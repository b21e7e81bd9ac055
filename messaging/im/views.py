"""The ``im/*`` facade of the RongCloud-era im/* documents (docs/im.md): RongCloud-era client apps call these
URLs with a ``session_key`` and get ``{"status", "msg", "data"}``. Every method calls the same
services as the native protocol; this module only translates parameters, replies and codes.

``status`` 0 is success, except where the API's documents say 1 (docs/im.md#compatibility):
the methods only the older generation has, and ``get_token`` with ``IM_API_GENERATION=older``.
Where success is 1, a missing or malformed parameter answers 4 instead of 1. Each method has its
table from symbolic error codes to its status; a refusal no table names answers 3 (the
documents' "cloud error").
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import exceptions as account_codes
from accounts.authentication import token_from_request
from accounts.models import User
from accounts.selectors import session_authenticate
from chats import exceptions as chat_codes
from core.exceptions import (
    BLACKLISTED,
    CONFLICT,
    INVALID,
    NOT_FOUND,
    PERMISSION_DENIED,
    UNAVAILABLE_MSG,
    ApplicationError,
    database_unavailable,
)
from core.renderers import RequestTooLarge, refuse_nul
from messaging.im import objects
from redpackets import exceptions as packet_codes
from remittance import exceptions as remit_codes
from wallet import exceptions as wallet_codes

log = logging.getLogger(__name__)

OK, MISSING, NOT_LOGGED_IN, REFUSED = 0, 1, 2, 3
OLDER_OK, OLDER_MISSING = 1, 4  # where success is status 1, a bad parameter cannot be 1 too
WRAP_PLAIN, WRAP_REDPACKET, WRAP_TRANSFER = 0, 1, 2
NOTE_MAX = 225  # the documents' red packet / transfer note: vchar(225)


class Refusal(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


def _always_older() -> bool:
    return True


def _never_older() -> bool:
    return False


def _older_generation() -> bool:
    return settings.IM_API_GENERATION == "older"


@dataclass(frozen=True)
class Method:
    handler: Callable[[User, Any, Any], Any]
    statuses: dict[str, int]
    # Whether this method answers the older generation's codes now: success 1, bad parameter 4.
    older: Callable[[], bool] = _never_older

    def status(self, status: int) -> int:
        """The status this method answers for ``status`` (0 success, 1 bad parameter, ...)."""
        if not self.older():
            return status
        return {OK: OLDER_OK, MISSING: OLDER_MISSING}.get(status, status)


METHODS: dict[str, Method] = {}


def method(name: str, statuses: dict[str, int] | None = None, *,
           older: Callable[[], bool] = _never_older) -> Callable[[Any], Any]:
    def register(handler: Callable[[User, Any, Any], Any]) -> Callable[[User, Any, Any], Any]:
        METHODS[name] = Method(handler, {INVALID: MISSING, **(statuses or {})}, older)
        return handler
    return register


def _required(params: Any, name: str) -> str:
    value = params.get(name)
    if value is None or str(value).strip() == "":
        raise Refusal(MISSING, f"{name} is required")
    return str(value).strip()


# A whole number as the apps send it: ASCII digits (int() would take any script's), 18 at most.
_WHOLE = re.compile(r"-?[0-9]{1,18}", re.ASCII)


def _whole(raw: Any) -> int | None:
    text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    return int(text) if _WHOLE.fullmatch(text) else None


def _int(params: Any, name: str, *, status: int = MISSING) -> int:
    value = _whole(params.get(name))
    if value is None:
        raise Refusal(status, f"{name} is required and must be a number")
    return value


def _reply(status: int, msg: str, data: Any = None) -> Response:
    return Response({"status": status, "msg": msg, "data": data if data is not None else {}})


def _unavailable(name: str, exc: Exception) -> Response:
    """The database is down or restarting: HTTP 503, status 3, and the client retries."""
    log.warning("im/%s: database unavailable: %s", name, exc)
    return Response({"status": REFUSED, "msg": UNAVAILABLE_MSG, "data": {}}, status=503)


@api_view(["GET", "POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def im_method(request: Request, name: str) -> Response:
    spec = METHODS.get(name)
    if spec is None:
        return _reply(MISSING, f"no method im/{name}")
    # The body first: a malformed one is a bad request, not a missing session_key.
    try:
        query = refuse_nul(request.query_params)
        params: dict[str, Any] = {key: query.get(key) for key in query}
        if request.method == "POST" and hasattr(request.data, "items"):
            params.update(request.data.items())  # a form or JSON body; its values win over the query's
    except RequestTooLarge as error:  # the body is not read: status 1 (4) with HTTP 413
        return Response({"status": spec.status(MISSING), "msg": str(error.detail), "data": {}}, status=413)
    except (APIException, SuspiciousOperation) as error:  # malformed JSON or form, too many fields
        return _reply(spec.status(MISSING), f"bad request: {getattr(error, 'detail', error)}")
    token = token_from_request(request)
    try:
        session = session_authenticate(token) if token else None
    except Exception as exc:
        if database_unavailable(exc):
            return _unavailable(name, exc)
        raise
    if session is None:
        return _reply(NOT_LOGGED_IN, "not logged in: session_key is missing, invalid or expired")
    try:
        data = spec.handler(session.user, params, token)
    except Refusal as refusal:
        return _reply(spec.status(refusal.status), refusal.msg)
    except ApplicationError as error:
        return _reply(spec.status(spec.statuses.get(error.code, REFUSED)), error.message)
    except Exception as exc:
        if database_unavailable(exc):
            return _unavailable(name, exc)
        # a bug: logged with its traceback, answered in the facade's shape
        log.exception("im/%s failed", name)
        return Response({"status": REFUSED, "msg": "internal error", "data": {}}, status=500)
    return _reply(spec.status(OK), "成功", data)


# --- users ----------------------------------------------------------------------------------

def _user_info(user: User) -> dict[str, Any]:
    name = f"{user.first_name} {user.last_name}".strip() or user.username
    return {"user_id": str(user.pk), "name": name, "portraitUri": user.avatar or ""}  # a string, as documented


@method("get_token", older=_older_generation)
def get_token(user: User, params: Any, token: str) -> str:
    """The token a client opens our sockets with: the session itself (ws://HOST/ws/?token=...)."""
    return token


@method("refresh")
def refresh(user: User, params: Any, token: str) -> dict[str, Any]:
    from accounts.services import user_update_profile

    name, portrait = params.get("name"), params.get("portraitUri")
    if (name is not None and len(str(name)) > 150) or (portrait is not None and len(str(portrait)) > 512):
        raise Refusal(MISSING, "name (at most 150) or portraitUri (at most 512 characters) is too long")
    if name is not None:  # RongCloud has one name: it becomes the first name
        user = user_update_profile(user=user, first_name=str(name), last_name="")
    if portrait is not None:
        user = user_update_profile(user=user, avatar=str(portrait))
    return _user_info(user)


@method("user_info")
def user_info(user: User, params: Any, token: str) -> dict[str, Any]:
    return _user_info(user)


@method("friend_add", {NOT_FOUND: 3, account_codes.ALREADY_FRIENDS: 4, BLACKLISTED: 5,
                       account_codes.FRIEND_REFUSED: 5, account_codes.NOT_WHITELISTED: 5,
                       account_codes.NOT_ADDABLE: 5, account_codes.SELF_NOT_ALLOWED: 6})
def friend_add(user: User, params: Any, token: str) -> dict[str, Any]:
    """Status 0 either way; ``data.pending`` says whether a request now awaits their approval."""
    from accounts.events import user_brief
    from accounts.services import friend_add as add

    added = add(user=user, friend_id=_int(params, "user_id"))
    return {**user_brief(added.friend), "pending": added.pending}


@method("friend_list")
def friend_list(user: User, params: Any, token: str) -> list[dict[str, Any]]:
    from accounts.events import user_brief
    from accounts.selectors import friends_of

    friends = [user_brief(f) for f in friends_of(user.pk)]
    if not friends:
        raise Refusal(MISSING, "好友列表为空: the friend list is empty")
    return friends


# --- messages and groups --------------------------------------------------------------------

@method("msg_private_publish")
def msg_private_publish(user: User, params: Any, token: str) -> dict[str, Any]:
    from messaging.services import message_send

    to = _int(params, "toUserId")
    object_name = _required(params, "objectName")
    if params.get("content") in (None, ""):
        raise Refusal(MISSING, "content is required")
    voice = objects.inline_voice(object_name, params.get("content"))
    if voice is not None:
        msg, chat = _send_voice(user, to, voice)
    else:
        type_, content = objects.to_native(object_name, params.get("content"))
        msg, chat, _ = message_send(sender=user, type_=type_, content=content, to=to)
    return {"messageId": msg.pk, "chatId": chat.wire_id, "seq": msg.seq, "objectName": object_name,
            "createAt": int(msg.created_at.timestamp())}


def _send_voice(user: User, to: int, voice: objects.InlineVoice) -> tuple[Any, Any]:
    """An inline RC:VcMsg: the audio is stored as the sender's voice upload (as through
    /api/v1/media) and the message refers to it, so readers get its link and duration. If the
    message is refused, the upload is removed again."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging.media import media_upload
    from messaging.models import Message
    from messaging.services import message_send

    extension = "awb" if voice.content_type == "audio/amr-wb" else "amr"
    media = media_upload(owner=user, upload=SimpleUploadedFile(f"voice.{extension}", voice.audio, voice.content_type),
                         kind="voice", duration=voice.duration)
    content: dict[str, Any] = {"mediaId": media.pk, "duration": voice.duration}
    if voice.extra is not None:
        content["extra"] = voice.extra
    try:
        msg, chat, _ = message_send(sender=user, type_=Message.Type.VOICE, content=content, to=to)
    except BaseException:
        media.file.delete(save=False)
        media.delete()
        raise
    return msg, chat


def _group(chat: Any) -> dict[str, Any]:
    return {"group_id": str(chat.wire_id), "group_name": chat.title, "memo": chat.memo,
            "owner_id": str(chat.owner_id) if chat.owner_id else None, "member_count": chat.member_count}


@method("group_create")
def group_create(user: User, params: Any, token: str) -> dict[str, Any]:
    """A public group (our super-group), so that im/group_join by id works for anyone."""
    from chats.models import Chat
    from chats.services import group_create as create

    name = _required(params, "group_name")
    with transaction.atomic():
        chat = create(owner=user, title=name, kind=Chat.Kind.SUPERGROUP, memo=str(params.get("memo") or ""))
    return _group(chat)


@method("group_join", {NOT_FOUND: 4, chat_codes.ALREADY_MEMBER: 5, chat_codes.NOT_ALLOWED: 4,
                       chat_codes.CHAT_DISSOLVED: 4})
def group_join(user: User, params: Any, token: str) -> dict[str, Any]:
    from chats.services import chat_join

    chat = chat_join(user=user, wire_id=_int(params, "group_id"))
    return _group(chat)


# --- money ----------------------------------------------------------------------------------
# Transfer ids name plain transfers, red packets and transfer messages alike: ``id * 10 + wrap``.

MONEY = {NOT_FOUND: 5, wallet_codes.BAD_AMOUNT: 6, packet_codes.SHARE_TOO_SMALL: 6, packet_codes.SHARE_TOO_LARGE: 6,
         remit_codes.AMOUNT_TOO_SMALL: 6, remit_codes.AMOUNT_TOO_LARGE: 6, wallet_codes.INSUFFICIENT_BALANCE: 7,
         wallet_codes.WRONG_PAYMENT_PASSWORD: 8, wallet_codes.NO_WALLET: 8, wallet_codes.PAYMENT_LOCKED: 9,
         wallet_codes.IDEMPOTENCY_CONFLICT: 10}


def transfer_id(pk: int, wrap: int) -> str:
    return str(pk * 10 + wrap)


def _split_transfer(params: Any) -> tuple[int, int]:
    value = _whole(params.get("transfer_id"))
    if value is None or value < 10 or value % 10 not in (WRAP_PLAIN, WRAP_REDPACKET, WRAP_TRANSFER):
        raise Refusal(MISSING, "transfer_id is empty or not one of ours")
    return value // 10, value % 10


def _amount(params: Any, name: str) -> Any:
    raw = params.get(name)
    if raw in (None, ""):
        raise Refusal(4, f"{name} is required")
    return raw if not isinstance(raw, float) else str(raw)  # form bodies and plain JSON both work


def _request_key(name: str, params: Any, fields: tuple[str, ...]) -> str | None:
    """The idempotency key of a money method (wallet.idempotency): the client's optional
    ``clientMsgId``, else one derived from the request itself, since the older im/* document's clients send no
    request id. The same parameters (the payment password aside) within IM_MONEY_RETRY_SECONDS
    are then taken for a retry of a call whose reply was lost."""
    given = params.get("clientMsgId")
    if given not in (None, ""):
        if not isinstance(given, str) or len(given) > 64 or not given.isprintable():
            raise Refusal(MISSING, "clientMsgId must be printable text of at most 64 characters")
        return given
    from wallet.idempotency import amount_text, derived_key

    return derived_key(params={"im": name, **{field: amount_text(params.get(field)) if "amount" in field
                                              else str(params.get(field) or "") for field in fields}})


def _note(params: Any) -> str:
    note = str(params.get("content") or "")
    if len(note) > NOTE_MAX:
        raise Refusal(MISSING, f"content (the note) has at most {NOTE_MAX} characters")
    return note


def _payment(params: Any) -> tuple[int, int, Any]:
    """A payment's ``toUserId``, ``coin_id`` (required: status 4; not a number: 5) and ``amount``."""
    to = _int(params, "toUserId")
    if params.get("coin_id") in (None, ""):
        raise Refusal(4, "coin_id is required")
    return to, _int(params, "coin_id", status=5), _amount(params, "amount")


def _another_user(user: User, to: int) -> None:
    if not User.objects.filter(pk=to, is_active=True).exclude(pk=user.pk).exists():
        raise Refusal(MISSING, "toUserId is not another user")


def _session_pays(params: Any, wrap: int) -> bool:
    """IM_REDPACK_WITHOUT_PASSWORD: a red packet of the newer generation's shape (no
    ``wallet_pwd`` parameter at all, no ``wrap`` or wrap 1) is authorised by the session."""
    return settings.IM_REDPACK_WITHOUT_PASSWORD and wrap == WRAP_REDPACKET and "wallet_pwd" not in params


@method("msg_redpack_publish", MONEY)
def msg_redpack_publish(user: User, params: Any, token: str) -> dict[str, Any]:
    """wrap 1 (default): a single red packet to toUserId; wrap 2: a transfer (remittance).
    Both in any active coin; the note (``content``) has at most 225 characters."""
    from chats.services import private_chat_get_or_create
    from redpackets.services import redpacket_create
    from remittance.services import remit

    to, coin_id, amount = _payment(params)
    wrap = _int(params, "wrap") if params.get("wrap") not in (None, "") else WRAP_REDPACKET
    if wrap not in (WRAP_REDPACKET, WRAP_TRANSFER):
        raise Refusal(MISSING, "wrap must be 1 (red packet) or 2 (transfer)")
    memo = _note(params)
    password = str(params.get("wallet_pwd") or "")
    _another_user(user, to)
    key = _request_key("msg_redpack_publish", params, ("toUserId", "coin_id", "amount", "wrap", "content"))
    if wrap == WRAP_REDPACKET:  # an unknown or inactive coin: not_found -> 5
        chat = private_chat_get_or_create(user_id=user.pk, peer_id=to)
        packet = redpacket_create(user=user, chat_wire_id=chat.wire_id, type_=1, title=memo, price=amount,
                                  total_price=None, count=1, password=password, coin_id=coin_id,
                                  client_msg_id=key, password_required=not _session_pays(params, wrap))
        return {"transfer_id": transfer_id(packet.pk, WRAP_REDPACKET), "wrap": WRAP_REDPACKET}
    sent = remit(payer=user, payee_id=to, amount=amount, password=password, type_=1, description=memo,
                 request_id=key, coin_id=coin_id)
    return {"transfer_id": transfer_id(sent.pk, WRAP_TRANSFER), "wrap": WRAP_TRANSFER}


@method("wallet_transfer", {**MONEY, BLACKLISTED: 3}, older=_always_older)
def wallet_transfer(user: User, params: Any, token: str) -> dict[str, Any]:
    """A plain transfer (``transfer_log.wrap`` 0): ``amount`` of ``coin_id`` from the caller's
    wallet to ``toUserId``'s, paid at once, with the payment password; no chat message."""
    from wallet.transfers import transfer_send

    to, coin_id, amount = _payment(params)
    memo = _note(params)
    _another_user(user, to)
    sent = transfer_send(payer=user, payee_id=to, coin_id=coin_id, amount=amount,
                         password=str(params.get("wallet_pwd") or ""), memo=memo,
                         request_id=_request_key("wallet_transfer", params, ("toUserId", "coin_id", "amount",
                                                                            "content")))
    return {"transfer_id": transfer_id(sent.pk, WRAP_PLAIN), "wrap": WRAP_PLAIN,
            "amount": f"{sent.amount.quantize(sent.coin.quantum):f}"}


@method("msg_redpack_accept", {NOT_FOUND: 4, packet_codes.ALL_TAKEN: 4, packet_codes.EXPIRED: 4,
                               remit_codes.REMITTANCE_EXPIRED: 4, CONFLICT: 4, packet_codes.OWN_PACKET: 5,
                               packet_codes.NOT_ALLOWED: 5, remit_codes.NOT_PAYEE: 5, PERMISSION_DENIED: 5})
def msg_redpack_accept(user: User, params: Any, token: str) -> dict[str, Any]:
    """A repeated accept (a packet this user already took, a transfer already received)
    answers 4, "nothing to take", and moves nothing."""
    from redpackets.services import redpacket_take
    from remittance.services import receive

    pk, wrap = _split_transfer(params)
    if wrap == WRAP_PLAIN:
        raise Refusal(4, "a plain transfer is paid at once: there is nothing to accept")
    if wrap == WRAP_REDPACKET:
        packet, share, taken_now = redpacket_take(user=user, packet_id=pk)
        if not taken_now:
            raise Refusal(4, "you have already taken this red packet")
        amount = share.amount.quantize(packet.coin.quantum) if share else None
    else:
        done = receive(user=user, remittance_id=pk)
        amount = done.amount.quantize(done.coin.quantum)
    return objects.stringify({"transfer_id": transfer_id(pk, wrap), "wrap": wrap, "amount": amount})


@method("msg_get_transfer", {NOT_FOUND: 4}, older=_always_older)
def msg_get_transfer(user: User, params: Any, token: str) -> dict[str, Any]:
    pk, wrap = _split_transfer(params)
    if wrap == WRAP_PLAIN:
        from wallet.transfers import transfer_for_reader

        plain = transfer_for_reader(user=user, transfer_id=pk)
        users = User.objects.in_bulk([plain.payer_id, plain.payee_id])
        stamp = int(plain.created_at.timestamp())
        log_ = {"id": transfer_id(pk, wrap), "from_user_id": plain.payer_id, "to_user_id": plain.payee_id,
                "coin_id": plain.coin_id, "amount": plain.amount.quantize(plain.coin.quantum), "action": None,
                "target_id": "0", "memo": plain.memo, "status": 100, "wrap": WRAP_PLAIN, "update_time": stamp,
                "created_time": stamp}
        return {"from_user": objects.user_full(users[plain.payer_id], reader_id=user.pk),
                "to_user": objects.user_short(users[plain.payee_id]), "coin_info": objects.coin_info(plain.coin),
                "transfer_log": objects.stringify(log_)}
    if wrap == WRAP_TRANSFER:
        from remittance.services import transfer_details

        details = transfer_details(user=user, remittance_id=pk)
        log_ = details["transfer_log"]
        log_["id"] = transfer_id(pk, wrap)
        log_["status"] = 400 if log_["status"] == 300 else log_["status"]  # refunded by the payee: came back
        log_.setdefault("action", None)
        log_.setdefault("target_id", "0")
        return {"from_user": objects.user_full(details["from_user"], reader_id=user.pk), "to_user": objects.user_short(
            details["to_user"]), "coin_info": objects.coin_info(details["coin_info"]),
            "transfer_log": objects.stringify(log_)}
    from redpackets.models import RedPacket
    from redpackets.services import redpacket_for_reader

    packet = redpacket_for_reader(user=user, packet_id=pk)
    chat = packet.chat
    peer_id = None
    if chat.user_low_id is not None:
        peer_id = chat.user_high_id if chat.user_low_id == packet.sender_id else chat.user_low_id
    users = User.objects.in_bulk([uid for uid in (packet.sender_id, peer_id) if uid])
    status = {RedPacket.Status.TAKEN: 100, RedPacket.Status.EXPIRED: 400}.get(RedPacket.Status(packet.status), 50)
    log_ = {"id": transfer_id(pk, wrap), "from_user_id": packet.sender_id, "to_user_id": peer_id,
            "coin_id": packet.coin_id, "amount": packet.total_price.quantize(packet.coin.quantum), "action": None,
            "target_id": str(chat.wire_id), "memo": packet.title, "status": status, "wrap": WRAP_REDPACKET,
            "update_time": int((packet.finished_at or packet.created_at).timestamp()),
            "created_time": int(packet.created_at.timestamp())}
    return {"from_user": objects.user_full(users[packet.sender_id], reader_id=user.pk),
            "to_user": objects.user_short(users.get(peer_id) if peer_id else None),
            "coin_info": objects.coin_info(packet.coin), "transfer_log": objects.stringify(log_)}


@method("msg_exchange_publish", {**MONEY, NOT_FOUND: 5, BLACKLISTED: 3}, older=_always_older)
def msg_exchange_publish(user: User, params: Any, token: str) -> dict[str, Any]:
    from core.gateway.registry import check_limit
    from wallet.exchange import card, exchange_publish
    from wallet.rpc import EXCHANGE_PUBLISH_LIMIT

    to = _int(params, "toUserId")
    for name in ("from_coin_id", "to_coin_id"):
        if params.get(name) in (None, ""):
            raise Refusal(4, f"{name} is required")
    check_limit("exchange.publish", EXCHANGE_PUBLISH_LIMIT, user.pk)  # counted with the native method's calls
    offer = exchange_publish(user=user, to_user_id=to, from_coin_id=_int(params, "from_coin_id", status=5),
                             from_amount=_amount(params, "from_coin_amount"),
                             to_coin_id=_int(params, "to_coin_id", status=5), to_amount=_amount(params,
                             "to_coin_amount"), password=str(params.get("wallet_pwd") or ""),
                             memo=str(params.get("content") or ""), request_id=_request_key(
                                 "msg_exchange_publish", params, ("toUserId", "from_coin_id", "from_coin_amount",
                                                                  "to_coin_id", "to_coin_amount", "content")))
    return {"exchange_id": str(offer.pk), **objects.stringify({k: v for k, v in card(offer).items()
                                                                if k in ("fromAmount", "toAmount", "status")})}


@method("msg_exchange_accept", {**MONEY, NOT_FOUND: 4, CONFLICT: 4, wallet_codes.EXCHANGE_EXPIRED: 4,
                                PERMISSION_DENIED: 5}, older=_always_older)
def msg_exchange_accept(user: User, params: Any, token: str) -> dict[str, Any]:
    from wallet.exchange import exchange_accept

    offer = exchange_accept(user=user, exchange_id=_int(params, "exchange_id"),
                            password=str(params.get("wallet_pwd") or ""))
    return {"exchange_id": str(offer.pk), "status": str(offer.status)}


@method("msg_get_exchange", {NOT_FOUND: 4}, older=_always_older)
def msg_get_exchange(user: User, params: Any, token: str) -> dict[str, Any]:
    from wallet.exchange import exchange_get

    offer = exchange_get(user=user, exchange_id=_int(params, "exchange_id"))
    users = User.objects.in_bulk([offer.from_user_id, offer.to_user_id])
    log_ = {"id": offer.pk, "from_user_id": offer.from_user_id, "from_coin_id": offer.from_coin_id,
            "from_coin_amount": offer.from_amount.quantize(offer.from_coin.quantum), "to_user_id": offer.to_user_id,
            "to_coin_id": offer.to_coin_id, "to_coin_amount": offer.to_amount.quantize(offer.to_coin.quantum),
            "memo": offer.memo, "status": offer.status, "update_time": int(offer.updated_at.timestamp()),
            "create_time": int(offer.created_at.timestamp())}
    return {"from_user": objects.user_full(users[offer.from_user_id], reader_id=user.pk),
            "to_user": objects.user_full(users[offer.to_user_id], reader_id=user.pk),
            "from_coin_info": objects.coin_info(offer.from_coin), "to_coin_info": objects.coin_info(offer.to_coin),
            "exchange_log": objects.stringify(log_)}
