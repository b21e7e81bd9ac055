"""REST twins of messages.*: the same handlers as the socket, reachable with a bearer token."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return api


def test_send_history_conversations_over_rest(alice: User, bob: User) -> None:
    alice_api, bob_api = client_for(alice), client_for(bob)
    sent = alice_api.post("/api/v1/messages/send", {"to": bob.pk, "type": 1, "content": {"text": "via rest"},
                                                    "clientMsgId": "r-1"}, format="json")
    assert sent.status_code == 200 and set(sent.json()) == {"messageId", "chatId", "seq", "createAt"}
    again = alice_api.post("/api/v1/messages/send", {"to": bob.pk, "type": 1, "content": {"text": "via rest"},
                                                     "clientMsgId": "r-1"}, format="json")
    assert again.json() == sent.json()
    chat_id = sent.json()["chatId"]
    history = bob_api.get(f"/api/v1/messages/history?chatId={chat_id}").json()
    assert [m["content"]["text"] for m in history["messages"]] == ["via rest"]
    conversations = bob_api.get("/api/v1/messages/conversations").json()
    assert conversations[0]["chatId"] == chat_id and conversations[0]["unread"] == 1
    synced = bob_api.post("/api/v1/messages/sync", {"positions": {}}, format="json").json()
    assert synced["chats"][0]["messages"][0]["messageId"] == sent.json()["messageId"]
    assert bob_api.post("/api/v1/messages/read", {"chatId": chat_id, "seq": 1}, format="json").json() == {
        "readSeq": 1}


def test_rest_errors_carry_the_socket_code(alice: User, bob: User, charlie: User) -> None:
    from accounts.models import Block

    Block.objects.create(user=bob, blocked=alice)
    refused = client_for(alice).post("/api/v1/messages/send", {"to": bob.pk, "type": 1, "content": "hi"},
                                     format="json")
    assert refused.status_code == 403 and refused.json()["code"] == 501
    assert APIClient().get("/api/v1/messages/conversations").status_code == 401


def test_upload_then_send_an_image_carries_its_metadata(alice: User, bob: User, settings: object,
                                                        tmp_path: object) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "pic.png"
    alice_api = client_for(alice)
    uploaded = alice_api.post("/api/v1/media", {"file": buffer, "kind": "image"}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    media = uploaded.json()
    assert (media["width"], media["height"], media["contentType"]) == (64, 48, "image/png")
    sent = alice_api.post("/api/v1/messages/send", {"to": bob.pk, "type": 3, "content": {"mediaId": media["mediaId"]}},
                          format="json")
    assert sent.status_code == 200
    shown = client_for(bob).get(f"/api/v1/messages/history?chatId={sent.json()['chatId']}").json()["messages"][0]
    # the same upload, behind a link signed for the message
    assert shown["content"]["url"].split("?")[0] == media["url"].split("?")[0]
    assert shown["content"]["size"] == media["size"]
    download = client_for(bob).get(shown["content"]["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    stranger_upload = client_for(bob).post("/api/v1/messages/send", {
        "to": alice.pk, "type": 3, "content": {"mediaId": media["mediaId"]}}, format="json")
    assert stranger_upload.status_code == 404  # nobody can send someone else's upload
