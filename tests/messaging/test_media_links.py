"""Media download links over REST: signed, expiring, re-signed on every fetch, and dead once
their message is recalled or deleted (a deletion for oneself keeps them for the others)."""
from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.moments import moment_post, moment_remove
from messaging import media as media_module
from messaging.models import Message
from tests.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MEDIA_LINK_TTL_SECONDS = 600


def client_for(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return api


def upload(api: APIClient) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "pic.png"
    reply = api.post("/api/v1/media", {"file": buffer, "kind": "image"}, format="multipart")
    assert reply.status_code == 201, reply.content
    return dict(reply.json())


def fetch(api: APIClient, url: str) -> int:
    response = api.get(url)
    if response.status_code == 200:
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    return int(response.status_code)


def send_image(alice: User, bob: User) -> tuple[dict[str, Any], dict[str, Any]]:
    picture = upload(client_for(alice))
    sent = client_for(alice).post("/api/v1/messages/send", {"to": bob.pk, "type": 3,
                                                            "content": {"mediaId": picture["mediaId"]}}, format="json")
    assert sent.status_code == 200
    return picture, sent.json()


def url_in_history(api: APIClient, chat_id: int) -> str:
    messages = api.get(f"/api/v1/messages/history?chatId={chat_id}").json()["messages"]
    return str(messages[-1]["content"].get("url", ""))


def test_links_are_signed_bound_and_expire(alice: User, bob: User, charlie: User,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    picture, sent = send_image(alice, bob)
    bob_api = client_for(bob)
    url = url_in_history(bob_api, sent["chatId"])
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"ref", "exp", "sig"} and query["ref"] == [f"msg-{sent['messageId']}"]
    now = int(media_module._now())
    assert now + 600 <= int(query["exp"][0]) <= now + 661  # MEDIA_LINK_TTL_SECONDS ahead, to the minute
    assert fetch(bob_api, url) == 200
    response = bob_api.get(url)
    assert int(response["Cache-Control"].split("max-age=")[1]) <= 661  # no cache outlives the link
    # the bare token, or a link changed in any part, is no link
    token = urlsplit(url).path.rsplit("/", 1)[1]
    assert fetch(bob_api, f"/api/v1/media/{token}") == 404
    assert fetch(bob_api, url.replace(f"exp={query['exp'][0]}", f"exp={int(query['exp'][0]) + 3600}")) == 404
    assert fetch(bob_api, url.replace(f"msg-{sent['messageId']}", "upload")) == 404
    assert fetch(bob_api, url.replace(query["sig"][0], "x" + query["sig"][0][1:])) == 404
    for bad in ("ref=msg-0&exp=1&sig=x", "ref=msg-1&exp=-5&sig=x", "ref=msg-1&exp=١٢&sig=x",
                "ref=upload&exp=1&sig=" + "x" * 500):
        assert fetch(bob_api, f"/api/v1/media/{token}?{bad}") == 404, bad

    # the upload's own link is its uploader's alone
    assert fetch(client_for(alice), picture["url"]) == 200
    assert fetch(client_for(charlie), picture["url"]) == 404

    # past its expiry the link answers 410; fetching the message again gives one that works
    later = media_module._now() + 662
    monkeypatch.setattr(media_module, "_now", lambda: later)
    expired = bob_api.get(url)
    assert expired.status_code == 410 and expired.json()["error"] == "media_link_expired"
    fresh = url_in_history(bob_api, sent["chatId"])
    assert fresh != url and fetch(bob_api, fresh) == 200
    synced = bob_api.post("/api/v1/messages/sync", {"positions": {}}, format="json").json()
    assert fetch(bob_api, synced["chats"][0]["messages"][0]["content"]["url"]) == 200
    last = bob_api.get("/api/v1/messages/conversations").json()[0]["lastMessage"]
    assert fetch(bob_api, last["content"]["url"]) == 200


def test_a_recalled_message_takes_its_media_with_it(alice: User, bob: User) -> None:
    _, sent = send_image(alice, bob)
    alice_api, bob_api = client_for(alice), client_for(bob)
    url = url_in_history(bob_api, sent["chatId"])
    assert fetch(bob_api, url) == 200
    recalled = alice_api.post("/api/v1/messages/recall", {"chatId": sent["chatId"], "messageId": sent["messageId"]},
                              format="json")
    assert recalled.status_code == 200, recalled.content
    assert fetch(bob_api, url) == 404
    assert fetch(alice_api, url) == 404
    assert url_in_history(bob_api, sent["chatId"]) == ""  # the recalled message shows no content


def test_delete_for_me_keeps_the_media_for_the_others_and_deletion_for_all_ends_it(alice: User, bob: User) -> None:
    _, sent = send_image(alice, bob)
    alice_api, bob_api = client_for(alice), client_for(bob)
    alice_url = url_in_history(alice_api, sent["chatId"])
    hidden = bob_api.post("/api/v1/messages/delete", {"chatId": sent["chatId"], "messageIds": [sent["messageId"]]},
                          format="json")
    assert hidden.status_code == 200, hidden.content
    assert fetch(alice_api, alice_url) == 200  # bob deleted it for himself only
    # the message deleted for everyone (say, by an operator): its links die
    Message.objects.filter(pk=sent["messageId"]).delete()
    assert fetch(alice_api, alice_url) == 404


def test_moment_images_live_as_long_as_the_moment(alice: User, bob: User) -> None:
    from tests.accounts.factories import make_friends

    make_friends(alice, bob)
    picture = upload(client_for(alice))
    made = moment_post(user=alice, text="look", media_ids=[picture["mediaId"]])
    bob_api = client_for(bob)
    shown = bob_api.get(f"/api/v1/moments/{made['momentId']}").json()
    url = shown["images"][0]["url"]
    assert parse_qs(urlsplit(url).query)["ref"] == [f"moment-{made['momentId']}"]
    assert fetch(bob_api, url) == 200
    moment_remove(moment_id=made["momentId"])
    assert fetch(bob_api, url) == 404
