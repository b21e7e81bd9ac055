"""The desk's server-to-server calls act only on the accounts the desk created: initUser cannot
take over a native account an operator linked as an agent (an operator's least of all), and
chatInfo treats an operator's account as missing."""
from __future__ import annotations

import pytest

from accounts.models import User
from accounts.selectors import session_authenticate
from messaging.desk.services import profile_link
from tests.accounts.factories import make_user
from tests.jim.conftest import register, vanke

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fields", [{}, {"is_staff": True, "is_superuser": True}])
def test_init_user_does_not_take_over_a_linked_native_account(fields: dict[str, bool]) -> None:
    native = make_user(username="alice", first_name="Alice", **fields)
    profile_link(user=native, external_id="alice-desk", kind=1)
    for call in ("initUser", "getReceiver"):
        reply = vanke(call, {"senderId": "alice-desk", "type": 1, "nick": "mallory", "token": "stolen-token-1"},
                      status=409)
        assert reply["msg"] == "alice-desk is not an account the desk manages"
    assert session_authenticate("stolen-token-1") is None
    assert User.objects.get(pk=native.pk).first_name == "Alice"


def test_init_user_still_serves_the_desks_own_accounts() -> None:
    agent = register("agent-1", 1)
    assert vanke("initUser", {"senderId": "agent-1", "type": 1, "token": "second-token-1"})["code"] == 200
    session = session_authenticate("second-token-1")
    assert session is not None and session.user_id == agent.user_id


def test_chat_info_treats_an_operator_as_missing() -> None:
    register("agent-1", 1)
    admin = make_user(username="admin", is_staff=True, is_superuser=True)
    for query in ({"to": f"uid:{admin.pk}", "from": "agent-1"}, {"to": "agent-1", "from": f"uid:{admin.pk}"}):
        assert vanke("chatInfo", {**query, "op": 2}, status=404)["code"] == 404
