"""The REST twins of socket methods: same parameters, same handler, same codes."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Block, User
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    return api


def test_users_info_takes_ids_from_the_query(alice_api: APIClient, alice: User, bob: User) -> None:
    for url in (f"/api/v1/users?uIds={alice.pk}&uIds={bob.pk}", f"/api/v1/users?uIds={alice.pk},{bob.pk}"):
        body = alice_api.get(url).json()
        assert [u["userName"] for u in body] == ["alice", "bob"]


def test_errors_carry_socket_code_and_symbol(alice_api: APIClient, bob: User) -> None:
    missing = alice_api.get("/api/v1/users")
    assert missing.status_code == 400 and missing.json()["code"] == 422 and missing.json()["error"] == "invalid"
    Block.objects.create(user=bob, blocked=User.objects.get(username="alice"))
    refused = alice_api.post(f"/api/v1/friends/{bob.pk}/add")
    assert refused.status_code == 403
    assert refused.json() == {"code": 501, "error": "blacklisted", "msg": "you are on this user's blacklist"}


def test_friend_and_blacklist_round_trip(alice_api: APIClient, bob: User, charlie: User) -> None:
    User.objects.filter(pk=bob.pk).update(friend_policy=User.FriendPolicy.ANYONE)  # added at once
    assert alice_api.post(f"/api/v1/friends/{bob.pk}/add").status_code == 200
    assert [f["uId"] for f in alice_api.get("/api/v1/friends").json()] == [bob.pk]
    assert alice_api.post(f"/api/v1/friends/{bob.pk}/remove").status_code == 200
    assert alice_api.get("/api/v1/friends").json() == []
    assert alice_api.post(f"/api/v1/blacklist/{charlie.pk}/add").status_code == 200
    assert [u["uId"] for u in alice_api.get("/api/v1/blacklist").json()] == [charlie.pk]
    assert alice_api.post(f"/api/v1/blacklist/{charlie.pk}/remove").status_code == 200


def test_me_profile_privacy_password_multi_online(alice_api: APIClient, alice: User) -> None:
    assert alice_api.get("/api/v1/me").json()["hasPassword"] is True
    assert alice_api.patch("/api/v1/me/profile", {"firstName": "Ann"}, format="json").json()["firstName"] == "Ann"
    assert alice_api.put("/api/v1/me/privacy", {"phoneSearchable": False}, format="json").status_code == 200
    assert alice_api.post("/api/v1/me/multi-online/set", {"isOn": False}, format="json").status_code == 200
    assert alice_api.get("/api/v1/me/multi-online").json() == {"isOn": False}
    wrong = alice_api.post("/api/v1/me/password", {"old_password": "bad", "new_password": "newpass1"}, format="json")
    assert wrong.status_code == 403 and wrong.json()["code"] == 401
    ok = alice_api.post("/api/v1/me/password", {"old_password": "secret123", "new_password": "newpass1"}, format="json")
    assert ok.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("newpass1") and not alice.phone_searchable


def test_search_privacy_and_time(alice_api: APIClient, bob: User) -> None:
    assert alice_api.get(f"/api/v1/users/search?phone={bob.phone}").json() == {"uId": bob.pk}
    assert alice_api.get(f"/api/v1/users/privacy?uIds={bob.pk}").json() == [{"uId": bob.pk, "isBlacklist": False}]
    anonymous = APIClient().get("/api/v1/system/time?client_time=5").json()
    assert anonymous["client_time"] == 5 and anonymous["server_time"] > 1_600_000_000_000


def test_sms_code_over_rest(alice_api: APIClient) -> None:
    assert alice_api.post("/api/v1/system/sms-code", {"type": 1}, format="json").status_code == 200
    assert alice_api.post("/api/v1/system/sms-code", {"type": 1}, format="json").status_code == 429


def test_protected_twins_need_a_token(bob: User) -> None:
    api = APIClient()
    for url in ("/api/v1/me", "/api/v1/friends", "/api/v1/blacklist", f"/api/v1/users?uIds={bob.pk}"):
        response = api.get(url)
        assert response.status_code == 401 and response.json()["error"] == "not_authenticated", url


def test_app_error_codes_have_their_own_http_status(alice_api: APIClient, bob: User) -> None:
    User.objects.filter(pk=bob.pk).update(friend_policy=User.FriendPolicy.ANYONE)  # added at once
    assert alice_api.post(f"/api/v1/friends/{bob.pk}/add").status_code == 200
    again = alice_api.post(f"/api/v1/friends/{bob.pk}/add")
    assert again.status_code == 409 and again.json() == {"code": 409, "error": "already_friends",
                                                         "msg": "already friends"}


def test_unexpected_rest_error_is_json_500_without_details(alice_api: APIClient) -> None:
    from unittest import mock

    with mock.patch("accounts.rpc.selectors.blacklist_of", side_effect=RuntimeError("db password is hunter2")):
        response = alice_api.get("/api/v1/blacklist")
    assert response.status_code == 500
    assert response.json() == {"code": 500, "error": "internal", "msg": "internal error"}
