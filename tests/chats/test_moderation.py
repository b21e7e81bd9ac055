"""Group moderation over the socket: banned rights (the native API document chats.*BannedRightex), filter
keywords, their enforcement on ordinary members (owners and admins are exempt), QR codes in
uploaded images, whispers between members, and channel.cleanMessages."""
from __future__ import annotations

import io
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Chat
from messaging.models import Media, Message
from tests.chats import create_group, history, make_user, message_in, online, say, send, texts
from tests.conftest import Connect, SocketClient, token_for

pytestmark = pytest.mark.django_db(transaction=True)

ALL_OFF = {"banWhisper": False, "banSendWebLink": False, "banSendQRcode": False, "banSendKeyword": False,
           "banSendDmMention": False}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


async def ban(owner: SocketClient, chat_id: int, **rights: bool) -> None:
    assert await owner.ok("chats.modifyBannedRightex", {"chatId": chat_id, **rights}) == {}


async def stored_from(user: User) -> int:
    """How many non-system messages ``user`` has stored anywhere."""
    return await Message.objects.filter(sender=user).exclude(type=Message.Type.SYSTEM).acount()


async def moderated_group(connect: Connect, owner: User, admin: User, member: User,
                          **rights: bool) -> tuple[SocketClient, SocketClient, SocketClient, int]:
    """A normal group of owner, admin and an ordinary member, with ``rights`` switched on."""
    o, a, m = await online(connect, owner), await online(connect, admin), await online(connect, member)
    chat_id = await create_group(o, admin, member)
    await o.ok("chats.setAdmin", {"chatId": chat_id, "uId": admin.pk, "isAdmin": True})
    if rights:
        await ban(o, chat_id, **rights)
    for client in (o, a, m):  # wait for the last push of the set-up, then forget the set-up's pushes
        if rights:
            await client.push("chats.rights.onUpdate")
        else:
            await message_in(client, chat_id, "admin")
        client.pending.clear()
    return o, a, m, chat_id


# --- uploads ----------------------------------------------------------------------------------
def png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_png(text: str = "https://x.com") -> bytes:
    import qrcode

    return png(qrcode.make(text).get_image())


def plain_png(size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    return png(Image.new("RGB", size, (200, 30, 30)))


def _upload(user: User, data: bytes, kind: str = "image", name: str = "pic.png") -> tuple[int, dict[str, Any]]:
    api = APIClient()
    file = SimpleUploadedFile(name, data, content_type="image/png")
    response = api.post("/api/v1/media", {"file": file, "kind": kind}, format="multipart",
                        HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return response.status_code, response.json()


upload = sync_to_async(_upload)


async def upload_ok(user: User, data: bytes) -> int:
    status, body = await upload(user, data)
    assert status == 201, body
    return int(body["mediaId"])


async def test_image_upload_answers_size_and_dimensions(alice: User) -> None:
    data = plain_png((64, 48))

    status, body = await upload(alice, data)

    assert status == 201, body
    assert (body["kind"], body["contentType"], body["width"], body["height"], body["size"]) == (
        "image", "image/png", 64, 48, len(data))
    assert body["url"].startswith("/api/v1/media/")
    media = await Media.objects.aget(pk=body["mediaId"])
    assert media.owner_id == alice.pk and media.has_qr_code is False


async def test_qr_code_is_detected_at_upload(alice: User) -> None:
    media_id = await upload_ok(alice, qr_png())

    assert (await Media.objects.aget(pk=media_id)).has_qr_code is True


async def test_non_image_bytes_uploaded_as_an_image_are_400(alice: User) -> None:
    status, body = await upload(alice, b"this is not a picture at all", name="fake.png")

    assert status == 400, body
    assert await Media.objects.acount() == 0


# --- rights: read and change ------------------------------------------------------------------
async def test_rights_start_off_and_members_can_read_them(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob)

    assert await b.ok("chats.getBannedRightex", {"chatId": chat_id}) == ALL_OFF
    assert await b.ok("chats.getFilterKeywords", {"chatId": chat_id}) == []


async def test_rights_of_a_chat_are_hidden_from_non_members(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, c = await online(connect, alice), await online(connect, charlie)
    chat_id = await create_group(a, bob)

    for method in ("chats.getBannedRightex", "chats.getFilterKeywords"):
        assert (await c.call(method, {"chatId": chat_id}))["code"] == 403


async def test_modify_rights_pushes_the_new_rights_to_every_member(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)

    await ban(a, chat_id, banSendWebLink=True, banWhisper=True)

    expected = {**ALL_OFF, "isChannel": False, "chatId": chat_id, "banSendWebLink": True, "banWhisper": True}
    for client in (a, b, c):
        assert await client.push("chats.rights.onUpdate") == expected
    # a partial change keeps the other rights
    await ban(a, chat_id, banWhisper=False, banSendKeyword=True)
    assert await b.push("chats.rights.onUpdate") == {**expected, "banWhisper": False, "banSendKeyword": True}
    assert await c.ok("chats.getBannedRightex", {"chatId": chat_id}) == {
        **ALL_OFF, "banSendWebLink": True, "banSendKeyword": True}


async def test_super_group_rights_push_says_it_is_a_channel(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, kind="supergroup")

    await ban(a, chat_id, banSendQRcode=True)

    assert await b.push("chats.rights.onUpdate") == {**ALL_OFF, "isChannel": True, "chatId": chat_id,
                                                      "banSendQRcode": True}


async def test_only_admins_change_rights(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie)

    refused = await m.call("chats.modifyBannedRightex", {"chatId": chat_id, "banSendWebLink": True})

    assert refused["code"] == 403
    assert await o.nothing()
    assert await m.ok("chats.getBannedRightex", {"chatId": chat_id}) == ALL_OFF
    await ban(adm, chat_id, banSendWebLink=True)  # an admin may
    assert (await o.push("chats.rights.onUpdate"))["banSendWebLink"] is True


async def test_set_filter_keywords_cleans_them_and_pushes_to_members(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie)

    refused = await m.call("chats.setFilterKeywords", {"chatId": chat_id, "keywords": ["spam"]})
    assert refused["code"] == 403
    assert await adm.ok("chats.setFilterKeywords",
                        {"chatId": chat_id, "keywords": [" casino ", "", "casino", "Free Money"]}) == {}

    expected = {"isChannel": False, "chatId": chat_id, "keywords": ["casino", "Free Money"]}
    for client in (o, adm, m):
        assert await client.push("chats.keywords.onUpdate") == expected
    assert await m.ok("chats.getFilterKeywords", {"chatId": chat_id}) == ["casino", "Free Money"]


# --- enforcement: web links, keywords, mentions ----------------------------------------------
@pytest.mark.parametrize("content", [
    {"text": "see https://x.com"},
    {"text": "visit example.com"},
    {"text": "go to www.shop.example now"},
    {"text": "look", "link": "https://x.com"},
])
async def test_web_link_from_a_member_is_461_and_stored_nowhere(
    connect: Connect, alice: User, bob: User, charlie: User, content: dict[str, Any]
) -> None:
    o, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendWebLink=True)
    last_seq = (await o.ok("chats.info", {"chatId": chat_id}))["lastSeq"]

    reply = await send(m, chat_id, content)

    assert reply["code"] == 461, reply
    assert await stored_from(charlie) == 0
    assert (await o.ok("chats.info", {"chatId": chat_id}))["lastSeq"] == last_seq
    assert await o.nothing()


async def test_web_links_are_allowed_to_owner_and_admins_and_plain_text_to_members(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendWebLink=True)

    await say(o, chat_id, "owner: see https://x.com")
    await say(adm, chat_id, "admin: visit example.com")
    await say(m, chat_id, "member: no links here.")

    assert texts(await history(m, chat_id)) == [
        "owner: see https://x.com", "admin: visit example.com", "member: no links here."]


async def test_web_links_are_fine_when_the_right_is_off(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    _, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendKeyword=True)

    await say(m, chat_id, "see https://x.com")


async def test_filtered_keyword_is_462_case_insensitively(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendKeyword=True)
    await o.ok("chats.setFilterKeywords", {"chatId": chat_id, "keywords": ["Casino"]})

    upper = await send(m, chat_id, "come to the CASINO tonight")
    lower = await send(m, chat_id, "casino!")

    assert upper["code"] == lower["code"] == 462
    assert await stored_from(charlie) == 0
    await say(m, chat_id, "a clean message")
    await say(adm, chat_id, "admins may say casino")
    await say(o, chat_id, "so may the owner: Casino")
    assert texts(await history(m, chat_id)) == [
        "a clean message", "admins may say casino", "so may the owner: Casino"]


async def test_keywords_are_not_enforced_without_the_right(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, _, m, chat_id = await moderated_group(connect, alice, bob, charlie)
    await o.ok("chats.setFilterKeywords", {"chatId": chat_id, "keywords": ["casino"]})

    await say(m, chat_id, "casino")


@pytest.mark.parametrize("how", ["text at start", "text inside", "mentions list"])
async def test_direct_mention_from_a_member_is_465(
    connect: Connect, alice: User, bob: User, charlie: User, how: str
) -> None:
    content = {"text at start": {"text": "@bob hi"}, "text inside": {"text": "hello @alice"},
               "mentions list": {"text": "hi", "mentions": [bob.pk]}}[how]
    _, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendDmMention=True)

    reply = await send(m, chat_id, content)

    assert reply["code"] == 465, reply
    assert await stored_from(charlie) == 0


async def test_mentions_are_allowed_to_admins_and_addresses_are_no_mentions(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendDmMention=True)

    await say(o, chat_id, "@charlie please read the rules")
    await adm.ok("messages.send", {"chatId": chat_id, "type": 1, "content": {"text": "hi", "mentions": [charlie.pk]}})
    await say(m, chat_id, "mail me at charlie@home")

    assert len(await history(m, chat_id)) == 5  # create, admin, and the three messages


# --- whispers ---------------------------------------------------------------------------------
async def whisper(client: SocketClient, to: User, text: str = "psst") -> dict[str, Any]:
    return await client.call("messages.send", {"to": to.pk, "type": 1, "content": {"text": text}})


async def test_whisper_between_two_members_of_a_group_that_bans_it_is_464(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)
    await ban(a, chat_id, banWhisper=True)
    await c.push("chats.rights.onUpdate")
    c.pending.clear()

    reply = await whisper(b, charlie)

    assert reply["code"] == 464, reply
    assert await stored_from(bob) == 0
    assert await Chat.objects.filter(kind=Chat.Kind.PRIVATE).acount() == 0
    assert await c.nothing()


async def test_whisper_ban_covers_an_existing_private_chat(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    private_id = (await b.ok("messages.send", {"to": charlie.pk, "type": 1, "content": {"text": "before"}}))["chatId"]
    chat_id = await create_group(a, bob, charlie)
    await ban(a, chat_id, banWhisper=True)

    reply = await send(b, private_id, "after the ban")

    assert reply["code"] == 464
    assert await stored_from(bob) == 1


async def test_whisper_is_allowed_when_the_right_is_off(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    await create_group(a, bob, charlie)

    reply = await whisper(b, charlie, "hello charlie")

    assert reply["code"] == 200, reply
    pushed = await message_in(c, reply["data"]["chatId"])
    assert (pushed["from"], pushed["content"]) == (bob.pk, {"text": "hello charlie"})


async def test_whisper_is_allowed_to_an_admin_sender_and_between_non_members(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    dave = await make_user("dave", "13800000004")
    eve = await make_user("eve", "13800000005")
    o, adm, _, _ = await moderated_group(connect, alice, bob, charlie, banWhisper=True)
    d = await online(connect, dave)

    assert (await whisper(o, charlie, "from the owner"))["code"] == 200
    assert (await whisper(adm, charlie, "from an admin"))["code"] == 200
    assert (await whisper(d, eve, "strangers to the group"))["code"] == 200
    assert (await whisper(d, charlie, "from outside the group"))["code"] == 200
    assert await Message.objects.filter(chat__kind=Chat.Kind.PRIVATE).acount() == 4


# --- QR codes ---------------------------------------------------------------------------------
async def test_image_with_a_qr_code_from_a_member_is_463(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)
    media_id = await upload_ok(charlie, qr_png())

    reply = await send(m, chat_id, {"mediaId": media_id}, type_=3)

    assert reply["code"] == 463, reply
    assert await stored_from(charlie) == 0
    assert await o.nothing()


async def test_plain_image_from_a_member_is_accepted_in_a_qr_banning_group(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)
    media_id = await upload_ok(charlie, plain_png((30, 20)))

    reply = await send(m, chat_id, {"mediaId": media_id}, type_=3)

    assert reply["code"] == 200, reply
    pushed = await message_in(o, chat_id)
    assert pushed["type"] == 3 and pushed["from"] == charlie.pk
    assert (pushed["content"]["mediaId"], pushed["content"]["width"], pushed["content"]["height"]) == (
        media_id, 30, 20)
    assert pushed["content"]["url"].startswith("/api/v1/media/")


async def test_image_given_only_by_url_is_463_in_a_qr_banning_group(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    _, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)

    reply = await send(m, chat_id, {"url": "https://cdn.example/pic.png"}, type_=3)

    assert reply["code"] == 463, reply
    assert await stored_from(charlie) == 0
    # an admin is exempt
    assert (await send(adm, chat_id, {"url": "https://cdn.example/pic.png"}, type_=3))["code"] == 200


async def test_qr_codes_are_allowed_to_admins_and_when_the_right_is_off(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    o, adm, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)
    owner_qr, admin_qr, member_qr = [await upload_ok(u, qr_png()) for u in (alice, bob, charlie)]

    assert (await send(o, chat_id, {"mediaId": owner_qr}, type_=3))["code"] == 200
    assert (await send(adm, chat_id, {"mediaId": admin_qr}, type_=3))["code"] == 200
    await ban(o, chat_id, banSendQRcode=False)
    assert (await send(m, chat_id, {"mediaId": member_qr}, type_=3))["code"] == 200


def transparent_qr_png(text: str = "https://x.com") -> bytes:
    """Black modules on a transparent background: what a client shows on a light bubble."""
    import qrcode
    from PIL import Image, ImageOps

    modules = qrcode.make(text).get_image().convert("L")
    image = Image.new("RGBA", modules.size, (0, 0, 0, 0))
    image.putalpha(ImageOps.invert(modules))  # opaque black where the modules are
    return png(image)


def animated_qr_gif(text: str = "https://x.com") -> bytes:
    """A GIF whose first frame is blank and whose second frame is a QR code."""
    import qrcode
    from PIL import Image

    modules = qrcode.make(text).get_image().convert("L")
    buffer = io.BytesIO()
    Image.new("L", modules.size, 255).save(buffer, format="GIF", save_all=True, append_images=[modules],
                                           duration=500, loop=0)
    return buffer.getvalue()


async def test_qr_code_on_a_transparent_background_is_463(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    _, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)
    media_id = await upload_ok(charlie, transparent_qr_png())

    reply = await send(m, chat_id, {"mediaId": media_id}, type_=3)

    assert reply["code"] == 463, reply


async def test_qr_code_in_a_later_frame_of_an_animated_gif_is_463(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    _, _, m, chat_id = await moderated_group(connect, alice, bob, charlie, banSendQRcode=True)
    media_id = await upload_ok(charlie, animated_qr_gif())

    reply = await send(m, chat_id, {"mediaId": media_id}, type_=3)

    assert reply["code"] == 463, reply


async def test_image_with_huge_dimensions_is_400(alice: User) -> None:
    from PIL import Image

    data = png(Image.new("1", (20000, 10000), 1))  # ~40 KB on the wire, 200 megapixels decoded
    assert len(data) < 100_000

    status, body = await upload(alice, data)

    assert status == 400, body
    assert await Media.objects.acount() == 0


async def test_a_member_cannot_send_someone_elses_upload(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    _, _, m, chat_id = await moderated_group(connect, alice, bob, charlie)
    alices_image = await upload_ok(alice, plain_png())

    assert (await send(m, chat_id, {"mediaId": alices_image}, type_=3))["code"] == 404
    assert await stored_from(charlie) == 0


# --- channel.cleanMessages --------------------------------------------------------------------
async def test_clean_messages_hides_them_for_the_caller_only(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, kind="supergroup")
    first = (await say(a, chat_id, "first"))["messageId"]
    await say(a, chat_id, "second")
    third = (await say(a, chat_id, "third"))["messageId"]

    assert await b.ok("channel.cleanMessages", {"channelId": chat_id, "messageIds": [first, third]}) == {}

    assert texts(await history(b, chat_id)) == ["second"]
    assert texts(await history(a, chat_id)) == ["first", "second", "third"]
    synced = await b.ok("messages.sync", {})
    (entry,) = [e for e in synced["chats"] if e["chatId"] == chat_id]
    assert texts(entry["messages"]) == ["second"]


async def test_clean_messages_needs_membership(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, c = await online(connect, alice), await online(connect, charlie)
    chat_id = await create_group(a, bob)
    message_id = (await say(a, chat_id, "hello"))["messageId"]

    reply = await c.call("channel.cleanMessages", {"channelId": chat_id, "messageIds": [message_id]})

    assert reply["code"] == 403
    assert texts(await history(a, chat_id)) == ["hello"]
