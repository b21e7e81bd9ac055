"""The web chat (/app/) driven as a person would use it: a real daphne server, Debian's Chromium
through Playwright, alice and bob in two browser contexts.

Each step saves a screenshot under var/artifacts/web/ (the test prints where). Skipped when
/usr/bin/chromium or the playwright package is missing (.ci/run installs Chromium).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import urllib.request
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.e2e.server import ROOT, daphne, database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "var" / "artifacts" / "web"
STEP_MS = 15_000  # the longest wait of any one step

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

Page = Any  # playwright.sync_api.Page


@pytest.fixture
def base_url() -> Iterator[str]:
    """``make run``'s server on the test database, seeded by ``manage.py seed_demo`` run as the
    server runs it (its settings hash the demo passwords as the server checks them)."""
    environment = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    if settings.REDIS_URL:
        environment["CACHE_REDIS_URL"] = settings.CACHE_REDIS_URL
    else:
        environment.pop("REDIS_URL", None)
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    with daphne() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def browser(base_url: str) -> Iterator[Any]:
    """Chromium, started after the server and the seed: Playwright's sync API runs an event loop
    in this thread, in which Django refuses database calls."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Any]:
    """shot(page, name): a screenshot under var/artifacts/web/<test>/, numbered in order."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = [0]

    def shot(page: Page, name: str) -> Path:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path

    yield shot
    print(f"\nscreenshots: {folder}")


def open_as(browser: Any, base_url: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: print(f"[{username} console] {message.type}: {message.text}"))
    page.errors = errors
    page.goto(f"{base_url}/app/")
    page.get_by_label("Username").first.fill(username)
    page.get_by_label("Password").first.fill("demo1234")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("body[data-ready='1']")
    return page


def conversation(page: Page, title: str) -> Any:
    """The conversation list's entry whose title is ``title`` (not one that merely mentions it)."""
    exact = re.compile(f"{re.escape(title)}$")
    return page.locator(".convs .conv").filter(has=page.locator(".conv-title", has_text=exact))


def open_chat(page: Page, title: str) -> None:
    conversation(page, title).click()
    page.wait_for_selector(f"#chat-title:text-is('{title}')")


def send_text(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def bubbles(page: Page, text: str) -> Any:
    return page.locator(".messages li.msg", has_text=text)


def balance(page: Page) -> Decimal:
    """The balance as the page shows it ("Balance: 1,000.00 cny")."""
    shown = page.locator("#balance").inner_text()
    match = re.search(r"Balance: ([\d,]+\.\d+)", shown)
    assert match, shown
    return Decimal(match.group(1).replace(",", ""))


def wait_balance(page: Page, expected: Decimal) -> None:
    sync_api.expect(page.locator("#balance")).to_contain_text(f"{expected:,.2f}")


def png(width: int, height: int) -> bytes:
    """A small PNG, red on the left and blue on the right (no image library needed)."""
    row = b"\x00" + b"".join(bytes((220, 30, 30)) if x < width // 2 else bytes((30, 60, 220)) for x in range(width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def test_alice_and_bob_chat_live_with_an_image_receipts_and_a_reload(browser: Any, base_url: str, shots: Any) -> None:
    expect = sync_api.expect
    alice = open_as(browser, base_url, "alice")
    bob = open_as(browser, base_url, "bob")
    shots(alice, "alice-logged-in")

    # alice starts the private chat with bob (a draft until the first message).
    alice.get_by_role("button", name="New chat").click()
    alice.locator("dialog .members button", has_text="Bob").click()
    send_text(alice, "hello bob")
    expect(bubbles(alice, "hello bob")).to_have_count(1)
    expect(alice.locator("#chat-title")).to_have_text("Bob")

    # bob sees it live: a new conversation with one unread message.
    conv = conversation(bob, "Alice")
    expect(conv).to_contain_text("hello bob")
    expect(conv.locator(".badge")).to_have_text("1")
    shots(bob, "bob-sees-unread")
    open_chat(bob, "Alice")
    expect(bubbles(bob, "hello bob")).to_have_count(1)
    expect(conv.locator(".badge")).to_have_count(0)
    # alice's message is marked read once bob has it open (read receipt), and bob is online.
    expect(bubbles(alice, "hello bob").locator(".state")).to_have_text("✓✓ read")
    expect(alice.locator(".chat-head .status")).to_have_text("online")

    # bob types: alice sees the typing indicator; then bob replies with an image.
    bob.get_by_role("textbox", name="Message").press_sequentially("typing", delay=20)
    expect(alice.locator(".chat-head .status")).to_have_text("Bob is typing…")
    shots(alice, "alice-sees-typing")
    bob.get_by_role("textbox", name="Message").fill("")
    bob.locator("#image-input").set_input_files(files=[{"name": "flag.png", "mimeType": "image/png",
                                                         "buffer": png(64, 40)}])
    expect(bob.locator(".messages li.msg.mine img.thumb")).to_have_count(1)
    image = alice.locator(".messages li.msg.theirs img.thumb")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("data-loaded", "1")  # fetched with the token, shown as a blob
    assert alice.evaluate("document.querySelector('.messages img.thumb').naturalWidth") == 64
    shots(alice, "alice-sees-image")
    alice.locator(".messages button.image").click()
    expect(alice.locator("dialog.viewer img.full")).to_be_visible()
    shots(alice, "alice-full-image")
    alice.locator("dialog.viewer .close").click()
    send_text(bob, "nice, right?")
    expect(bubbles(alice, "nice, right?")).to_have_count(1)

    # A reload restores the conversation from history, in order, nothing doubled.
    alice.reload()
    alice.wait_for_selector("body[data-ready='1']")
    open_chat(alice, "Bob")
    expect(bubbles(alice, "hello bob")).to_have_count(1)
    expect(bubbles(alice, "nice, right?")).to_have_count(1)
    expect(alice.locator(".messages img.thumb")).to_have_count(1)
    expect(bubbles(alice, "hello bob").locator(".state")).to_have_text("✓✓ read")  # the receipt is kept
    texts = alice.locator(".messages li.msg").all_inner_texts()
    first, reply = (next(i for i, t in enumerate(texts) if needle in t) for needle in ("hello bob", "nice, right?"))
    assert first < reply
    shots(alice, "alice-after-reload")
    assert alice.errors == [] and bob.errors == []


def test_a_red_packet_in_the_group_and_a_transfer_change_both_balances(browser: Any, base_url: str, shots: Any) -> None:
    expect = sync_api.expect
    alice = open_as(browser, base_url, "alice")
    bob = open_as(browser, base_url, "bob")
    wait_balance(alice, Decimal("1000"))
    wait_balance(bob, Decimal("1000"))
    open_chat(alice, "Demo group")
    open_chat(bob, "Demo group")

    # alice sends an equal red packet of two shares of 5.00 into the group.
    alice.get_by_role("button", name="Red packet", exact=True).click()
    form = alice.locator("dialog form")
    form.get_by_label("Kind").select_option("3")
    form.get_by_label("Amount per share").fill("5")
    form.get_by_label("Number of shares").fill("2")
    form.get_by_label("Greeting").fill("Lunch is on me")
    form.get_by_label("Payment password").fill("123456")
    shots(alice, "alice-red-packet-form")
    form.get_by_role("button", name="Send red packet").click()
    expect(alice.locator("dialog")).to_have_count(0)
    wait_balance(alice, Decimal("990"))

    # bob sees the packet live and opens it: he got 5.00, and the dialog lists who got what.
    packet = bob.locator(".messages li.msg", has_text="Lunch is on me")
    expect(packet).to_have_count(1)
    shots(bob, "bob-sees-red-packet")
    packet.get_by_role("button", name="Open").click()
    dialog = bob.locator("dialog")
    expect(dialog).to_contain_text("You got 5.00")
    expect(dialog.locator(".grabs li")).to_have_count(1)
    expect(dialog.locator(".grabs li")).to_contain_text("You 5.00")
    shots(bob, "bob-opened-red-packet")
    dialog.get_by_role("button", name="Close").click()
    wait_balance(bob, Decimal("1005"))
    # alice is told who grabbed; her balance stays 990 (one share is still free).
    expect(alice.locator(".messages li.msg", has_text="Bob got 5.00")).to_have_count(1)
    alice.locator(".messages li.msg", has_text="Lunch is on me").get_by_role("button", name="Details").click()
    expect(alice.locator("dialog .grabs li")).to_contain_text("Bob 5.00")
    shots(alice, "alice-red-packet-details")
    alice.locator("dialog").get_by_role("button", name="Close").click()
    assert balance(alice) == Decimal("990")

    # bob sends alice a transfer of 12.50 in their private chat; alice receives it.
    bob.get_by_role("button", name="New chat").click()
    bob.locator("dialog .members button", has_text="Alice").click()
    send_text(bob, "paying you back")
    expect(bubbles(bob, "paying you back")).to_have_count(1)
    bob.get_by_role("button", name="Transfer", exact=True).click()
    form = bob.locator("dialog form")
    form.get_by_label("Amount").fill("12.50")
    form.get_by_label("Note (optional)").fill("lunch")
    form.get_by_label("Payment password").fill("123456")
    form.get_by_role("button", name="Send transfer").click()
    expect(bob.locator("dialog")).to_have_count(0)
    wait_balance(bob, Decimal("992.50"))
    expect(conversation(alice, "Bob").locator(".badge")).to_have_text("2")  # the text and the transfer
    open_chat(alice, "Bob")
    expect(conversation(alice, "Bob").locator(".badge")).to_have_count(0)  # read once open
    card = alice.locator(".messages li.msg .transfer")
    expect(card).to_contain_text("12.50")
    shots(alice, "alice-sees-transfer")
    card.get_by_role("button", name="Receive").click()
    expect(card).to_contain_text("received")
    expect(conversation(alice, "Bob").locator(".badge")).to_have_count(0)  # still read: the chat is open
    wait_balance(alice, Decimal("1002.50"))
    expect(bob.locator(".messages li.msg .transfer")).to_contain_text("received")
    shots(alice, "alice-received-transfer")
    shots(bob, "bob-after-transfer")

    # A wrong payment password is refused and moves nothing.
    alice.get_by_role("button", name="Transfer", exact=True).click()
    form = alice.locator("dialog form")
    form.get_by_label("Amount").fill("1")
    form.get_by_label("Payment password").fill("000000")
    form.get_by_role("button", name="Send transfer").click()
    expect(form.locator(".error")).to_contain_text("wrong payment password")
    alice.locator("dialog").get_by_role("button", name="Close").click()
    assert balance(alice) == Decimal("1002.50")
    assert alice.errors == [] and bob.errors == []


def test_a_dropped_socket_reconnects_and_sends_the_outbox_exactly_once(browser: Any, base_url: str,
                                                                        shots: Any) -> None:
    expect = sync_api.expect
    alice = open_as(browser, base_url, "alice")
    bob = open_as(browser, base_url, "bob")
    open_chat(alice, "Demo group")
    open_chat(bob, "Demo group")
    send_text(alice, "before the drop")
    expect(bubbles(bob, "before the drop")).to_have_count(1)

    # bob's network goes away: the socket is cut and reconnecting fails while offline.
    bob.context.set_offline(True)
    assert bob.evaluate("window.imApp.dropSockets()") == 1
    banner = bob.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(re.compile("offline|Reconnecting"))
    send_text(bob, "sent while offline")
    mine = bubbles(bob, "sent while offline")
    expect(mine).to_have_count(1)
    expect(mine.locator(".state")).to_have_text("waiting for connection…")
    expect(banner).to_contain_text("1 message waiting to be sent")
    send_text(alice, "while bob was away")  # missed by bob's socket: caught up by sync
    shots(bob, "bob-offline-outbox")

    bob.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=30_000)  # reconnect back-off is at most a few seconds here
    expect(mine.locator(".state")).to_have_text("✓ sent")
    expect(bubbles(alice, "sent while offline")).to_have_count(1)
    expect(bubbles(bob, "while bob was away")).to_have_count(1)
    shots(bob, "bob-reconnected")
    shots(alice, "alice-after-bobs-reconnect")

    # Cut the socket again while online: it comes back at once, nothing is resent or doubled.
    assert bob.evaluate("window.imApp.dropSockets()") == 1
    expect(bob.locator("#banner")).to_be_hidden(timeout=30_000)
    send_text(bob, "after the second drop")
    expect(bubbles(alice, "after the second drop")).to_have_count(1)
    bob.reload()
    bob.wait_for_selector("body[data-ready='1']")
    open_chat(bob, "Demo group")
    for text in ("before the drop", "sent while offline", "while bob was away", "after the second drop"):
        expect(bubbles(bob, text)).to_have_count(1)
        expect(bubbles(alice, text)).to_have_count(1)
    shots(bob, "bob-after-reload")
    assert alice.errors == [] and bob.errors == []


def _post(url: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_register_create_a_group_and_page_through_history(browser: Any, base_url: str, shots: Any) -> None:
    expect = sync_api.expect
    # A newcomer registers from the login screen and lands on an empty list.
    context = browser.new_context()
    context.set_default_timeout(STEP_MS)
    newcomer = context.new_page()
    newcomer.goto(f"{base_url}/app/")
    form = newcomer.locator("form", has=newcomer.get_by_role("heading", name="Register"))
    form.get_by_label("Username").fill("dave")
    form.get_by_label("Password (6 or more characters)").fill("secret99")
    form.get_by_role("button", name="Create account").click()
    newcomer.wait_for_selector("body[data-ready='1']")
    expect(newcomer.locator("#me")).to_have_text("dave")
    expect(newcomer.locator(".convs")).to_contain_text("No conversations yet.")
    shots(newcomer, "dave-registered")

    # alice makes a group with bob and charlie; bob sees it appear live; the members are listed.
    alice = open_as(browser, base_url, "alice")
    bob = open_as(browser, base_url, "bob")
    alice.get_by_role("button", name="New group").click()
    form = alice.locator("dialog form")
    form.get_by_label("Group name").fill("Weekend trip")
    form.get_by_label("Bob").check()
    form.get_by_label("Charlie").check()
    shots(alice, "alice-new-group")
    form.get_by_role("button", name="Create group").click()
    expect(alice.locator("#chat-title")).to_have_text("Weekend trip")
    expect(alice.locator(".messages")).to_contain_text("Alice created the group “Weekend trip”")
    expect(conversation(bob, "Weekend trip")).to_have_count(1)
    alice.get_by_role("button", name="Members").click()
    members = alice.locator("dialog .members li")
    expect(members).to_have_count(3)
    expect(alice.locator("dialog .members")).to_contain_text("Alice (you)")
    shots(alice, "alice-group-members")
    alice.locator("dialog").get_by_role("button", name="Close").click()

    # 40 messages in the group (over REST); charlie, logging in afterwards, opens it and pages back.
    token = _post(f"{base_url}/api/v1/auth/login", {"username": "alice", "password": "demo1234"})["token"]
    chat_id = alice.evaluate("window.imApp.store.current")
    for n in range(1, 41):
        _post(f"{base_url}/api/v1/messages/send", {"chatId": chat_id, "type": 1, "content": f"note {n:02d}",
                                                    "clientMsgId": f"page-{n}"}, token)
    trip = conversation(bob, "Weekend trip")  # bob, online, got them live
    expect(trip).to_contain_text("note 40")
    expect(trip.locator(".badge")).to_have_text("40")
    charlie = open_as(browser, base_url, "charlie")
    open_chat(charlie, "Weekend trip")
    expect(bubbles(charlie, "note 40")).to_have_count(1)
    expect(charlie.locator(".messages li.msg")).to_have_count(30)  # the newest page
    expect(bubbles(charlie, "note 01")).to_have_count(0)
    shots(charlie, "charlie-newest-page")
    charlie.get_by_role("button", name="Load older messages").click()
    expect(bubbles(charlie, "note 01")).to_have_count(1)
    expect(charlie.locator(".messages li.msg")).to_have_count(41)  # 40 notes and the group's creation
    expect(charlie.get_by_role("button", name="Load older messages")).to_be_hidden()
    seqs = [int(s) for s in charlie.locator(".messages li.msg").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, 42))
    shots(charlie, "charlie-paged-to-the-start")

    # An operator dissolves the group from the console's chat page, with a reason: it leaves the
    # open web chats at once, and alice's open chat with it.
    console = browser.new_context()
    console.set_default_timeout(STEP_MS)
    operator = console.new_page()
    operator.goto(f"{base_url}/admin/login/?next=/admin/chats/chat/%3Fq%3DWeekend")
    operator.fill("#id_username", "admin")
    operator.fill("#id_password", os.environ.get("DEMO_ADMIN_PASSWORD", "admin1234"))
    operator.locator("input[type=submit]").click()
    operator.locator("#result_list tbody tr th a").first.click()
    operator.get_by_role("button", name="Dissolve the group").click()
    expect(operator.locator("#content")).to_contain_text("Weekend trip")
    operator.locator("textarea[name=reason]").fill("the trip is over")
    shots(operator, "operator-dissolves-the-group")
    operator.get_by_role("button", name="Yes, dissolve the group").click()
    expect(operator.locator(".messagelist")).to_contain_text("Dissolved: 1 group(s), 0 skipped.")
    expect(conversation(bob, "Weekend trip")).to_have_count(0)
    expect(conversation(charlie, "Weekend trip")).to_have_count(0)
    expect(conversation(alice, "Weekend trip")).to_have_count(0)
    shots(bob, "bob-after-the-group-was-dissolved")
    console.close()
    assert alice.errors == [] and bob.errors == [] and charlie.errors == []
