"""The /hx/* endpoints of the Easemob bridge document: read the Easemob request, call the native service, answer
``{"code", "message", "data"}`` with Easemob-shaped ``data`` (docs/hxbridge.md).

Every endpoint is ``POST``, takes a JSON body (or a form), and except getToken needs an admin
token, as ``token`` in the body (the seed's way) or ``Authorization: Bearer``. Every answer is
HTTP 200; its ``code`` says what happened (200, or the table in hxbridge/exceptions.py).
"""
from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from accounts import exceptions as accounts_codes
from accounts import presence
from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import User, username_key
from accounts.services import BRIDGE
from chats.selectors import chat_from_wire
from core import jsonwire
from core.exceptions import (
    NOT_AUTHENTICATED,
    NOT_FOUND,
    UNAVAILABLE,
    UNAVAILABLE_MSG,
    ApplicationError,
    database_unavailable,
)
from core.networks import from_trusted
from core.params import ascii_whole
from hxbridge import exceptions as codes
from hxbridge import selectors, services, wire
from hxbridge.wire import invalid
from messaging import content as message_rules
from messaging.selectors import unread_total
from messaging.services import message_send

log = logging.getLogger(__name__)

OK_MESSAGE = "请求成功"  # the seed's success message
MAX_BATCH = 60  # users per batch registration, as Easemob
MAX_TARGETS = 100  # sendMessages targets; the seed recommends at most 20
PAGE_MAX, PAGE_DEFAULT = 20, 10  # getUser: "最多支持20个"
DEFAULT_SENDER = "admin"  # sendMessages without "from", as Easemob
SUCCESS = "success"
# Form fields that carry JSON (a list or an object); "target" may also be repeated.
STRUCTURED_FIELDS = frozenset({"users", "target", "msg", "ext"})


@dataclass
class Call:
    """One request: its parsed body and the readers of its fields."""

    request: HttpRequest
    body: dict[str, Any]

    def uri(self) -> str:
        return self.request.build_absolute_uri(self.request.path)

    def text(self, key: str) -> str:
        value = self.body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a numeric username sent as a number
        if not isinstance(value, str) or not value:
            raise invalid(f"{key} is required")
        return value

    def user(self, key: str, *, active_only: bool = True) -> User:
        return _user(self.text(key), active_only=active_only)


def _user(name: str, *, active_only: bool = True) -> User:
    """The user named ``name`` if the bridge may act on it (account_services.managed_user):
    an operator's or the desk's account answers exactly as a missing one."""
    user = account_selectors.users_by_usernames([name], active_only=active_only).get(username_key(name))
    if user is None or not account_services.manageable_by(user, BRIDGE):
        raise ApplicationError(NOT_FOUND, f"no such user: {name}")
    return user


Handler = Callable[[Call], dict[str, Any]]
View = Callable[[HttpRequest], JsonResponse]


def _reply(code: int, message: str, data: Any, *, msg_key: bool) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if msg_key:
        body["msg"] = message  # getUser's reply says "msg" in the seed
    body["data"] = data
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _failure(error: ApplicationError, duration: int, *, msg_key: bool = False) -> JsonResponse:
    data = {"error": codes.error_name(error.code), "error_description": error.message,
            "timestamp": wire.now_ms(), "duration": duration}
    return _reply(codes.wire_code(error.code), error.message, data, msg_key=msg_key)


def _form(query: QueryDict) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in query:
        values = query.getlist(key)
        if "\x00" in key or any("\x00" in item for item in values):
            raise invalid("form fields must not contain NUL characters")
        value = values[-1]
        if key in STRUCTURED_FIELDS and value.lstrip()[:1] in ("[", "{"):
            try:
                data[key] = jsonwire.plain(jsonwire.loads(value))  # the bridge carries no money
            except jsonwire.JSONLimitError as exc:
                raise invalid(f"{key} is refused: {exc}") from exc
            except ValueError as exc:
                raise invalid(f"{key} is not valid JSON") from exc
        elif key == "target":
            data[key] = values
        else:
            data[key] = value
    return data


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as exc:
        raise ApplicationError(codes.TOO_LARGE, "the request body is too large") from exc
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = request.POST
        except RequestDataTooBig as exc:
            raise ApplicationError(codes.TOO_LARGE, "the request body is too large") from exc
        except SuspiciousOperation as exc:  # too many fields or files
            raise invalid(f"the form is refused: {exc}") from exc
        return _form(form)
    if not raw.strip():
        return {}
    try:
        data = jsonwire.plain(jsonwire.loads(raw))  # the bridge carries no money: plain numbers
    except jsonwire.JSONLimitError as exc:
        raise invalid(f"the body is refused: {exc}") from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise invalid("the body must be a JSON object (or a form)") from exc
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


def _authenticate(request: HttpRequest, body: dict[str, Any]) -> None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raw = body.get("token")
        token = raw if isinstance(raw, str) else ""
    if not token:
        raise ApplicationError(NOT_AUTHENTICATED,
                               "an admin token from /hx/getToken is required (\"token\" or Authorization: Bearer)")
    if selectors.token_authenticate(token) is None:
        raise ApplicationError(NOT_AUTHENTICATED, "invalid or expired token")


def endpoint(*, admin: bool = True, stamped: bool = True, msg_key: bool = False) -> Callable[[Handler], View]:
    """Wrap a handler: POST only, parse the body, check the admin token (``admin``), answer the
    envelope. ``stamped``: ``data`` gets Easemob's ``duration`` (ms) first and ``timestamp`` last."""

    def decorate(handler: Handler) -> View:
        @csrf_exempt  # no cookies: the admin token is the credential
        @functools.wraps(handler)
        def view(request: HttpRequest) -> JsonResponse:
            started = time.monotonic()

            def elapsed() -> int:
                return int((time.monotonic() - started) * 1000)

            try:
                if request.method != "POST":
                    raise ApplicationError(codes.METHOD_NOT_ALLOWED, f"{request.method} is not allowed: use POST")
                body = _body(request)
                if admin:
                    _authenticate(request, body)
                data = handler(Call(request, body))
            except ApplicationError as error:
                return _failure(error, elapsed(), msg_key=msg_key)
            except Exception as exc:
                if database_unavailable(exc):  # down or restarting: the client retries
                    log.warning("hx %s: database unavailable: %s", request.path, exc)
                    return _failure(ApplicationError(UNAVAILABLE, UNAVAILABLE_MSG), elapsed(), msg_key=msg_key)
                # a bug: logged with its traceback, never sent
                log.exception("hx %s failed", request.path)
                return _failure(ApplicationError(codes.INTERNAL, "internal error"), elapsed(), msg_key=msg_key)
            if stamped:
                data = {"duration": elapsed(), **data, "timestamp": wire.now_ms()}
            return _reply(200, OK_MESSAGE, data, msg_key=msg_key)

        return view

    return decorate


@csrf_exempt
def unknown(request: HttpRequest) -> JsonResponse:
    return _failure(ApplicationError(NOT_FOUND, f"no such method: {request.path}"), 0)


# --- 1 getToken -------------------------------------------------------------------------------
def _client_credentials(call: Call) -> tuple[str, str] | None:
    """``client_id`` / ``client_secret`` from the body (Easemob's names) or HTTP Basic; None when
    the request sends neither (the Easemob document's parameter-less call)."""
    scheme, _, value = call.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    if "client_id" not in call.body and "client_secret" not in call.body:
        return None
    given = call.body.get("client_id"), call.body.get("client_secret")
    return (given[0] if isinstance(given[0], str) else "", given[1] if isinstance(given[1], str) else "")


@endpoint(admin=False, stamped=False)
def get_token(call: Call) -> dict[str, Any]:
    """A token for the client credentials; without any (as the Easemob document calls it) only
    from ``HX_TRUSTED_NETWORKS`` (docs/hxbridge.md#compatibility)."""
    grant = call.body.get("grant_type")
    if grant not in (None, "", "client_credentials"):
        raise invalid('grant_type must be "client_credentials"')
    sent = _client_credentials(call)
    client_id, secret = sent if sent is not None else ("", "")
    token, ttl = services.token_issue(
        client_id=client_id, client_secret=secret, ip=call.request.META.get("REMOTE_ADDR"),
        trusted=sent is None and from_trusted(call.request.META, settings.HX_TRUSTED_NETWORKS),
    )
    return {"access_token": token, "application": wire.application_uuid(), "expires_in": ttl}


# --- 2, 3 registerUser ------------------------------------------------------------------------
def _register(fields: dict[str, Any]) -> dict[str, Any]:
    password = fields.get("password")
    user = account_services.user_register(
        username=wire.new_username(fields.get("username")),
        password=password if isinstance(password, str) else "", rules=wire.EASEMOB_RULES,
    )
    return wire.entity(user)


def _users_posted(call: Call, entities: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    app = wire.app_fields()
    return {"path": "/users", "application": app["application"], "entities": entities, **extra,
            "organization": app["organization"], "action": "post", "uri": call.uri(),
            "applicationName": app["applicationName"]}


@endpoint()
def register_user(call: Call) -> dict[str, Any]:
    """One user (``username``, ``password``) or a batch (``users``). A batch registers each user
    on its own, as Easemob does: those refused are listed in ``data`` with the reason."""
    if "users" not in call.body:
        return _users_posted(call, [_register(call.body)])
    users = call.body["users"]
    if (not isinstance(users, list) or not 1 <= len(users) <= MAX_BATCH
            or not all(isinstance(item, dict) for item in users)):
        raise invalid(f'users must be a list of 1-{MAX_BATCH} {{"username", "password"}} objects')
    created, failed = [], []
    for item in users:
        try:
            created.append(_register(item))
        except ApplicationError as error:
            failed.append({"username": item.get("username"), "registerUserFailReason": error.message})
    return _users_posted(call, created, data=failed)


# --- 4 addFriends -----------------------------------------------------------------------------
@endpoint()
def add_friends(call: Call) -> dict[str, Any]:
    """``type`` "post" adds, "delete" removes. Both are idempotent, as in Easemob: adding a
    friend again or removing someone who is not a friend answers 200. The back office acts as
    the operator, as Easemob's REST API does: the friendship is made at once, without the
    friend's approval (their friendAdd privacy setting governs users' own requests only)."""
    owner, friend = call.user("owner_username"), call.user("friend_username")
    action = call.text("type").lower()
    if action == "post":
        try:
            account_services.friend_add_direct(user=owner, friend_id=friend.pk, manager=BRIDGE)
        except ApplicationError as error:
            if error.code != accounts_codes.ALREADY_FRIENDS:
                raise
    elif action == "delete":
        try:
            account_services.friend_remove(user=owner, friend_id=friend.pk, manager=BRIDGE)
        except ApplicationError as error:
            if error.code != NOT_FOUND:  # "not friends" (both users were found above)
                raise
    else:
        raise invalid('type must be "post" (add a friend) or "delete" (remove one)')
    app = wire.app_fields()
    return {"path": f"/users/{wire.user_uuid(owner)}/contacts", "application": app["application"],
            "entities": [wire.entity(friend)], "organization": app["organization"], "action": action,
            "uri": call.uri(), "applicationName": app["applicationName"]}


# --- 5 getFriends -----------------------------------------------------------------------------
@endpoint()
def get_friends(call: Call) -> dict[str, Any]:
    owner = call.user("owner_username", active_only=False)
    kind = call.body.get("type") or "contacts"
    if kind == "contacts":
        users = account_selectors.friends_of(owner.pk)
    elif kind == "blocks":
        users = account_selectors.blacklist_of(owner.pk)
    else:
        raise invalid('type must be "contacts" (friends) or "blocks" (blacklist)')
    names = [user.username for user in account_services.managed_users(users, BRIDGE)]  # as if missing
    return {"data": names, "entities": [], "count": len(names), "action": "get", "uri": call.uri()}


# --- 6 getUserStatus --------------------------------------------------------------------------
@endpoint()
def get_user_status(call: Call) -> dict[str, Any]:
    user = call.user("username", active_only=False)
    status = "online" if presence.online_among([user.pk]) else "offline"
    return {"data": {call.text("username"): status}, "entities": [], "count": 0, "action": "get",
            "uri": call.uri()}


# --- 7 offlineMsgCount ------------------------------------------------------------------------
@endpoint()
def offline_msg_count(call: Call) -> dict[str, Any]:
    owner = call.user("owner_username", active_only=False)
    return {"data": {call.text("owner_username"): unread_total(user_id=owner.pk)}, "entities": [], "count": 0,
            "action": "get", "uri": call.uri()}


# --- 8 sendMessages ---------------------------------------------------------------------------
def _outcome(send: Callable[[], object]) -> str:
    try:
        send()
    except ApplicationError as error:
        return error.message
    return SUCCESS


# A group target: our chatId in its one spelling (ASCII digits, no sign but "-", no leading zero,
# no spaces), so one group cannot be named twice in a request and be sent the message twice.
GROUP_ID = re.compile(r"-?[1-9][0-9]{0,17}", re.ASCII)


def _group_outcome(sender: User, key: str, type_: int, content: dict[str, Any]) -> str:
    if not GROUP_ID.fullmatch(key):
        return "no such group"
    wire_id = int(key)
    try:
        chat = chat_from_wire(wire_id)
    except ApplicationError:
        return "no such group"
    if not chat.is_group:
        return "no such group"  # a private chat's id is not a group's
    return _outcome(functools.partial(message_send, sender=sender, type_=type_, content=content, chat_wire_id=wire_id))


@endpoint()
def send_messages(call: Call) -> dict[str, Any]:
    """Send ``msg`` from ``from`` to each target: users by username (their private chat), or
    groups by our chatId (``chatgroups`` and ``chatrooms`` alike). ``data`` maps each target
    to "success" or the reason it failed; bad input for the whole request answers 400 and
    sends nothing."""
    target_type = call.text("target_type")
    if target_type not in ("users", "chatgroups", "chatrooms"):
        raise invalid('target_type must be "users", "chatgroups" or "chatrooms"')
    targets = call.body.get("target")
    if (not isinstance(targets, list) or not 1 <= len(targets) <= MAX_TARGETS
            or not all(isinstance(t, (str, int)) and not isinstance(t, bool) and str(t) for t in targets)):
        raise invalid(f"target must be a list of 1-{MAX_TARGETS} usernames or group ids, even for one")
    type_, content = wire.message_content(call.body.get("msg"), call.body.get("ext"))
    content = message_rules.normalize(type_, content)  # bad content fails every target alike: 400
    sender_name = call.body.get("from")
    if sender_name is None:
        sender_name = DEFAULT_SENDER
    if not isinstance(sender_name, str) or not sender_name:  # "" is refused, as the seed says
        raise invalid('from must be a username (leave it out to send as "admin")')
    sender = _user(sender_name)
    keys = list(dict.fromkeys(str(t) for t in targets))
    results: dict[str, str] = {}
    if target_type == "users":
        peers = account_selectors.users_by_usernames(keys)
        for key in keys:
            peer = peers.get(username_key(key))
            if peer is None or not account_services.manageable_by(peer, BRIDGE):
                results[key] = "no such user"
                continue
            results[key] = _outcome(
                functools.partial(message_send, sender=sender, type_=type_, content=content, to=peer.pk))
    else:
        for key in keys:
            results[key] = _group_outcome(sender, key, type_, content)
    app = wire.app_fields()
    return {"path": "/messages", "application": app["application"], "data": results,
            "organization": app["organization"], "action": "post", "uri": call.uri(),
            "applicationName": app["applicationName"]}


# --- 9 resetPassword --------------------------------------------------------------------------
@endpoint()
def reset_password(call: Call) -> dict[str, Any]:
    """Set a new password without the old one; the user's sessions all end."""
    user = call.user("username", active_only=False)
    password = call.body.get("newpassword")
    account_services.user_reset_password(user_id=user.pk, new_password=password if isinstance(password, str) else "",
                                         manager=BRIDGE, rules=wire.EASEMOB_RULES)
    app = wire.app_fields()
    return {"path": f"/users/{user.username}/password", "application": app["application"],
            "data": {call.text("username"): SUCCESS}, "organization": app["organization"],
            "action": "set user password", "uri": call.uri(), "applicationName": app["applicationName"]}


# --- 10, 11 getUser ---------------------------------------------------------------------------
def _limit(raw: Any) -> int:
    if raw is None or raw == "":
        return PAGE_DEFAULT
    if isinstance(raw, str):
        raw = ascii_whole(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= PAGE_MAX:
        raise invalid(f"limit must be 1-{PAGE_MAX}")
    return raw


@endpoint(msg_key=True)
def get_user(call: Call) -> dict[str, Any]:
    """One user by ``username``; without it, a page of ``limit`` users (1-20, default 10) in
    registration order, continued with the ``cursor`` of the previous page."""
    if call.body.get("username") not in (None, ""):
        user = call.user("username", active_only=False)
        return {"path": "/users", "entities": [wire.entity(user)], "count": 1, "action": "get", "uri": call.uri()}
    limit = _limit(call.body.get("limit"))
    raw_cursor = call.body.get("cursor")
    params: dict[str, list[str]] = {"limit": [str(limit)]}
    after = 0
    if raw_cursor not in (None, ""):
        after = wire.cursor_decode(raw_cursor)
        params["cursor"] = [str(raw_cursor)]
    page = account_selectors.users_after(after, limit + 1, manager=BRIDGE)
    more, page = len(page) > limit, page[:limit]
    data: dict[str, Any] = {"cursor": wire.cursor_encode(page[-1].pk)} if more else {}
    return {**data, "path": "/users", "entities": [wire.entity(u) for u in page], "count": len(page),
            "action": "get", "params": params, "uri": call.uri()}
