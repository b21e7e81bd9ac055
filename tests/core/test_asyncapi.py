"""The sockets' AsyncAPI document (/api/asyncapi.json): served to anyone, structurally valid
AsyncAPI 3.0.0, complete (every method, every push), and every push the code can send is
declared, every method's reply too."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from accounts.models import User
from core import asyncapi, contract
from core.gateway import registry
from tests.conftest import Connect, atoken_for

ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCE = {"tests", ".venv", "var", "node_modules", ".git"}


@functools.cache
def _document() -> dict[str, Any]:
    response = Client(HTTP_HOST="localhost").get("/api/asyncapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _deref(document: dict[str, Any], ref: str) -> Any:
    """What ``ref`` points at, following references to references."""
    node = _resolve(document, ref)
    for _ in range(10):
        if not (isinstance(node, dict) and set(node) == {"$ref"}):
            return node
        node = _resolve(document, node["$ref"])
    raise AssertionError(f"$ref loop at {ref}")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_it_is_served_to_anyone_without_a_login() -> None:
    # when anyone asks, twice
    first = Client(HTTP_HOST="localhost").get("/api/asyncapi.json")
    second = Client(HTTP_HOST="localhost").get("/api/asyncapi.json")
    # then both get the same document
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert json.loads(first.content)["asyncapi"] == "3.0.0"
    assert Client(HTTP_HOST="localhost").post("/api/asyncapi.json").status_code == 405


def test_it_is_structurally_valid_asyncapi_3() -> None:
    document = _document()
    # the required top-level keys
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert {"channels", "operations", "components"} <= set(document)
    key = re.compile(r"^[a-zA-Z0-9.\-_]+$")  # what the specification allows for map keys
    for section in ("channels", "operations"):
        assert all(key.match(name) for name in document[section]), section
    for section in ("schemas", "messages"):
        assert all(key.match(name) for name in document["components"][section]), section
    # every $ref resolves
    refs = _refs(document)
    assert len(refs) > 500
    for ref in refs:
        _resolve(document, ref)
    # every channel names its address and its messages
    for name, channel in document["channels"].items():
        assert channel["address"].startswith("/"), name
        for message in channel["messages"].values():
            assert "payload" in _deref(document, message["$ref"]), name
        for server in channel.get("servers", []):
            _resolve(document, server["$ref"])
    # every operation sends or receives on an existing channel, with that channel's messages
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel_ref = operation["channel"]["$ref"]
        _resolve(document, channel_ref)
        assert operation["messages"], name
        for message in operation["messages"] + operation.get("reply", {}).get("messages", []):
            assert message["$ref"].startswith(channel_ref + "/messages/"), (name, message)
            _resolve(document, message["$ref"])
        if "reply" in operation:
            assert operation["reply"]["channel"]["$ref"] in (channel_ref,), name


def test_every_method_is_an_operation_with_its_params_and_reply() -> None:
    document = _document()
    methods = registry.all_methods()
    assert len(methods) > 50
    for name, method in methods.items():
        operation = document["operations"][name]
        assert operation["action"] == "send"
        request = _deref(document, operation["messages"][0]["$ref"])
        _resolve(document, "#/components/messages/" + name + ".request")
        assert request["payload"]["properties"]["method"]["const"] == name
        assert ("params" in request["payload"]["properties"]) == (method.params is not None), name
        replies = [_deref(document, m["$ref"]) for m in operation["reply"]["messages"]]
        assert replies[0]["payload"]["properties"]["code"]["const"] == 200
        assert set(replies[1]["payload"]["properties"]) == {"id", "code", "msg"}  # the shared error
        assert operation["x-error-codes"] == dict(method.errors)
    # users.info answers a list of users
    data = _resolve(document, "#/components/messages/users.info.reply")["payload"]["properties"]["data"]
    assert data["type"] == "array"
    brief = _resolve(document, data["items"]["$ref"])
    assert {"uId", "userName", "avatar"} <= set(brief["properties"])


def test_every_declared_push_is_a_message_of_the_native_channel() -> None:
    document = _document()
    channel = document["channels"]["native"]
    events = contract.all_events()
    assert "presence.onUpdate" in events and "friends.onAdded" in events
    for name in events:
        message = _deref(document, channel["messages"]["event." + name]["$ref"])
        assert message["payload"]["properties"]["event"]["const"] == name
        assert "data" in message["payload"]["properties"]
        assert document["operations"]["event." + name]["action"] == "receive"
    assert channel["address"] == "/ws/" and "token" in channel["bindings"]["ws"]["query"]["properties"]


def test_codes_and_close_codes_and_the_jim_channel_are_described() -> None:
    document = _document()
    assert {"401", "404", "422", "429", "503"} <= set(document["x-generic-codes"])
    assert document["x-default-codes"]["blacklisted"] == 501
    assert {"4001", "4002", "4003", "4029", "4503", "1012"} <= set(document["channels"]["native"]["x-close-codes"])
    jim = document["channels"]["jim"]
    assert jim["address"] == "/"
    for command in ("jim.cmd11", "jim.cmd13", "jim.cmd17", "jim.cmd19"):
        assert document["operations"][command]["channel"] == {"$ref": "#/channels/jim"}
    chat = _resolve(document, "#/components/messages/jim.message")["payload"]
    assert chat["properties"]["cmd"]["const"] == 11


def _payload_errors(message_key: str, frame: dict[str, Any]) -> list[str]:
    """How ``frame`` breaks the payload of the document's message ``message_key`` (objects
    held closed, as the reply checks hold them)."""
    document = contract._strict(_document())
    registry_ = Registry().with_resource("urn:asyncapi", Resource.from_contents(
        document, default_specification=DRAFT7))
    payload = json.loads(json.dumps(document["components"]["messages"][message_key]["payload"]).replace(
        '"#/', '"urn:asyncapi#/'))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft7Validator(payload, registry=registry_).iter_errors(frame)]


@pytest.mark.django_db(transaction=True)
async def test_real_frames_fit_the_documents_messages(connect: Connect, alice: User, bob: User) -> None:
    """The document describes what the socket really sends: whole frames, envelope included."""
    # given alice and bob on sockets, and an anonymous socket
    a = await connect(await atoken_for(alice))
    b = await connect(await atoken_for(bob))
    anonymous = await connect()
    # when they call methods, succeed and fail, and cause a push
    time_reply = await anonymous.call("system.synctime", {"client_time": 5})
    info = await a.call("users.info", {"uIds": [alice.pk, bob.pk]})
    mine = await a.call("web.account.myInfo")
    bad = await a.call("users.info", {})
    refused = await anonymous.call("users.info", {"uIds": [alice.pk]})
    await User.objects.filter(pk=bob.pk).aupdate(friend_policy=User.FriendPolicy.APPROVAL)
    added = await a.call("friends.add", {"uId": bob.pk, "message": "hi"})
    request = {"event": "friends.onRequest", "data": await b.push("friends.onRequest")}
    # then every frame fits its message
    assert time_reply["code"] == info["code"] == mine["code"] == added["code"] == 200
    assert bad["code"] == 422 and refused["code"] == 401
    for key, frame in (("system.synctime.reply", time_reply), ("users.info.reply", info),
                       ("web.account.myInfo.reply", mine), ("friends.add.reply", added),
                       ("error", bad), ("error", refused), ("event.friends.onRequest", request)):
        assert not _payload_errors(key, frame), (key, frame, _payload_errors(key, frame))
    # and a frame of another shape does not
    assert _payload_errors("users.info.reply", {**info, "data": {"uIds": []}})
    assert _payload_errors("error", {**bad, "data": {}})


def test_the_document_is_the_modules() -> None:
    assert _document() == json.loads(json.dumps(asyncapi.document()))


# --- completeness of the contract ---------------------------------------------------------------
_SENT = re.compile(
    r"""(?:send_event(?:_on_commit)?\(\s*|["']event["']\s*:\s*)["']([A-Za-z_][\w.]*)["']""")


def _pushes_in_source() -> dict[str, str]:
    """Every push name the server's code sends: ``send_event("x", ...)``,
    ``send_event_on_commit("x", ...)`` and ``{"event": "x", ...}`` literals, by file."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if NOT_SOURCE & set(parts) or path.name.startswith("test_"):
            continue
        for name in _SENT.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_the_source_scan_finds_pushes() -> None:
    found = _pushes_in_source()
    assert {"friends.onAdded", "presence.onUpdate", "accounts.onKicked", "on_event", "moment.onPost"} <= set(found)


def test_every_push_the_code_sends_is_declared() -> None:
    """Fails until every app declares its pushes (contract.event)."""
    undeclared = {name: where for name, where in _pushes_in_source().items() if name not in contract.all_events()}
    assert not undeclared, f"pushes sent but not declared with contract.event: {undeclared}"


def test_every_method_declares_its_reply() -> None:
    """Fails until every app declares its methods' replies (registry.method(reply=...))."""
    missing = sorted(name for name, method in registry.all_methods().items()
                     if method.reply is None and not method.handler.__module__.startswith("tests."))
    assert not missing, f"methods without reply=: {missing}"
