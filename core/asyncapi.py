"""The sockets' AsyncAPI 3.0.0 document, served at ``/api/asyncapi.json``.

Built from the contract (``core.contract``): one operation and two messages (request, reply)
per registered native socket method, one message and operation per declared push, with the
payload schemas core.contract generates from the serializers the gateway itself validates
with. The envelopes (``{id, method, params}``, ``{id, code, data}``, ``{id, code, msg}``,
``{event, data}``), the generic codes and the close codes are described once. The J-IM socket
of the customer-service desk is the second channel, loosely typed (docs/jim.md has the detail).
"""
from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from core import contract, jsonwire
from core.exceptions import WS_DEFAULT_CODES, WS_FALLBACK_CODE
from core.gateway import registry

VERSION = "3.0.0"
NATIVE, JIM = "native", "jim"

# docs/protocol.md#close-codes
CLOSE_CODES = {
    4001: "bad, expired or revoked token (at connect, or found at a later call or push): log in again",
    4002: "kicked: the user logged in elsewhere with multi-online off (accounts.onKicked came first)",
    4003: "logged out: this login session ended (logout, password changed elsewhere, banned, deactivated)",
    4029: "too many sockets (per user, per address, anonymous): reconnect later, with a back-off",
    4503: "the token could not be checked (database unavailable, server busy): reconnect with a back-off",
    1012: "pushes were lost and too many to re-deliver: reconnect at once and call messages.sync",
    1009: "a message over WS_TRANSPORT_MAX_BYTES: send smaller messages",
}

# docs/protocol.md#generic-codes
GENERIC_CODES = {
    400: "binary or malformed frame, a frame that is not an object, a bad id (id null); or a method's refusal",
    401: "not logged in, or the session expired (the socket then closes with 4001)",
    404: "unknown method (missing, unknown, or starting with _)",
    413: "a message over WS_MAX_FRAME_BYTES (id null)",
    422: "invalid params: the msg names the field",
    429: "rate limited (the socket's or the user's frames, or the method's own limit)",
    500: "internal error (no details)",
    503: "service unavailable or server busy: nothing changed; retry with a back-off",
}

DESCRIPTION = """The native WebSocket protocol (docs/protocol.md), generated from the server's
method registry and its declared pushes.

Connect to `ws://HOST/ws/?token=TOKEN` (the token of `POST /api/v1/auth/login`). Without a token
the socket is anonymous: only `system.synctime` and `system.heartbeat` answer, the others `401`.

Every frame is one JSON object in a text message:

| frame | shape |
|---|---|
| request | `{"id": 7, "method": "users.info", "params": {...}}` |
| reply | `{"id": 7, "code": 200, "data": ...}` |
| failure | `{"id": 7, "code": 422, "msg": "..."}` |
| push | `{"event": "friends.onAdded", "data": {...}}` |

Each method is an operation whose request message carries its `params` and whose reply is its
`<method>.reply` message or the shared `error` message. The generic failure codes are in
`x-generic-codes`, the shared table from symbolic refusal to number in `x-default-codes`
(a method's own table, `x-error-codes` on its operation, wins), the close codes in
`x-close-codes`. The REST twins of the methods are in the OpenAPI document at `/api/schema/`.

The second channel is the J-IM socket of the customer-service desk (`ws://HOST/?token=TOKEN`,
docs/jim.md): its commands are numbers (`cmd`), loosely typed here.
"""


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)}


def _request_payload(method: registry.RpcMethod, params: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": _ref("components", "schemas", "RequestId"),
                                  "method": {"type": "string", "const": method.name}}
    if params is not None:
        properties["params"] = params
    return {"type": "object", "required": ["method"], "properties": properties}


def _reply_payload(data: Any) -> dict[str, Any]:
    return {"type": "object", "required": ["id", "code", "data"],
            "properties": {"id": _ref("components", "schemas", "AnswerId"),
                           "code": {"type": "integer", "const": 200}, "data": data}}


def _native(doc: dict[str, Any], spec: dict[str, Any]) -> None:
    """The native channel: a request and a reply message per method, a message per push."""
    messages: dict[str, Any] = {}
    components = doc["components"]["messages"]
    components["error"] = {
        "name": "error", "title": "A refused call",
        "summary": "Any method's failure: the method's own codes, or the generic ones (x-generic-codes).",
        "payload": {"type": "object", "required": ["id", "code", "msg"], "properties": {
            "id": _ref("components", "schemas", "AnswerId"),
            "code": {"type": "integer", "description": "a generic code or the method's own (x-error-codes)"},
            "msg": {"type": "string", "description": "a human-readable sentence; match on code"}}},
    }
    messages["error"] = _ref("components", "messages", "error")
    methods = registry.all_methods()
    for name in sorted(methods):
        method = methods[name]
        operation = spec["paths"]["/" + name]["post"]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        reply = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if method.reply is None:
            reply = {"description": "not described yet"}
        components[name + ".request"] = {
            "name": name, "title": f"{name} request", "payload": contract.json_schema(_request_payload(method, body))}
        components[name + ".reply"] = {
            "name": name + ".reply", "title": f"{name} reply", "payload": contract.json_schema(_reply_payload(reply))}
        for key in (name + ".request", name + ".reply"):
            messages[key] = _ref("components", "messages", key)
        doc["operations"][name] = {
            "action": "send", "channel": _ref("channels", NATIVE), "title": name,
            "summary": f"Call {name}" + ("" if method.auth else " (no login needed)"),
            "messages": [_ref("channels", NATIVE, "messages", name + ".request")],
            "reply": {"channel": _ref("channels", NATIVE), "messages": [
                _ref("channels", NATIVE, "messages", name + ".reply"), _ref("channels", NATIVE, "messages", "error")]},
            "x-error-codes": {code: number for code, number in sorted(method.errors.items())},
            "x-needs-login": method.auth,
        }
    for name, (_, description) in sorted(contract.all_events().items()):
        key = "event." + name
        data = spec["paths"]["/events/" + name]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        components[key] = {
            "name": name, "title": name, "summary": description,
            "payload": contract.json_schema({"type": "object", "required": ["event", "data"], "properties": {
                "event": {"type": "string", "const": name}, "data": data}}),
        }
        messages[key] = _ref("components", "messages", key)
        doc["operations"][key] = {
            "action": "receive", "channel": _ref("channels", NATIVE), "title": name, "summary": description,
            "messages": [_ref("channels", NATIVE, "messages", key)],
        }
    doc["channels"][NATIVE] = {
        "address": "/ws/", "title": "Native socket", "servers": [_ref("servers", "default")],
        "description": ("`?token=TOKEN`: the login token (`POST /api/v1/auth/login`); without it the socket is "
                        "anonymous. Close codes: x-close-codes."),
        "messages": messages,
        "bindings": {"ws": {"bindingVersion": "0.1.0", "query": {
            "type": "object", "properties": {"token": {
                "type": "string", "description": "the token answered by /api/v1/auth/register or /login"}}}}},
        "x-close-codes": {str(code): text for code, text in CLOSE_CODES.items()},
    }


# --- J-IM (docs/jim.md): commands by number, loosely typed -----------------------------------------
_JIM_BODY = {
    "type": "object", "description": "a J-IM chat body (cmd 11), keys in alphabetical order",
    "properties": {
        "chatType": {"type": "integer", "enum": [1, 2], "description": "1 group, 2 private"},
        "cmd": {"type": "integer", "const": 11},
        "content": {"type": "string"},
        "createTime": {"type": "integer", "description": "milliseconds"},
        "extras": {"type": "object"},
        "from": {"type": "string", "description": "the sender's J-IM id"},
        "groupId": {"type": "string"},
        "id": {"type": "string", "description": "the message id"},
        "msgType": {"type": "integer", "description": "0 text, 1 sandbox link, 2 article link, 100+ native type"},
        "to": {"type": "string"},
    },
    "required": ["chatType", "cmd", "content", "createTime", "from", "id", "msgType"],
}
_CMD = {"anyOf": [{"type": "integer"}, {"type": "string"}], "description": "a number, or its digits as a string"}


def _jim_answer(command: int, code: Any, data: Any = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"code": code, "command": {"type": "integer", "const": command},
                                  "msg": {"type": "string"}}
    required = ["code", "command", "msg"]
    if data is not None:
        properties["data"] = data
        required.append("data")
    return {"type": "object", "required": required, "properties": properties}


def _jim_messages() -> dict[str, dict[str, Any]]:
    friend = {"type": "object", "properties": {"id": {"type": "string"}, "nick": {"type": "string"},
                                               "terminal": {"type": "string"}}, "required": ["id", "terminal"]}
    request = {"type": "object", "required": ["cmd"], "properties": {"cmd": _CMD}, "additionalProperties": True}
    return {
        "jim.chat": {"title": "cmd 11: send a message", "payload": {**request, "properties": {
            "cmd": _CMD, "to": {"type": "string"}, "from": {"type": "string"}, "id": {"type": "string"},
            "msgType": {"type": "integer", "enum": [0, 1, 2]}, "chatType": {"type": "integer", "enum": [1, 2]},
            "groupId": {}, "content": {}, "extras": {"type": "object"}}}},
        "jim.chatReply": {"title": "cmd 12: the message was stored (10000) or refused (10002)",
                          "payload": _jim_answer(12, {"type": "integer", "enum": [10000, 10002]})},
        "jim.heartbeat": {"title": "cmd 13: heartbeat", "payload": {**request, "properties": {
            "cmd": _CMD, "hbbyte": {}}}},
        "jim.heartbeatReply": {"title": "cmd 13: the server's heartbeat", "payload": {
            "type": "object", "required": ["command", "data"], "properties": {
                "command": {"type": "integer", "const": 13},
                "data": {"type": "object", "properties": {"createTime": {"type": "integer"},
                                                          "hbbyte": {"type": "integer", "const": -128}}}}}},
        "jim.getUser": {"title": "cmd 17: friends (type 1) or the user with each friend's messages (type 2)",
                        "payload": {**request, "properties": {
                            "cmd": _CMD, "type": _CMD, "userId": {"type": "string"}, "extras": {"type": "object"},
                            "pullType": _CMD, "searchKey": {"type": "string"}}}},
        "jim.getUserReply": {"title": "cmd 18: answered (200) or refused (10004)", "payload": _jim_answer(
            18, {"type": "integer", "enum": [200, 10004]},
            {"anyOf": [{"type": "array", "items": friend}, {"type": "object", "properties": {
                "avatar": {"type": "string"}, "nickname": {"type": "string"}, "userId": {"type": "string"},
                "friends": {"type": "array", "items": {"type": "object", "properties": {
                    "historyMessage": {"type": "array", "items": _JIM_BODY}, "unReadNum": {"type": "integer"}}}}}}]})},
        "jim.getMessage": {"title": "cmd 19: offline messages (type 0, 2) or history (type 1)",
                           "payload": {**request, "properties": {
                               "cmd": _CMD, "type": _CMD, "userId": {"type": "string"},
                               "fromUserId": {"type": "string"}, "groupId": {}, "offset": _CMD, "count": _CMD,
                               "beginTime": _CMD, "endTime": _CMD}}},
        "jim.getMessageReply": {"title": "cmd 20: answered (10018) or refused (10015)", "payload": _jim_answer(
            20, {"type": "integer", "enum": [10018, 10015]}, {"type": "object", "properties": {
                "friends": {"type": "object", "additionalProperties": {"type": "array", "items": _JIM_BODY}},
                "groups": {"type": "object", "additionalProperties": {"type": "array", "items": _JIM_BODY}},
                "userid": {"type": "string"}}})},
        "jim.failure": {"title": "a frame refused before any command (10002 bad frame, 10017 unknown cmd, 429, 500)",
                        "payload": _jim_answer(0, {"type": "integer"})},
        "jim.message": {"title": "push: a message (native onMessage), as a cmd 11 chat body", "payload": _JIM_BODY},
        "jim.assigned": {"title": "push: the desk assigned you a contact (native desk.onAssigned)",
                         "payload": _jim_answer(101, {"type": "integer", "const": 200},
                                                {"type": "array", "items": friend})},
    }


def _jim(doc: dict[str, Any]) -> None:
    messages = _jim_messages()
    doc["components"]["messages"].update(messages)
    doc["channels"][JIM] = {
        "address": "/", "title": "J-IM socket (customer-service desk)", "servers": [_ref("servers", "default")],
        "description": "`?token=TOKEN` (initUser/getReceiver, or a native login token). docs/jim.md.",
        "messages": {key: _ref("components", "messages", key) for key in messages},
        "x-close-codes": {str(code): CLOSE_CODES[code] for code in (4001, 4003, 4029)},
    }
    calls = {"jim.cmd11": ("jim.chat", "jim.chatReply"), "jim.cmd13": ("jim.heartbeat", "jim.heartbeatReply"),
             "jim.cmd17": ("jim.getUser", "jim.getUserReply"), "jim.cmd19": ("jim.getMessage", "jim.getMessageReply")}
    for key, (request, reply) in calls.items():
        doc["operations"][key] = {
            "action": "send", "channel": _ref("channels", JIM), "title": messages[request]["title"],
            "messages": [_ref("channels", JIM, "messages", request)],
            "reply": {"channel": _ref("channels", JIM), "messages": [
                _ref("channels", JIM, "messages", reply), _ref("channels", JIM, "messages", "jim.failure")]},
        }
    for key in ("jim.message", "jim.assigned"):
        doc["operations"][key + ".push"] = {"action": "receive", "channel": _ref("channels", JIM),
                                            "title": messages[key]["title"],
                                            "messages": [_ref("channels", JIM, "messages", key)]}


@functools.cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document (built once per process)."""
    spec = contract.document()
    schemas = contract.json_schema(spec.get("components", {}).get("schemas", {}))
    schemas["RequestId"] = {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}],
                            "description": "chosen by the client, echoed in the answer; may be omitted"}
    schemas["AnswerId"] = {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}],
                           "description": "the request's id (null when it was missing or the frame unreadable)"}
    doc: dict[str, Any] = {
        "asyncapi": VERSION,
        "info": {"title": "IM server sockets", "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                 "description": DESCRIPTION},
        "servers": {"default": {"host": "{host}", "protocol": "ws", "description": "this server (wss behind TLS)",
                                "variables": {"host": {"default": "localhost:8000"}}}},
        "defaultContentType": "application/json",
        "channels": {},
        "operations": {},
        "components": {"schemas": schemas, "messages": {}},
        "x-generic-codes": {str(code): text for code, text in GENERIC_CODES.items()},
        "x-default-codes": {**WS_DEFAULT_CODES, "(any other)": WS_FALLBACK_CODE},
    }
    _native(doc, spec)
    _jim(doc)
    return doc


@functools.cache
def _body() -> bytes:
    return jsonwire.dumps(document()).encode()


@require_safe
def asyncapi_view(request: HttpRequest) -> HttpResponse:
    """GET /api/asyncapi.json: public, built once per process."""
    response = HttpResponse(_body(), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response
