"""The expiry jobs' loop: every due row once, in batches, a failing row skipped and logged."""
from __future__ import annotations

from typing import cast

import pytest

from accounts.models import User
from core.sweep import sweep
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
def test_sweep_settles_every_row_in_batches_and_skips_a_failing_one(caplog: pytest.LogCaptureFixture) -> None:
    users = [cast(User, UserFactory(username=f"u{n}")) for n in range(7)]
    broken = users[3].pk
    seen: list[int] = []

    def settle(pk: int) -> bool:
        seen.append(pk)
        if pk == broken:
            raise RuntimeError("boom")
        return pk % 2 == 0  # False: someone else settled it first

    assert sweep(User.objects.all(), settle, batch=2) == sum(1 for u in users if u.pk % 2 == 0 and u.pk != broken)
    assert seen == sorted(u.pk for u in users)  # each row once, in pk order, across batches
    assert f"settling accounts.User {broken} failed" in caplog.text
