"""Remittance races that only real parallel transactions show (PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError
from messaging.models import Message
from remittance import services
from remittance.models import Remittance
from tests.accounts.test_concurrency import run_parallel
from tests.remittance.test_remittance import prepare
from wallet.models import Account, JournalEntry
from wallet.selectors import ledger_verify
from wallet.services import system_account, user_account

pytestmark = pytest.mark.postgres


def test_receive_racing_refund_racing_two_expiry_jobs_settles_once(alice: User, bob: User) -> None:
    cny = prepare(alice)
    outcomes = set()
    for round_ in range(6):
        remittance = services.remit(payer=alice, payee_id=bob.pk, amount="10", password="pay123", type_=1)

        def contender(i: int, remittance: Remittance = remittance) -> object:
            if i < 2:
                return services.receive(user=bob, remittance_id=remittance.pk)
            if i < 4:
                return services.refund(user=bob, remittance_id=remittance.pk)
            return services.expire_due(now=remittance.expires_at)  # as if the deadline had just passed

        results = run_parallel(6, contender)
        settled = [r for r in results if isinstance(r, Remittance)]
        expired = sum(r for r in results if isinstance(r, int))
        refused = [r for r in results if isinstance(r, ApplicationError)]
        assert len(settled) + expired == 1, results  # exactly one of the six won
        assert len(refused) == 4 - len(settled), results  # the losing payee calls; a losing job finds nothing
        assert all(r.code in ("conflict", "remittance_expired") for r in refused), results
        state = Remittance.objects.get(pk=remittance.pk)
        outcomes.add(state.status)
        keys = set(JournalEntry.objects.filter(idempotency_key__startswith=f"remit:{remittance.pk}:")
                   .values_list("idempotency_key", flat=True))
        if state.status == Remittance.Status.RECEIVED:
            assert keys == {f"remit:{remittance.pk}:hold", f"remit:{remittance.pk}:receive"}
        else:
            assert state.status in (Remittance.Status.REFUNDED, Remittance.Status.EXPIRED), round_
            assert keys == {f"remit:{remittance.pk}:hold", f"remit:{remittance.pk}:refund"}
        assert Message.objects.filter(type=Message.Type.REMITTANCE, content__remittanceId=remittance.pk,
                                      sub_type__in=[200, 300]).count() == 1  # one outcome announced
        assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == 0
    received = Remittance.objects.filter(status=Remittance.Status.RECEIVED).count()
    assert user_account(user=bob, coin=cny).balance == Decimal(10 * received)
    assert user_account(user=alice, coin=cny).balance == Decimal(100 - 10 * received)
    assert ledger_verify() == []


def test_two_expiry_jobs_at_once_refund_each_remittance_exactly_once(alice: User, bob: User) -> None:
    cny = prepare(alice)
    for n in range(20):
        services.remit(payer=alice, payee_id=bob.pk, amount="1.25", password="pay123", type_=1, request_id=f"r{n}")
    assert user_account(user=alice, coin=cny).balance == Decimal("75.00")
    Remittance.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    results = run_parallel(4, lambda _: services.expire_due())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20  # every remittance refunded by exactly one of the runs
    assert user_account(user=alice, coin=cny).balance == Decimal("100.00")
    assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == 0
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.REMITTANCE_REFUND).count() == 20
    assert Message.objects.filter(type=Message.Type.REMITTANCE, sub_type=300).count() == 20
    assert set(Remittance.objects.values_list("status", flat=True)) == {Remittance.Status.EXPIRED}
    assert ledger_verify() == []


def test_parallel_remits_never_spend_more_than_the_balance(alice: User, bob: User) -> None:
    cny = prepare(alice)  # 100 cny: five remittances of 20 fit, the other three must be refused
    results = run_parallel(8, lambda i: services.remit(payer=alice, payee_id=bob.pk, amount="20",
                                                       password="pay123", type_=1))
    made = [r for r in results if isinstance(r, Remittance)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(made) == 5 and len(refused) == 3, results
    assert all(r.code == "insufficient_balance" for r in refused)
    assert user_account(user=alice, coin=cny).balance == 0
    assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == Decimal("100")
    assert Remittance.objects.count() == 5
    assert Message.objects.filter(type=Message.Type.REMITTANCE).count() == 5  # refused ones posted nothing
    assert ledger_verify() == []
