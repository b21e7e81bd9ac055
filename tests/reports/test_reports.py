"""Reports: users report a message or a user (reports.create and its REST twin); operators work
the queue in the console (/admin/reports/report/): dismiss, mark actioned, ban, each with an
outcome note."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Chat
from chats.services import chat_members_add, group_create
from core import throttle
from messaging.models import Message
from messaging.services import message_send
from reports.models import Report
from reports.services import report_create
from tests.conftest import Connect, atoken_for, token_for

SPAM = "buy cheap coins at scam.example"


@dataclass
class Scene:
    group: Chat
    spam: Message  # bob's, in the group alice and bob are in
    own: Message  # alice's
    notice: Message  # the group's creation notice


def scene(alice: User, bob: User) -> Scene:
    group = group_create(owner=alice, title="Team", member_ids=[bob.pk])
    notice = Message.objects.get(chat=group, type=Message.Type.SYSTEM)
    before, _, _ = message_send(sender=alice, type_=1, content={"text": "hello all"}, chat_wire_id=group.wire_id)
    spam, _, _ = message_send(sender=bob, type_=1, content={"text": SPAM}, chat_wire_id=group.wire_id)
    message_send(sender=alice, type_=1, content={"text": "please stop"}, chat_wire_id=group.wire_id)
    return Scene(group=group, spam=spam, own=before, notice=notice)


def of_message(s: Scene, msg: Message | None = None, **more: Any) -> dict[str, Any]:
    return {"kind": "message", "chatId": s.group.wire_id, "messageId": (msg or s.spam).pk, "reason": "spam",
            **more}


# --- the socket method --------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_a_member_reports_a_message_and_a_repeat_answers_the_same_report(
        connect: Connect, alice: User, bob: User) -> None:
    # given bob's spam in a group of alice's
    s = await sync_to_async(scene)(alice, bob)
    socket = await connect(await atoken_for(alice))
    # when alice reports it, twice
    first = await socket.ok("reports.create", of_message(s, description="  a scam link  "))
    again = await socket.ok("reports.create", of_message(s, reason="fraud"))
    # then one open report of bob, with the message as it was
    assert first == {"reportId": first["reportId"], "status": "open"} and again == first
    report = await Report.objects.aget(pk=first["reportId"])
    assert (report.kind, report.reported_user_id, report.reporter_id) == ("message", bob.pk, alice.pk)
    assert (report.chat_id, report.message_id, report.reason) == (s.group.pk, s.spam.pk, "spam")
    assert report.message_content == {"text": SPAM} and report.description == "a scam link"
    assert await Report.objects.acount() == 1
    # and a report of bob himself is another report
    user = await socket.ok("reports.create", {"kind": "user", "uId": bob.pk, "reason": "abuse"})
    assert user["reportId"] != first["reportId"]


@pytest.mark.django_db(transaction=True)
async def test_every_refusal_of_reports_create_on_the_socket(
        connect: Connect, alice: User, bob: User, charlie: User, settings: Any) -> None:
    s = await sync_to_async(scene)(alice, bob)
    alice_socket = await connect(await atoken_for(alice))
    charlie_socket = await connect(await atoken_for(charlie))

    async def code(socket: Any, params: dict[str, Any]) -> int:
        return (await socket.call("reports.create", params))["code"]

    # not a member of the chat
    assert await code(charlie_socket, of_message(s)) == 403
    assert await code(charlie_socket, {"kind": "user", "uId": bob.pk, "chatId": s.group.wire_id,
                                       "reason": "spam"}) == 403
    # oneself, or one's own message
    assert await code(alice_socket, {"kind": "user", "uId": alice.pk, "reason": "spam"}) == 400
    assert await code(alice_socket, of_message(s, s.own)) == 400
    # unknown message, chat, user
    assert await code(alice_socket, of_message(s, messageId=10**9)) == 404
    assert await code(alice_socket, of_message(s, chatId=-(10**9))) == 404
    assert await code(alice_socket, {"kind": "user", "uId": 10**9, "reason": "spam"}) == 404
    # a system notice is nobody's message
    assert await code(alice_socket, of_message(s, s.notice)) == 403
    # a message sent before the reporter joined is not theirs to see
    await sync_to_async(chat_members_add)(actor=alice, wire_id=s.group.wire_id, user_ids=[charlie.pk])
    assert await code(charlie_socket, of_message(s)) == 404
    # bad parameters
    for bad in (of_message(s, reason="ugly"), of_message(s, description="x" * 501), of_message(s, kind="chat"),
                {"kind": "message", "chatId": s.group.wire_id, "reason": "spam"},
                {"kind": "user", "uId": bob.pk, "messageId": s.spam.pk, "reason": "spam"}):
        reply = await alice_socket.call("reports.create", bad)
        assert reply["code"] == 422, (bad, reply)
    assert await Report.objects.acount() == 0
    # the rate limit: REPORTS_PER_HOUR calls per user, refused ones and repeats included
    settings.REPORTS_PER_HOUR = 2
    await sync_to_async(throttle.reset)(f"method:reports.create:{alice.pk}")  # the refusals above counted
    assert await code(alice_socket, of_message(s)) == 200
    assert await code(alice_socket, of_message(s)) == 200
    limited = await alice_socket.call("reports.create", {"kind": "user", "uId": bob.pk, "reason": "spam"})
    assert limited["code"] == 429 and "reports.create" in limited["msg"]
    assert await Report.objects.acount() == 1


# --- the REST twin ------------------------------------------------------------------------------

def api_for(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return api


@pytest.mark.django_db
def test_the_rest_twin_files_the_same_report(alice: User, bob: User) -> None:
    s = scene(alice, bob)
    api = api_for(alice)
    first = api.post("/api/v1/reports", of_message(s), format="json")
    assert first.status_code == 200 and first.json()["status"] == "open"
    again = api.post("/api/v1/reports", of_message(s), format="json")
    assert again.json() == first.json()
    # a report of a user, in the chat where it happened
    user = api.post("/api/v1/reports", {"kind": "user", "uId": bob.pk, "chatId": s.group.wire_id,
                                        "reason": "abuse", "description": "insults"}, format="json")
    assert user.status_code == 200
    report = Report.objects.get(pk=user.json()["reportId"])
    assert (report.kind, report.reported_user, report.chat_id, report.message) == ("user", bob, s.group.pk, None)


@pytest.mark.django_db
def test_the_rest_twin_refuses_with_the_sockets_codes(alice: User, bob: User, charlie: User,
                                                      settings: Any) -> None:
    s = scene(alice, bob)
    api = api_for(alice)

    def answer(params: dict[str, Any], client: APIClient = api) -> tuple[int, int, str]:
        response = client.post("/api/v1/reports", params, format="json")
        body = response.json()
        return response.status_code, body["code"], body["error"]

    assert answer(of_message(s), api_for(charlie)) == (403, 403, "not_a_member")
    assert answer({"kind": "user", "uId": alice.pk, "reason": "spam"}) == (400, 400, "self_not_allowed")
    assert answer(of_message(s, s.own)) == (400, 400, "self_not_allowed")
    assert answer(of_message(s, messageId=10**9)) == (404, 404, "not_found")
    assert answer(of_message(s, s.notice)) == (403, 403, "not_reportable")
    assert answer(of_message(s, reason="ugly")) == (400, 422, "invalid")
    assert answer(of_message(s, description="x" * 501)) == (400, 422, "invalid")
    assert APIClient().post("/api/v1/reports", of_message(s), format="json").status_code == 401
    settings.REPORTS_PER_HOUR = 1
    throttle.reset(f"method:reports.create:{alice.pk}")  # the refusals above counted
    assert api.post("/api/v1/reports", of_message(s), format="json").status_code == 200
    assert answer(of_message(s)) == (429, 429, "rate_limited")
    assert Report.objects.count() == 1


# --- the console --------------------------------------------------------------------------------

def operator() -> tuple[Client, User]:
    root = User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    return client, root


QUEUE = "/admin/reports/report/"


def filed(alice: User, bob: User) -> tuple[Scene, Report]:
    s = scene(alice, bob)
    report, _ = report_create(reporter=alice, kind="message", reason="fraud", description="scam link",
                              chat_wire_id=s.group.wire_id, message_id=s.spam.pk)
    return s, report


@pytest.mark.django_db
def test_the_queue_lists_open_reports_and_the_page_shows_the_message_in_its_context(
        alice: User, bob: User, charlie: User) -> None:
    s, report = filed(alice, bob)
    closed, _ = report_create(reporter=charlie, kind="user", reason="other", user_id=bob.pk)
    Report.objects.filter(pk=closed.pk).update(status="dismissed", handled_at=report.created_at)
    client, _ = operator()
    # the queue: the open report with an excerpt of the message, not the closed one
    queue = client.get(QUEUE)
    assert queue.status_code == 200
    text = queue.content.decode()
    assert f"{QUEUE}{report.pk}/change/" in text and SPAM in text and "Fraud" in text
    assert f"{QUEUE}{closed.pk}/change/" not in text
    everything = client.get(QUEUE, {"status": "all"}).content.decode()
    assert f"{QUEUE}{closed.pk}/change/" in everything
    for filters in ({"reason": "fraud"}, {"kind": "message"}, {"status": "dismissed"}):
        assert client.get(QUEUE, filters).status_code == 200
    # the report's page: the message in full, the messages around it, links to bob and the chat
    page = client.get(f"{QUEUE}{report.pk}/change/").content.decode()
    assert SPAM in page and "hello all" in page and "please stop" in page and "scam link" in page
    assert f"/admin/accounts/user/{bob.pk}/change/" in page
    assert f"/admin/chats/chat/{s.group.pk}/change/" in page
    # reports are not added or edited in the console
    assert client.get(f"{QUEUE}add/").status_code == 403
    assert client.post(f"{QUEUE}{report.pk}/change/", {"status": "dismissed"}).status_code == 403
    assert Report.objects.get(pk=report.pk).status == "open"


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "status"), [("dismiss", "dismissed"), ("mark_actioned", "actioned")])
def test_an_operator_closes_a_report_with_an_outcome_note(alice: User, bob: User, action: str,
                                                          status: str) -> None:
    _, report = filed(alice, bob)
    client, root = operator()
    selected = {"action": action, "_selected_action": [report.pk]}
    # the action asks for the outcome first
    asked = client.post(QUEUE, selected)
    assert asked.status_code == 200 and "Outcome note" in asked.content.decode()
    # and insists on one
    blank = client.post(QUEUE, {**selected, "outcome": "  ", "post": "yes"})
    assert blank.status_code == 200 and "This field is required" in blank.content.decode()
    assert Report.objects.get(pk=report.pk).status == "open"
    # given one, it closes the report
    done = client.post(QUEUE, {**selected, "outcome": "warned the sender", "post": "yes"}, follow=True)
    assert done.status_code == 200 and "1 report(s) closed" in done.content.decode()
    report.refresh_from_db()
    assert (report.status, report.outcome, report.handled_by) == (status, "warned the sender", root)
    assert report.handled_at is not None
    entry = LogEntry.objects.get(object_id=str(report.pk))
    assert entry.user == root and "warned the sender" in entry.get_change_message()
    # it has left the queue, and a second try changes nothing
    assert f"{QUEUE}{report.pk}/change/" not in client.get(QUEUE).content.decode()
    again = client.post(QUEUE, {**selected, "outcome": "again", "post": "yes"}, follow=True)
    assert "None of the selected reports is open" in again.content.decode()
    assert Report.objects.get(pk=report.pk).outcome == "warned the sender"


@pytest.mark.django_db
def test_the_report_page_offers_the_actions(alice: User, bob: User) -> None:
    _, report = filed(alice, bob)
    client, _ = operator()
    page = client.get(f"{QUEUE}{report.pk}/change/").content.decode()
    assert 'value="ban_reported_user"' in page and 'value="dismiss"' in page and f'formaction="{QUEUE}"' in page
    assert f'name="_selected_action" value="{report.pk}"' in page


@pytest.mark.django_db
def test_the_confirmation_lists_only_the_open_reports_and_warns_of_a_ban(alice: User, bob: User,
                                                                         charlie: User) -> None:
    _, report = filed(alice, bob)
    closed, _ = report_create(reporter=charlie, kind="user", reason="other", user_id=bob.pk)
    Report.objects.filter(pk=closed.pk).update(status="dismissed", handled_at=report.created_at)
    client, _ = operator()
    asked = client.post(QUEUE, {"action": "ban_reported_user", "_selected_action": [report.pk, closed.pk]})
    page = asked.content.decode()
    assert asked.status_code == 200 and "every socket of theirs is closed" in page
    assert f"{QUEUE}{report.pk}/change/" in page and f"{QUEUE}{closed.pk}/change/" not in page
    assert f'name="_selected_action" value="{closed.pk}"' not in page
    assert User.objects.get(pk=bob.pk).is_active  # nothing done yet


@pytest.mark.django_db(transaction=True)
async def test_banning_the_reported_user_closes_their_socket(connect: Connect, alice: User, bob: User) -> None:
    # given bob online and alice's report of his message
    _, report = await sync_to_async(filed)(alice, bob)
    bob_socket = await connect(await atoken_for(bob))
    client, root = await sync_to_async(operator)()
    # when an operator bans him from the queue
    done = await sync_to_async(client.post)(QUEUE, {
        "action": "ban_reported_user", "_selected_action": [report.pk], "outcome": "fraud, banned", "post": "yes"})
    assert done.status_code == 302
    # then his socket is closed, he is inactive and the report is actioned
    assert await bob_socket.closed() == 4003
    assert not (await User.objects.aget(pk=bob.pk)).is_active
    report = await Report.objects.aget(pk=report.pk)
    assert (report.status, report.outcome, report.handled_by_id) == ("actioned", "fraud, banned", root.pk)


@pytest.mark.django_db(transaction=True)
async def test_deleting_the_reported_message_from_the_queue_recalls_it_for_the_members(
        connect: Connect, alice: User, bob: User, charlie: User) -> None:
    # given alice's report of bob's message in their group, alice online, and a report of a user
    s, report = await sync_to_async(filed)(alice, bob)
    of_user, _ = await sync_to_async(report_create)(reporter=charlie, kind="user", reason="abuse", user_id=bob.pk)
    alice_socket = await connect(await atoken_for(alice))
    client, _root = await sync_to_async(operator)()
    # when an operator deletes the reported message from the queue (both reports selected)
    done = await sync_to_async(client.post)(QUEUE, {
        "action": "delete_reported_message", "_selected_action": [report.pk, of_user.pk],
        "outcome": "scam link removed", "post": "yes"}, follow=True)
    # then the members are told it is recalled, its text is gone, the report keeps its copy
    recall = await alice_socket.push("messages.onRecall")
    assert (recall["chatId"], recall["seq"]) == (s.group.wire_id, s.spam.seq)
    spam = await Message.objects.aget(pk=s.spam.pk)
    assert spam.recalled_at is not None and spam.content == {}
    report = await Report.objects.aget(pk=report.pk)
    assert report.status == "actioned" and report.message_content == {"text": SPAM}
    # and the report of a user is skipped, open, with the reason on the page
    assert (await Report.objects.aget(pk=of_user.pk)).status == "open"
    assert "is not of a message" in done.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_removing_the_sender_from_the_group_from_the_queue(connect: Connect, alice: User, bob: User) -> None:
    s, report = await sync_to_async(filed)(alice, bob)
    bob_socket = await connect(await atoken_for(bob))
    client, _root = await sync_to_async(operator)()
    done = await sync_to_async(client.post)(QUEUE, {
        "action": "remove_from_chat", "_selected_action": [report.pk], "outcome": "removed", "post": "yes"})
    assert done.status_code == 302
    removed = await bob_socket.push("chats.onRemoved")
    assert removed["chatId"] == s.group.wire_id
    refused = await bob_socket.call("messages.send", {"chatId": s.group.wire_id, "type": 1,
                                                       "content": {"text": "back again"}, "clientMsgId": "x1"})
    assert refused["code"] != 200
    assert (await Report.objects.aget(pk=report.pk)).status == "actioned"


# --- at the same time (PostgreSQL) ---------------------------------------------------------------

@pytest.mark.postgres
def test_simultaneous_reports_of_one_message_by_one_user_store_one(alice: User, bob: User) -> None:
    from tests.accounts.test_concurrency import run_parallel

    s = scene(alice, bob)
    results = run_parallel(8, lambda i: report_create(reporter=alice, kind="message", reason="spam",
                                                      chat_wire_id=s.group.wire_id, message_id=s.spam.pk)[0].pk)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1 and Report.objects.count() == 1


@pytest.mark.postgres
def test_two_operators_closing_one_report_at_once_close_it_once(alice: User, bob: User) -> None:
    from core.exceptions import ApplicationError
    from reports.services import report_close
    from tests.accounts.test_concurrency import run_parallel

    _, report = filed(alice, bob)
    first, second = User.objects.create_superuser("op1"), User.objects.create_superuser("op2")
    operators = [first, second]
    results = run_parallel(2, lambda i: report_close(report_id=report.pk, operator=operators[i],
                                                     status="dismissed", outcome=f"by op{i + 1}"))
    closed = [r for r in results if isinstance(r, Report)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(closed) == 1 and len(refused) == 1 and refused[0].code == "report_already_handled", results
    report.refresh_from_db()
    assert report.outcome == closed[0].outcome and report.handled_by == closed[0].handled_by
