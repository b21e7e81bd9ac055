"""Moments (朋友圈) over the socket: every moment.* method, every refusal code, every push and who
does not get it, friends-only and blacklist visibility, images from one's own uploads only,
feed paging; the REST twins, the operator's deletion and the races on PostgreSQL."""
from __future__ import annotations

import io
from functools import partial
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Block, Friendship, Moment, MomentComment, MomentImage, MomentLike, User
from accounts.moments import moment_comment, moment_delete, moment_like, moment_post, moment_remove
from core.exceptions import ApplicationError
from tests.accounts.factories import make_user
from tests.conftest import Connect, SocketClient, atoken_for, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- helpers ------------------------------------------------------------------------------------
def api_for(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return api


def _upload(user: User, kind: str = "image") -> dict[str, Any]:
    """Upload through POST /api/v1/media, as a client does before moment.post."""
    if kind == "image":
        buffer = io.BytesIO()
        Image.new("RGB", (32, 24), "navy").save(buffer, format="PNG")
        file = SimpleUploadedFile("pic.png", buffer.getvalue(), content_type="image/png")
    else:
        file = SimpleUploadedFile("hello.amr", b"#!AMR\n" + b"\0" * 64, content_type="audio/amr")
    response = api_for(user).post("/api/v1/media", {"file": file, "kind": kind}, format="multipart")
    assert response.status_code == 201, response.content
    return dict(response.json())


upload = sync_to_async(_upload)


def _befriend(*pairs: tuple[User, User]) -> None:
    for a, b in pairs:
        Friendship.objects.bulk_create([Friendship(user=a, friend=b), Friendship(user=b, friend=a)])


befriend = sync_to_async(_befriend)


async def unfriend(a: User, b: User) -> None:
    await Friendship.objects.filter(user__in=[a, b], friend__in=[a, b]).adelete()


async def new_user(username: str) -> User:
    return await sync_to_async(make_user)(username=username)


async def sockets(connect: Connect, *users: User) -> list[SocketClient]:
    return [await connect(await atoken_for(u)) for u in users]


async def quiet(client: SocketClient) -> bool:
    """Nothing came but presence news (friends coming online push presence.onUpdate)."""
    while not await client.comm.receive_nothing(0.3):
        client.pending.append(await client.frame())
    client.pending = [f for f in client.pending if f["event"] != "presence.onUpdate"]
    return not client.pending


async def code(client: SocketClient, method: str, params: dict[str, Any]) -> int:
    return int((await client.call(method, params))["code"])


def ids(page: dict[str, Any]) -> list[int]:
    return [m["momentId"] for m in page["moments"]]


# --- moment.post and moment.onPost --------------------------------------------------------------
async def test_post_with_own_images_reaches_the_friends_who_may_see_it(connect: Connect, alice: User, bob: User,
                                                                       charlie: User) -> None:
    blocker, blocked = await new_user("blocker"), await new_user("blocked")
    await befriend((alice, bob), (alice, blocker), (alice, blocked))
    await Block.objects.acreate(user=blocker, blocked=alice)
    await Block.objects.acreate(user=alice, blocked=blocked)
    first, second = await upload(alice), await upload(alice)
    a, b, c, x, y = await sockets(connect, alice, bob, charlie, blocker, blocked)

    made = await a.ok("moment.post", {"text": "  sunset at the pier  ",
                                      "mediaIds": [second["mediaId"], first["mediaId"]]})
    assert made["from"] == alice.pk and made["text"] == "sunset at the pier" and made["visibility"] == 1
    assert [i["mediaId"] for i in made["images"]] == [second["mediaId"], first["mediaId"]]  # the order given
    assert made["images"][0] == {"mediaId": second["mediaId"], "url": made["images"][0]["url"],
                                 "contentType": "image/png", "size": second["size"], "width": 32, "height": 24}
    assert made["images"][0]["url"].split("?")[0] == second["url"].split("?")[0]  # the upload, signed anew
    assert made["likes"] == [] and made["comments"] == [] and isinstance(made["createAt"], int)
    assert await b.push("moment.onPost") == made
    # not the author, not a stranger, not a friend who blacklisted her or whom she blacklisted
    for client in (a, c, x, y):
        assert await quiet(client)
    got = await b.ok("moment.get", {"momentId": made["momentId"]})
    # the same moment; its image links are signed anew (equal within the same minute)
    assert [i["url"].split("?")[0] for i in got["images"]] == [i["url"].split("?")[0] for i in made["images"]]
    assert {**got, "images": [{**i, "url": ""} for i in got["images"]]} == {
        **made, "images": [{**i, "url": ""} for i in made["images"]]}
    download = await sync_to_async(lambda: api_for(bob).get(made["images"][0]["url"]))()
    assert download.status_code == 200 and download["Content-Type"] == "image/png"

    text_only = await b.ok("moment.post", {"text": "hello"})
    assert text_only["images"] == [] and (await a.push("moment.onPost"))["momentId"] == text_only["momentId"]
    images_only = await a.ok("moment.post", {"mediaIds": [first["mediaId"]]})  # the same upload again is fine
    assert images_only["text"] == ""


async def test_post_refusals_store_nothing(connect: Connect, alice: User, bob: User) -> None:
    await befriend((alice, bob))
    mine, bobs, voice = await upload(alice), await upload(bob), await upload(alice, "voice")
    a, b = await sockets(connect, alice, bob)
    assert await code(a, "moment.post", {"text": "   "}) == 480
    assert await code(a, "moment.post", {}) == 480
    with override_settings(MOMENT_MAX_TEXT=10):
        assert await code(a, "moment.post", {"text": "x" * 11}) == 481
        assert await code(a, "moment.post", {"text": " " + "x" * 10 + "\n"}) == 200  # counted after trimming
    assert await code(a, "moment.post", {"mediaIds": [mine["mediaId"]] * 2}) == 483
    assert await code(a, "moment.post", {"mediaIds": list(range(1, 11))}) == 482  # ten images
    assert await code(a, "moment.post", {"text": "x", "mediaIds": [mine["mediaId"], bobs["mediaId"]]}) == 483
    assert await code(a, "moment.post", {"mediaIds": [voice["mediaId"]]}) == 483  # not an image
    assert await code(a, "moment.post", {"mediaIds": [999999]}) == 483
    assert await code(a, "moment.post", {"text": "x", "visibility": 3}) == 422
    assert await code(a, "moment.post", {"text": "x", "mediaIds": ["one"]}) == 422
    assert await code(a, "moment.post", {"text": 5, "mediaIds": 7}) == 422
    assert await Moment.objects.acount() == 1 and await MomentImage.objects.acount() == 0
    await b.push("moment.onPost")  # the one that was accepted
    assert await quiet(b)

    nine = [(await upload(alice))["mediaId"] for _ in range(8)] + [mine["mediaId"]]
    assert len((await a.ok("moment.post", {"mediaIds": nine}))["images"]) == 9

    anonymous = await connect()
    assert await code(anonymous, "moment.post", {"text": "x"}) == 401


@override_settings(MOMENT_POSTS_PER_HOUR=2)
async def test_posting_is_rate_limited(connect: Connect, alice: User) -> None:
    (a,) = await sockets(connect, alice)
    await a.ok("moment.post", {"text": "one"})
    await a.ok("moment.post", {"text": "two"})
    refused = await a.call("moment.post", {"text": "three"})
    assert refused["code"] == 429 and "2 moments an hour" in refused["msg"]
    assert await Moment.objects.acount() == 2


async def test_a_private_moment_is_the_authors_alone(connect: Connect, alice: User, bob: User) -> None:
    await befriend((alice, bob))
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("moment.post", {"text": "note to self", "visibility": 2})
    assert made["visibility"] == 2
    assert await quiet(b)  # no moment.onPost
    assert await code(b, "moment.get", {"momentId": made["momentId"]}) == 404
    for method in ("moment.like", "moment.unlike", "moment.delete"):
        assert await code(b, method, {"momentId": made["momentId"]}) == 404, method
    assert await code(b, "moment.comment", {"momentId": made["momentId"], "text": "hi"}) == 404
    assert ids(await b.ok("moment.feed")) == [] and ids(await b.ok("moment.list", {"uId": alice.pk})) == []
    assert ids(await a.ok("moment.feed")) == [made["momentId"]] == ids(await a.ok("moment.list"))
    await a.ok("moment.like", {"momentId": made["momentId"]})
    await a.ok("moment.comment", {"momentId": made["momentId"], "text": "remember milk"})
    await a.ok("moment.delete", {"momentId": made["momentId"]})
    assert await quiet(b)  # no moment.onDelete either


# --- moment.feed, moment.list, moment.get -------------------------------------------------------
async def test_feed_is_own_and_friends_moments_newest_first_in_pages(connect: Connect, alice: User, bob: User,
                                                                     charlie: User) -> None:
    await befriend((alice, bob), (bob, charlie))  # alice and charlie are strangers
    posted: dict[str, list[int]] = {"alice": [], "bob": [], "charlie": []}
    for user, n in ((alice, 3), (bob, 2), (charlie, 2)):
        for i in range(n):
            made = await sync_to_async(moment_post)(user=user, text=f"{user.username} {i}")
            posted[user.username].append(made["momentId"])
    private = (await sync_to_async(moment_post)(user=bob, text="mine", visibility=2))["momentId"]
    a, b, c = await sockets(connect, alice, bob, charlie)

    everything = sorted(posted["alice"] + posted["bob"] + posted["charlie"] + [private], reverse=True)
    first = await b.ok("moment.feed", {"count": 3})
    assert ids(first) == everything[:3] and first["hasMore"] is True
    second = await b.ok("moment.feed", {"count": 3, "beforeId": ids(first)[-1]})
    assert ids(second) == everything[3:6] and second["hasMore"] is True
    third = await b.ok("moment.feed", {"count": 3, "beforeId": ids(second)[-1]})
    assert ids(third) == everything[6:] and third["hasMore"] is False
    assert ids(await b.ok("moment.feed", {"beforeId": everything[-1]})) == []

    assert ids(await a.ok("moment.feed")) == sorted(posted["alice"] + posted["bob"], reverse=True)
    assert ids(await c.ok("moment.feed")) == sorted(posted["bob"] + posted["charlie"], reverse=True)
    assert (await a.ok("moment.feed"))["moments"][0]["text"] == "bob 1"

    assert ids(await a.ok("moment.list")) == posted["alice"][::-1]  # one's own, uId omitted
    assert ids(await a.ok("moment.list", {"uId": alice.pk})) == posted["alice"][::-1]
    assert ids(await b.ok("moment.list")) == [private, *posted["bob"][::-1]]
    assert ids(await a.ok("moment.list", {"uId": bob.pk})) == posted["bob"][::-1]  # not the private one
    page = await a.ok("moment.list", {"uId": bob.pk, "count": 1})
    assert ids(page) == [posted["bob"][1]] and page["hasMore"] is True
    page = await a.ok("moment.list", {"uId": bob.pk, "count": 1, "beforeId": posted["bob"][1]})
    assert ids(page) == [posted["bob"][0]] and page["hasMore"] is False
    assert await code(a, "moment.list", {"uId": charlie.pk}) == 404  # a stranger's
    assert await code(a, "moment.list", {"uId": 999999}) == 404  # as for nobody
    assert await code(a, "moment.feed", {"count": 51}) == 422
    assert await code(a, "moment.feed", {"count": 0}) == 422
    assert await code(a, "moment.get", {"momentId": posted["charlie"][0]}) == 404
    assert await code(a, "moment.get", {"momentId": 999999}) == 404
    assert await code(a, "moment.get", {}) == 422


async def test_strangers_and_blacklists_see_nothing_and_cannot_act(connect: Connect, alice: User, bob: User,
                                                                   charlie: User) -> None:
    await befriend((alice, bob))
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("moment.post", {"text": "hi"})
    theirs = await b.ok("moment.post", {"text": "bob's"})
    mid = made["momentId"]
    await b.push("moment.onPost")
    await a.push("moment.onPost")

    async def sees_nothing(client: SocketClient) -> None:
        for method in ("moment.get", "moment.like", "moment.unlike", "moment.delete"):
            assert await code(client, method, {"momentId": mid}) == 404, method
        assert await code(client, "moment.comment", {"momentId": mid, "text": "hey"}) == 404
        assert mid not in ids(await client.ok("moment.feed"))
        assert await code(client, "moment.list", {"uId": alice.pk}) == 404

    await sees_nothing(c)  # a stranger

    await Block.objects.acreate(user=alice, blocked=bob)  # she blacklists him
    await sees_nothing(b)
    assert theirs["momentId"] not in ids(await a.ok("moment.feed"))  # and his vanish from her feed
    assert await code(a, "moment.get", {"momentId": theirs["momentId"]}) == 404
    await Block.objects.all().adelete()
    await Block.objects.acreate(user=bob, blocked=alice)  # he blacklists her
    await sees_nothing(b)
    assert await code(a, "moment.list", {"uId": bob.pk}) == 404
    await Block.objects.all().adelete()
    assert (await b.ok("moment.get", {"momentId": mid}))["momentId"] == mid  # friends again in every way
    await unfriend(alice, bob)
    await sees_nothing(b)
    assert await MomentLike.objects.acount() == 0 and await MomentComment.objects.acount() == 0
    assert await quiet(a) and await quiet(b) and await quiet(c)


# --- likes --------------------------------------------------------------------------------------
async def test_like_pushes_to_the_author_once_and_unlike_takes_it_back(connect: Connect, alice: User, bob: User,
                                                                       charlie: User) -> None:
    await befriend((alice, bob), (alice, charlie), (bob, charlie))
    a, b, c = await sockets(connect, alice, bob, charlie)
    mid = (await a.ok("moment.post", {"text": "like me"}))["momentId"]
    for client in (b, c):
        await client.push("moment.onPost")

    liked = await b.ok("moment.like", {"momentId": mid})
    assert liked["momentId"] == mid and liked["uId"] == bob.pk and isinstance(liked["createAt"], int)
    assert await a.push("moment.onLike") == liked
    assert await b.ok("moment.like", {"momentId": mid}) == liked  # again: the same like, no second push
    await a.ok("moment.like", {"momentId": mid})  # the author's own like tells nobody
    assert await quiet(a) and await quiet(b) and await quiet(c)  # only the author hears of likes
    shown = await c.ok("moment.get", {"momentId": mid})
    assert [like["uId"] for like in shown["likes"]] == [bob.pk, alice.pk]

    assert await b.ok("moment.unlike", {"momentId": mid}) == {}
    assert await b.ok("moment.unlike", {"momentId": mid}) == {}  # nothing to take back: still fine
    assert [like["uId"] for like in (await c.ok("moment.get", {"momentId": mid}))["likes"]] == [alice.pk]
    assert await MomentLike.objects.acount() == 1
    assert await code(b, "moment.like", {"momentId": "x"}) == 422


@override_settings(MOMENT_ACTIONS_PER_MINUTE=3)
async def test_likes_and_comments_are_rate_limited_together(connect: Connect, alice: User, bob: User) -> None:
    await befriend((alice, bob))
    a, b = await sockets(connect, alice, bob)
    mid = (await a.ok("moment.post", {"text": "x"}))["momentId"]
    await b.ok("moment.like", {"momentId": mid})
    await b.ok("moment.like", {"momentId": mid})  # an existing like costs nothing
    await b.ok("moment.comment", {"momentId": mid, "text": "one"})
    await b.ok("moment.unlike", {"momentId": mid})
    await b.ok("moment.like", {"momentId": mid})
    assert await code(b, "moment.comment", {"momentId": mid, "text": "two"}) == 429
    await b.ok("moment.unlike", {"momentId": mid})
    assert await code(b, "moment.like", {"momentId": mid}) == 429
    assert await a.ok("moment.comment", {"momentId": mid, "text": "the author has her own count"})


# --- comments -----------------------------------------------------------------------------------
async def test_comments_and_replies_push_to_the_author_and_the_user_replied_to(
        connect: Connect, alice: User, bob: User, charlie: User) -> None:
    dave = await new_user("dave")
    await befriend((alice, bob), (alice, charlie), (alice, dave), (bob, charlie), (bob, dave), (charlie, dave))
    a, b, c, d = await sockets(connect, alice, bob, charlie, dave)
    mid = (await a.ok("moment.post", {"text": "comment here"}))["momentId"]
    for client in (b, c, d):
        await client.push("moment.onPost")

    said = await b.ok("moment.comment", {"momentId": mid, "text": " nice! "})
    assert said == {"commentId": said["commentId"], "momentId": mid, "from": bob.pk, "text": "nice!",
                    "replyTo": None, "replyToUId": None, "createAt": said["createAt"]}
    assert await a.push("moment.onComment") == said
    assert await quiet(b) and await quiet(c) and await quiet(d)

    reply = await c.ok("moment.comment", {"momentId": mid, "text": "agreed", "replyTo": said["commentId"]})
    assert reply["replyTo"] == said["commentId"] and reply["replyToUId"] == bob.pk
    assert await a.push("moment.onComment") == reply  # the author
    assert await b.push("moment.onComment") == reply  # and the one replied to
    assert await quiet(c) and await quiet(d)  # not the commenter, not other friends

    answer = await a.ok("moment.comment", {"momentId": mid, "text": "thanks", "replyTo": reply["commentId"]})
    assert await c.push("moment.onComment") == answer  # the author replying tells only the one replied to
    assert await quiet(a) and await quiet(b) and await quiet(d)

    to_self = await b.ok("moment.comment", {"momentId": mid, "text": "PS", "replyTo": said["commentId"]})
    assert await a.push("moment.onComment") == to_self
    assert await quiet(b)

    shown = await d.ok("moment.get", {"momentId": mid})
    assert [x["commentId"] for x in shown["comments"]] == [said["commentId"], reply["commentId"],
                                                           answer["commentId"], to_self["commentId"]]
    assert shown["comments"][2]["from"] == alice.pk

    other = (await a.ok("moment.post", {"text": "another"}))["momentId"]
    assert await code(b, "moment.comment", {"momentId": other, "text": "x", "replyTo": said["commentId"]}) == 404
    assert await code(b, "moment.comment", {"momentId": mid, "text": "x", "replyTo": 999999}) == 404
    assert await code(b, "moment.comment", {"momentId": mid, "text": "  "}) == 480
    with override_settings(MOMENT_COMMENT_MAX_TEXT=5):
        assert await code(b, "moment.comment", {"momentId": mid, "text": "123456"}) == 481
    assert await code(b, "moment.comment", {"momentId": mid}) == 422
    with override_settings(MOMENT_MAX_COMMENTS=4):
        assert await code(b, "moment.comment", {"momentId": mid, "text": "one too many"}) == 484
    assert await MomentComment.objects.filter(moment_id=mid).acount() == 4


async def test_each_viewer_sees_the_likes_and_comments_of_their_own_friends(
        connect: Connect, alice: User, bob: User, charlie: User) -> None:
    await befriend((alice, bob), (alice, charlie))  # bob and charlie do not know each other
    a, b, c = await sockets(connect, alice, bob, charlie)
    mid = (await a.ok("moment.post", {"text": "party"}))["momentId"]
    await b.ok("moment.like", {"momentId": mid})
    await c.ok("moment.like", {"momentId": mid})
    await a.ok("moment.like", {"momentId": mid})
    from_bob = await b.ok("moment.comment", {"momentId": mid, "text": "bob here"})
    from_charlie = await c.ok("moment.comment", {"momentId": mid, "text": "charlie here"})
    to_charlie = await a.ok("moment.comment", {"momentId": mid, "text": "hi charlie",
                                               "replyTo": from_charlie["commentId"]})
    plain = await a.ok("moment.comment", {"momentId": mid, "text": "hi all"})

    async def seen(client: SocketClient) -> tuple[list[int], list[int]]:
        moment = await client.ok("moment.get", {"momentId": mid})
        feed = next(m for m in (await client.ok("moment.feed"))["moments"] if m["momentId"] == mid)
        assert feed == moment  # the feed shows the same as moment.get
        return [x["uId"] for x in moment["likes"]], [x["commentId"] for x in moment["comments"]]

    everything = [from_bob["commentId"], from_charlie["commentId"], to_charlie["commentId"], plain["commentId"]]
    assert await seen(a) == ([bob.pk, charlie.pk, alice.pk], everything)
    # bob sees neither charlie's comment nor the author's reply to him: charlie is not his friend
    assert await seen(b) == ([bob.pk, alice.pk], [from_bob["commentId"], plain["commentId"]])
    assert await seen(c) == ([charlie.pk, alice.pk], everything[1:])
    assert await code(b, "moment.comment", {"momentId": mid, "text": "who?",
                                            "replyTo": from_charlie["commentId"]}) == 404
    assert await code(b, "moment.deleteComment", {"commentId": from_charlie["commentId"]}) == 404

    await befriend((bob, charlie))
    assert await seen(b) == ([bob.pk, charlie.pk, alice.pk], everything)
    await Block.objects.acreate(user=charlie, blocked=bob)  # a blacklist between viewers hides them again
    assert await seen(b) == ([bob.pk, alice.pk], [from_bob["commentId"], plain["commentId"]])
    assert await seen(c) == ([charlie.pk, alice.pk], everything[1:])
    await Block.objects.all().adelete()

    await Block.objects.acreate(user=alice, blocked=charlie)  # who falls out with the author
    assert await seen(a) == ([bob.pk, alice.pk], [from_bob["commentId"], plain["commentId"]])  # is hidden
    assert await seen(b) == ([bob.pk, alice.pk], [from_bob["commentId"], plain["commentId"]])  # from everyone
    await Block.objects.all().adelete()
    await unfriend(alice, bob)  # unfriending the author works the same
    assert await seen(a) == ([charlie.pk, alice.pk], everything[1:])
    await befriend((alice, bob))
    assert await seen(a) == ([bob.pk, charlie.pk, alice.pk], everything)  # and back when friends again


async def test_comments_are_deleted_by_their_author_or_the_moments(connect: Connect, alice: User, bob: User,
                                                                  charlie: User) -> None:
    await befriend((alice, bob), (alice, charlie), (bob, charlie))
    a, b, c = await sockets(connect, alice, bob, charlie)
    stranger = await connect(await atoken_for(await new_user("stranger")))
    mid = (await a.ok("moment.post", {"text": "x"}))["momentId"]
    first = await b.ok("moment.comment", {"momentId": mid, "text": "first"})
    second = await b.ok("moment.comment", {"momentId": mid, "text": "second"})
    reply = await c.ok("moment.comment", {"momentId": mid, "text": "re", "replyTo": first["commentId"]})

    assert await code(c, "moment.deleteComment", {"commentId": first["commentId"]}) == 403  # another friend
    assert await code(stranger, "moment.deleteComment", {"commentId": first["commentId"]}) == 404
    assert await b.ok("moment.deleteComment", {"commentId": first["commentId"]}) == {}  # its author
    assert await a.ok("moment.deleteComment", {"commentId": second["commentId"]}) == {}  # the moment's author
    assert await code(b, "moment.deleteComment", {"commentId": second["commentId"]}) == 404  # gone
    assert await code(b, "moment.deleteComment", {"commentId": 999999}) == 404
    comments = (await b.ok("moment.get", {"momentId": mid}))["comments"]
    # the reply stays, still addressed to bob, no longer pointing at a comment
    assert comments == [{**reply, "replyTo": None}] and comments[0]["replyToUId"] == bob.pk


# --- moment.delete ------------------------------------------------------------------------------
async def test_only_the_author_deletes_and_the_moment_vanishes_everywhere(connect: Connect, alice: User, bob: User,
                                                                         charlie: User) -> None:
    await befriend((alice, bob))
    picture = await upload(alice)
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("moment.post", {"text": "oops", "mediaIds": [picture["mediaId"]]})
    mid = made["momentId"]
    await b.push("moment.onPost")
    await b.ok("moment.like", {"momentId": mid})
    await b.ok("moment.comment", {"momentId": mid, "text": "ha"})
    await a.push("moment.onLike")
    await a.push("moment.onComment")

    assert await code(b, "moment.delete", {"momentId": mid}) == 403  # he sees it, but it is hers
    assert await code(c, "moment.delete", {"momentId": mid}) == 404  # he does not even see it
    assert await a.ok("moment.delete", {"momentId": mid}) == {}
    assert await b.push("moment.onDelete") == {"momentId": mid}
    assert await quiet(a) and await quiet(c)
    for client in (a, b):
        assert await code(client, "moment.get", {"momentId": mid}) == 404
        assert ids(await client.ok("moment.feed")) == []
        assert await code(client, "moment.comment", {"momentId": mid, "text": "late"}) == 404
        assert await code(client, "moment.like", {"momentId": mid}) == 404
    assert ids(await b.ok("moment.list", {"uId": alice.pk})) == []
    assert await code(a, "moment.delete", {"momentId": mid}) == 404
    for model in (Moment, MomentImage, MomentLike, MomentComment):
        assert await model.objects.acount() == 0, model
    # the upload itself is kept (a chat message may show it) and can be posted again
    assert len((await a.ok("moment.post", {"mediaIds": [picture["mediaId"]]}))["images"]) == 1


# --- REST twins and the operator ----------------------------------------------------------------
def test_rest_twins_share_the_socket_handlers(alice: User, bob: User, charlie: User) -> None:
    _befriend((alice, bob))
    picture = _upload(alice)
    alice_api, bob_api = api_for(alice), api_for(bob)
    made = alice_api.post("/api/v1/moments", {"text": "via rest", "mediaIds": [picture["mediaId"]]}, format="json")
    assert made.status_code == 200, made.content
    mid = made.json()["momentId"]
    assert bob_api.get(f"/api/v1/moments/{mid}").json() == made.json()
    assert [m["momentId"] for m in bob_api.get("/api/v1/moments/feed?count=5").json()["moments"]] == [mid]
    assert bob_api.get(f"/api/v1/moments/list?uId={alice.pk}").json()["hasMore"] is False
    assert bob_api.post(f"/api/v1/moments/{mid}/like").json()["uId"] == bob.pk
    said = bob_api.post(f"/api/v1/moments/{mid}/comment", {"text": "nice"}, format="json").json()
    assert said["from"] == bob.pk
    assert bob_api.post(f"/api/v1/moments/{mid}/unlike").status_code == 200
    assert alice_api.post(f"/api/v1/moments/comments/{said['commentId']}/delete").status_code == 200
    refused = bob_api.post(f"/api/v1/moments/{mid}/delete")
    assert refused.status_code == 403 and refused.json()["code"] == 403
    hidden = api_for(charlie).get(f"/api/v1/moments/{mid}")
    assert hidden.status_code == 404 and hidden.json()["code"] == 404
    empty = alice_api.post("/api/v1/moments", {"text": ""}, format="json")
    assert empty.status_code == 400 and empty.json() == {"code": 480, "error": "moment_empty",
                                                         "msg": "a moment needs text or images"}
    foreign = bob_api.post("/api/v1/moments", {"mediaIds": [picture["mediaId"]]}, format="json")
    assert foreign.status_code == 400 and foreign.json()["code"] == 483
    assert alice_api.post(f"/api/v1/moments/{mid}/delete").status_code == 200
    assert bob_api.get(f"/api/v1/moments/{mid}").status_code == 404


async def test_an_operator_removal_is_a_deletion_with_its_push(connect: Connect, alice: User, bob: User) -> None:
    await befriend((alice, bob))
    (b,) = await sockets(connect, bob)
    made = await sync_to_async(moment_post)(user=alice, text="spam")
    await b.push("moment.onPost")
    assert await sync_to_async(moment_remove)(moment_id=made["momentId"]) is True
    assert await b.push("moment.onDelete") == {"momentId": made["momentId"]}
    assert await sync_to_async(moment_remove)(moment_id=made["momentId"]) is False


def test_admin_lists_and_deletes_through_the_service(admin_client: Any, alice: User, bob: User) -> None:
    _befriend((alice, bob))
    made = moment_post(user=alice, text="for the operator")
    comment = moment_comment(user=bob, moment_id=made["momentId"], text="rude")
    listing = admin_client.get("/admin/accounts/moment/")
    assert listing.status_code == 200 and b"for the operator" in listing.content
    assert admin_client.get(f"/admin/accounts/moment/{made['momentId']}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/moment/add/").status_code == 403
    assert admin_client.post("/admin/accounts/momentcomment/", {
        "action": "delete_selected", "_selected_action": [comment["commentId"]], "post": "yes"}).status_code == 302
    assert not MomentComment.objects.exists()
    assert admin_client.post(f"/admin/accounts/moment/{made['momentId']}/delete/", {"post": "yes"}).status_code == 302
    assert not Moment.objects.exists()


# --- races (PostgreSQL) -------------------------------------------------------------------------
@pytest.mark.postgres
def test_parallel_likes_of_one_user_make_one_like_and_the_comment_cap_holds(alice: User, bob: User,
                                                                            settings: Any) -> None:
    from tests.accounts.test_concurrency import run_parallel

    settings.MOMENT_MAX_COMMENTS = 3
    _befriend((alice, bob))
    mid = moment_post(user=alice, text="race")["momentId"]
    likes = run_parallel(8, lambda i: moment_like(user=bob, moment_id=mid))
    assert all(isinstance(r, dict) for r in likes), likes
    assert len({r["createAt"] for r in likes}) == 1 and MomentLike.objects.count() == 1
    said = run_parallel(8, lambda i: moment_comment(user=bob, moment_id=mid, text=f"c{i}"))
    assert sum(isinstance(r, dict) for r in said) == 3 and MomentComment.objects.count() == 3
    assert all(r.code == "moment_too_many_comments" for r in said if isinstance(r, ApplicationError))


@pytest.mark.postgres
def test_a_like_racing_a_delete_leaves_nothing_behind(alice: User, bob: User) -> None:
    from tests.accounts.test_concurrency import run_parallel

    _befriend((alice, bob))
    def race(i: int, mid: int) -> Any:
        return moment_delete(user=alice, moment_id=mid) if i == 0 else moment_like(user=bob, moment_id=mid)

    for _ in range(5):
        mid = moment_post(user=alice, text="race")["momentId"]
        results = run_parallel(2, partial(race, mid=mid))
        assert results[0] is None, results
        liked = results[1]
        assert isinstance(liked, dict) or (isinstance(liked, ApplicationError) and liked.code == "not_found"), results
        assert not Moment.objects.filter(pk=mid).exists() and not MomentLike.objects.exists()
