"""A fuzz run of the REST API from its own OpenAPI schema (``/api/schema/``): schemathesis
generates valid and invalid requests for every operation the schema lists, sent in-process
with a logged-in user's token, and no answer may be a 5xx.

Bounded in time: ``FUZZ_MAX_EXAMPLES`` requests per operation (default 10: about two minutes
on SQLite, three on PostgreSQL; CI runs the default), no shrinking, no example database. A
failure prints the request to replay.

Some operations end sessions: log out, change the login password, turn multi-device login
off (which logs out every other device of the user). Run with the shared token, the first of
them turned every later request into a 401 that proves nothing. They are fuzzed like the
rest, but as another user, with a token of their own for every request (``ENDS_SESSION``).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from accounts.models import User
from tests.conftest import token_for
from tests.wallet.factories import make_coin

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
DESK_KEY = "fuzz-desk-key"
# (method, path) of the operations that end their caller's session or its other sessions.
ENDS_SESSION = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/me/multi-online/set"),
}


@pytest.fixture
def api_schema(db: None, settings: Any) -> Iterator[Any]:
    # Configured as in production, so no endpoint answers 503 "not configured" by design.
    settings.DESK_API_KEY = DESK_KEY
    settings.AGORA_APP_ID = "0" * 31 + "1"
    settings.AGORA_APP_CERTIFICATE = "0" * 31 + "2"
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # As Django's test client does: requests must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fuzzer(db: None, user_factory: Any) -> User:
    """A user with a wallet in the default coin and a friend, so money and chat methods get
    past "no wallet" and reach their own checks."""
    from wallet.models import Wallet
    from wallet.passwords import _hash

    make_coin(name="cny", decimals=2)
    make_coin(name="eth", decimals=18, is_default=False)
    user: User = user_factory(username="fuzzer")
    Wallet.objects.create(user=user, address="Wfuzzer", password=_hash("pay123"))
    user_factory(username="peer")
    return user


@pytest.fixture
def fuzz_token(fuzzer: User) -> str:
    return token_for(fuzzer, "fuzz")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_rest_request_gets_a_server_error(case: Any, fuzz_token: str, user_factory: Any) -> None:
    token = fuzz_token
    if (case.method.upper(), case.path) in ENDS_SESSION:
        ender = User.objects.filter(username="session-ender").first() or user_factory(username="session-ender")
        token = token_for(ender, "once")
    headers = {"Authorization": f"Bearer {token}", "X-Desk-Key": DESK_KEY}
    response = case.call(headers={**(case.headers or {}), **headers})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}\n"
        f"replay: {case.as_curl_command()}"
    )
