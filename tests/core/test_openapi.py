"""The REST API's OpenAPI document (/api/schema/) is a contract: it generates without a warning,
its operations are tagged by area and list their errors, the REST twins' bodies are their own
methods' (params and reply), every request example is accepted, and the responses of the
endpoints that are not twins match it (the twins' replies are checked by RPC_CHECK_REPLIES)."""
from __future__ import annotations

import functools
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rest_framework.test import APIClient

from accounts.models import User
from core import contract, openapi
from core.gateway import registry
from core.openapi_names import OPENAPI_TAGS
from tests.conftest import token_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@functools.cache
def _schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", {"format": "json"}, HTTP_HOST="localhost")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, verb, op) for path, ops in _schema()["paths"].items() for verb, op in ops.items()
            if verb in HTTP_METHODS]


def _twins() -> dict[str, tuple[str, str]]:
    """operationId of each REST twin -> (socket method, HTTP method)."""
    return {name.replace(".", "_") + "_" + verb: (name, verb)
            for name in registry.all_methods() for verb in HTTP_METHODS}


def _component(ref: str) -> dict[str, Any]:
    return _schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_schema_generates_without_warnings_or_errors() -> None:
    """What `manage.py spectacular --validate --fail-on-warn` says (and .ci/run runs)."""
    # given the settings the tests run with
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test")}
    # when the schema is generated and validated as the command does
    run = subprocess.run([sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
                          "--file", os.devnull], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # then it succeeds, with nothing to say
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Warning" not in run.stderr and "Error" not in run.stderr, run.stderr[-3000:]


def test_only_the_native_api_is_described_and_the_description_says_where_the_others_are() -> None:
    paths = list(_schema()["paths"])
    assert paths and all(p.startswith("/api/v1/") for p in paths)
    description = _schema()["info"]["description"]
    for name in ("docs/im.md", "docs/jim.md", "docs/hxbridge.md", "/api/asyncapi.json"):
        assert name in description


def test_every_operation_has_one_tag_of_its_area() -> None:
    known = {tag["name"] for tag in OPENAPI_TAGS}
    for path, verb, op in _operations():
        area = path.split("/")[3]
        assert op["tags"] == [openapi.AREA_TAGS[area]], (verb, path)
        assert op["tags"][0] in known
    assert {tag for _, _, op in _operations() for tag in op["tags"]} == known


def test_every_operation_lists_its_errors_with_the_error_body() -> None:
    error = _schema()["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "error", "msg"}
    for path, verb, op in _operations():
        statuses = {int(s) for s in op["responses"]}
        assert {400, 429, 503} <= statuses, (verb, path)
        if op.get("security") and {} not in op["security"]:  # a login is needed
            assert 401 in statuses, (verb, path)
        for status in statuses - {200, 201}:
            schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (verb, path, status)


def test_a_twin_lists_the_statuses_of_its_methods_own_errors() -> None:
    # friends.add refuses with already_friends (409) and friend_refused (403), among others
    op = _schema()["paths"]["/api/v1/friends/{uId}/add"]["post"]
    assert {"409", "403"} <= set(op["responses"])
    assert "`already_friends`" in op["responses"]["409"]["description"]


def test_each_twins_bodies_are_its_own_methods() -> None:
    """Twins whose parameter classes share a name (several apps call theirs CreateParams) once
    showed another endpoint's body; each now has its own component, with its own fields."""
    twins = _twins()
    seen = 0
    for path, verb, op in _operations():
        if op["operationId"] not in twins:
            continue
        name, _ = twins[op["operationId"]]
        method = registry.all_methods()[name]
        seen += 1
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None:
            expected = {n for n, f in method.params().fields.items() if not f.read_only}  # type: ignore[misc]
            assert set(_component(body["$ref"])["properties"]) == expected, (verb, path)
        if method.reply is not None:
            assert op["responses"]["200"]["content"]["application/json"]["schema"] == \
                contract.reply_schema(name), (verb, path)
    assert seen > 50
    # the three that were mixed up
    for path, field in (("/api/v1/redpackets", "total_price"), ("/api/v1/chats/invite-link/join", "token"),
                        ("/api/v1/wallet/password", "smsCode")):
        ref = _schema()["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert field in _component(ref)["properties"], path


def _fill(path: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def test_every_request_example_is_accepted(alice: User, bob: User, charlie: User) -> None:
    """Each request body the documentation offers is valid: posting it is never refused as
    malformed or invalid (a refusal of the use case itself, e.g. 404 for an unknown id, is fine)."""
    # given charlie, logged in (created third: never the user 1 or 2 the examples name), and
    # bob as the user of every {uId} in a path
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(charlie)}")
    tried, refused = 0, []
    for path, verb, op in _operations():
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        for example in content.get("examples", {}).values():
            # when the example is sent as documented
            response = getattr(api, verb)(_fill(path, {"uId": bob.pk}), example["value"], format="json")
            tried += 1
            # then it is not refused for its shape (nor breaks the server)
            body = response.json() if response["Content-Type"].startswith("application/json") else {}
            if response.status_code == 500 or body.get("error") in ("invalid", "malformed"):
                refused.append((verb, path, example["value"], body))
    assert not refused, "\n".join(map(repr, refused))
    assert tried > 30
    messages_send = _schema()["paths"]["/api/v1/messages/send"]["post"]["requestBody"]["content"]
    (example,) = messages_send["application/json"]["examples"].values()
    assert ("to" in example["value"]) != ("chatId" in example["value"])


# --- responses of the endpoints that are not twins, held to the document -----------------------
@functools.cache
def _registry() -> Registry:
    document = contract._strict(contract.json_schema(_schema()))
    return Registry().with_resource("urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012))


def _check(path: str, verb: str, status: int, body: Any) -> None:
    response = _schema()["paths"][path][verb]["responses"][str(status)]
    schema = contract._rebase(contract.json_schema(response["content"]["application/json"]["schema"]))
    schema = json.loads(json.dumps(schema).replace('"urn:contract#', '"urn:openapi#'))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft202012Validator(schema, registry=_registry()).iter_errors(body)]
    assert not errors, (verb, path, status, errors)


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "dot.png"
    return buffer


def test_auth_and_media_responses_match_the_document() -> None:
    api = APIClient()
    # register, log in
    registered = api.post("/api/v1/auth/register", {"username": "dora", "password": "a long passphrase 7"},
                          format="json")
    assert registered.status_code == 201
    _check("/api/v1/auth/register", "post", 201, registered.json())
    login = api.post("/api/v1/auth/login", {"username": "dora", "password": "a long passphrase 7"}, format="json")
    assert login.status_code == 200
    _check("/api/v1/auth/login", "post", 200, login.json())
    # refusals: a bad body, a wrong password
    bad = api.post("/api/v1/auth/login", {"username": "dora"}, format="json")
    assert bad.status_code == 400
    _check("/api/v1/auth/login", "post", 400, bad.json())
    wrong = api.post("/api/v1/auth/login", {"username": "dora", "password": "not it at all"}, format="json")
    assert wrong.status_code == 401
    _check("/api/v1/auth/login", "post", 401, wrong.json())
    # an upload and its download
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
    uploaded = api.post("/api/v1/media", {"file": _png(), "kind": "image"}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    _check("/api/v1/media", "post", 201, uploaded.json())
    assert uploaded.json()["width"] == 3
    download = api.get(uploaded.json()["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(  # type: ignore[attr-defined]
        b"\x89PNG")
    missing = api.get("/api/v1/media/nosuchtoken", {"ref": "upload", "exp": "1", "sig": "x"})
    assert missing.status_code in (403, 404)
    # the logged-in user's info (a twin, for the shape of a GET), then log out
    me = api.get("/api/v1/me")
    _check("/api/v1/me", "get", 200, me.json())
    logout = api.post("/api/v1/auth/logout")
    assert logout.status_code == 200
    _check("/api/v1/auth/logout", "post", 200, logout.json())
    # the token is gone: 401 with the error body
    gone = api.get("/api/v1/me")
    assert gone.status_code == 401
    _check("/api/v1/me", "get", 401, gone.json())
