"""/healthz, the OpenAPI schema and docs, the admin, and the embedded beat."""
from __future__ import annotations

import tomllib
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import AuthSession, User
from accounts.services import session_start
from core import embedded_beat
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_channel_layer() -> None:
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
        assert body["version"] == tomllib.load(f)["project"]["version"]
    assert body["version"] != "unknown"
    assert body["database"]["status"] == "ok" and body["channelLayer"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down() -> None:
    with mock.patch("core.views._check_database", side_effect=RuntimeError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 503 and response.json()["database"]["status"] == "down"


def test_openapi_schema_lists_the_auth_and_twin_endpoints() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/users", "/api/v1/friends"):
        assert path in paths


def test_api_docs_page_loads_without_a_cdn() -> None:
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger" in page.content.lower() and b"cdn.jsdelivr" not in page.content


def test_admin_lists_users_for_staff() -> None:
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/authsession/").status_code == 200


def test_embedded_beat_runs_due_jobs_once_per_interval(alice: User) -> None:
    session, _ = session_start(user=alice)
    AuthSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(days=8))
    last_run: dict[str, object] = {}
    assert "accounts-purge-expired" in embedded_beat.run_due(last_run)
    assert not AuthSession.objects.filter(pk=session.pk).exists()
    assert embedded_beat.run_due(last_run) == []  # not due again for 10 minutes
    assert token_for(alice)  # the purge left live sessions alone


def test_admin_ban_action_deactivates_and_logs_out(alice: User) -> None:
    User.objects.create_superuser("root", password="rootpass1")
    session, _ = session_start(user=alice)
    client = Client()
    client.login(username="root", password="rootpass1")
    response = client.post("/admin/accounts/user/", {"action": "ban_users", "_selected_action": [alice.pk],
                                                      "post": "yes", "reason": "spam"})
    assert response.status_code == 302
    alice.refresh_from_db()
    session.refresh_from_db()
    assert alice.is_active is False and session.revoked_reason == "banned"
