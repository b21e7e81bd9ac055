"""Races that only real parallel transactions show (PostgreSQL)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts import services
from accounts.models import AuthSession, User
from core.exceptions import ApplicationError

pytestmark = pytest.mark.postgres


def run_parallel(count: int, fn: Callable[[int], Any], *, join_seconds: float = 30) -> list[Any]:
    """Start ``count`` threads at the same instant; each gets its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = fn(index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_seconds)
    return results


def test_simultaneous_registrations_of_one_name_make_one_account() -> None:
    results = run_parallel(10, lambda i: services.user_register(username="Racer" if i % 2 else "racer",
                                                                password="secret123"))
    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(created) == 1 and len(refused) == 9
    assert all(r.code == "username_taken" for r in refused)
    assert User.objects.filter(username__iexact="racer").count() == 1


def test_simultaneous_logins_with_multi_online_off_leave_one_live_session(user_factory: Any) -> None:
    user = user_factory(username="solo", multi_online=False)
    # As many as may run at once: password checks still running count against the account's
    # limit (LOGIN_MAX_FAILURES), so a burst of guesses never gets more hashed.
    count = settings.LOGIN_MAX_FAILURES
    results = run_parallel(count, lambda i: services.auth_login(username="solo", password="secret123",
                                                                device=f"d{i}"))
    assert all(isinstance(r, tuple) for r in results), results
    assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    assert AuthSession.objects.filter(user=user).count() == count
