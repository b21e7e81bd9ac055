"""Paging and calendar parameters are bounded where they are read: a page, an offset or a year
no database can take is the protocol's bad-parameter answer, not a 500."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import Connect, token_for
from tests.jim.conftest import SEED_OTHER, SEED_VISITOR, aregister, jim

HUGE = 10**19  # past a signed 64-bit integer


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    return api


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/wallet/records?page={HUGE}",
        f"/api/v1/calls/records?page={HUGE}",
        f"/api/v1/redpackets/record?type=1&page={HUGE}",
        f"/api/v1/redpackets/record?type=1&page={10**12}",
        "/api/v1/redpackets/statistics?type=1&year=9999",
        "/api/v1/redpackets/statistics?type=1&year=1",
        f"/api/v1/remittances/records?type=1&from_id={HUGE}",
    ],
)
def test_out_of_range_paging_and_years_answer_400(alice_api: APIClient, path: str) -> None:
    response = alice_api.get(path)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"


@pytest.mark.django_db
def test_paging_within_the_bounds_still_answers(alice_api: APIClient) -> None:
    assert alice_api.get("/api/v1/redpackets/record?type=1&page=10000").json() == []
    stats = alice_api.get("/api/v1/redpackets/statistics?type=1&year=2100")
    assert stats.status_code == 200, stats.content


@pytest.mark.django_db(transaction=True)
async def test_jim_history_refuses_an_offset_past_the_bound(connect: Connect) -> None:
    await aregister(SEED_OTHER, 1)
    await aregister(SEED_VISITOR, 0)
    visitor = await jim(connect, f"token-of-{SEED_VISITOR}")
    frame = {"cmd": 19, "type": 1, "userId": SEED_VISITOR, "fromUserId": SEED_OTHER, "count": 2}
    for offset in (HUGE, "١٢", "1" * 5000):
        reply = await visitor.ask({**frame, "offset": offset}, 20)
        assert reply["code"] != 10000 and "offset" in reply["msg"], reply
    ok = await visitor.ask({**frame, "offset": 1_000_000}, 20)
    assert ok["code"] == 10000 or "friends" in str(ok), ok


@pytest.mark.django_db
def test_integer_parameters_beyond_64_bits_are_bad_parameters(alice_api: APIClient, bob: User) -> None:
    """An id list with one huge id used to reach the database (an IN lookup does not
    range-check it): a 500. Every method's integer parameters are checked in one place."""
    created = alice_api.post("/api/v1/chats", {"title": "t", "uIds": [bob.pk]}, format="json")
    assert created.status_code == 200, created.content
    chat_id = created.json()["chatId"]
    added = alice_api.post("/api/v1/chats/members/add", {"chatId": chat_id, "uIds": [bob.pk, 2**64]}, format="json")
    assert added.status_code == 400 and "uIds" in added.json()["msg"], added.content
    users = alice_api.get(f"/api/v1/users?uIds={bob.pk},{10**30}")
    assert users.status_code == 400 and "uIds" in users.json()["msg"], users.content


@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_integer_parameters_beyond_64_bits(connect: Connect, alice: User) -> None:
    from tests.conftest import atoken_for

    client = await connect(await atoken_for(alice))
    reply = await client.call("users.info", {"uIds": [1, 2**63]})
    assert reply["code"] == 422 and "uIds" in reply["msg"], reply
    assert (await client.call("users.info", {"uIds": [1, 2**63 - 1]}))["code"] == 200
