"""/metrics: off unless enabled, behind its token, and its figures move with real traffic."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import User
from redpackets.tasks import expire_redpackets
from tests.conftest import Connect, atoken_for, token_for

TOKEN = "metrics-scrape-token-for-tests"


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def value(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_off_by_default_and_need_the_token() -> None:
    assert Client().get("/metrics").status_code == 404
    with override_settings(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN):
        assert Client().get("/metrics").status_code == 401
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@override_settings(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN)
async def test_counters_move_with_real_traffic(connect: Connect, alice: User, bob: User) -> None:
    before = await sync_to_async(scrape)()
    a = await connect(await atoken_for(alice))
    b = await connect(await atoken_for(bob))
    during = await sync_to_async(scrape)()
    opened = value(during, "im_sockets_open", protocol="native") - value(before, "im_sockets_open", protocol="native")
    assert opened == 2

    for i in range(3):
        sent = await a.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": f"m{i}"},
                                              "clientMsgId": f"metrics-{i}"})
        assert sent["code"] == 200
    assert (await a.call("users.info", {"uIds": "nope"}))["code"] == 422
    for _ in range(3):
        await b.frame()  # bob's three pushes arrived
    rest = await sync_to_async(Client().get)("/api/v1/friends",
                                             HTTP_AUTHORIZATION=f"Bearer {await sync_to_async(token_for)(bob)}")
    assert rest.status_code == 200
    await sync_to_async(expire_redpackets.delay)()

    after = await sync_to_async(scrape)()
    grew = {key: after[key] - before.get(key, 0.0) for key in after}
    stored = sum(v for (name, _), v in grew.items() if name == "im_messages_stored_total")
    assert stored == 3
    assert value(grew, "im_method_seconds_count", method="messages.send", code="200", transport="ws") == 3
    assert value(grew, "im_method_seconds_count", method="users.info", code="422", transport="ws") == 1
    assert value(grew, "im_method_seconds_count", method="friends.list", code="200", transport="rest") == 1
    assert value(grew, "im_pushes_total", event="onMessage") == 3
    assert value(grew, "im_frames_in_total", protocol="native") >= 4
    assert value(grew, "im_frames_out_total", protocol="native") >= 7  # 4 replies, 3 pushes
    assert value(grew, "im_jobs_total", job="redpackets.tasks.expire_redpackets", outcome="ok") == 1
    assert sum(v for (name, _), v in grew.items() if name == "im_channel_layer_publish_seconds_count") >= 1
