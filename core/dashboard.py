"""The figures on the console's home page (/admin/, docs/operators.md#dashboard).

``dashboard()`` answers every figure at once, computed by a handful of indexed counts and
aggregates and kept in the cache for ``DASHBOARD_CACHE_SECONDS`` (one computation serves every
operator in that time; with Redis, every server process). Which figures an operator sees is
decided when the page is drawn (``core.templatetags.dashboard``): each needs the view permission
on its model.

Two things are recorded here because nothing else keeps them: every scheduled job's last run
(``job_finished``, on Celery's ``task_postrun``: the worker's runs and the embedded beat's) and
the outcome of the last full ledger verification (``ledger_verified``). Both live in the cache
without expiry: with Redis they are shared by every process; in the embedded default they last
as long as the process.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

CACHE_KEY = "dashboard:figures"
LEDGER_KEY = "dashboard:ledger-verified"
JOB_KEY = "dashboard:job:"  # + the task's name
RATE_MINUTES = 5  # messages per minute: the average of the last five minutes


@dataclass(frozen=True)
class JobRun:
    entry: str  # the beat schedule's name
    task: str
    every_seconds: float | None
    at: datetime | None  # None: no run recorded
    ok: bool
    settled: int | None  # what the job returned (rows settled, sessions purged...)
    error: str


@dataclass(frozen=True)
class Escrow:
    coin_id: int
    coin: str
    amount: Decimal  # quantized to the coin's decimals


@dataclass(frozen=True)
class Ledger:
    verified_at: datetime | None  # the last "Verify ledger" (or ledger_check) run
    problems: int | None  # its problems (None: never run)
    unbalanced: list[str]  # coins whose balances do not sum to zero now (cheap check)


@dataclass(frozen=True)
class Figures:
    computed_at: datetime
    day_start: datetime  # midnight of today (TIME_ZONE)
    users_total: int
    users_active_today: int
    sockets_online: int | None  # None: Redis away
    sockets_scope: str
    messages_today: int
    messages_per_minute: Decimal
    redpackets_open: int
    redpackets_overdue: int  # open but past their deadline: waiting for the expiry job
    remittances_open: int
    remittances_overdue: int
    escrow: list[Escrow]
    withdrawals_pending: int
    ledger: Ledger
    desk_waiting: int
    jobs: list[JobRun]


def dashboard() -> Figures:
    """The figures, at most ``DASHBOARD_CACHE_SECONDS`` old (0: computed on every call)."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds:
        cached = _cache_call(cache.get, CACHE_KEY)
        if isinstance(cached, Figures):
            return cached
    figures = figures_compute()
    if seconds:
        _cache_call(cache.set, CACHE_KEY, figures, seconds)
    return figures


def _cache_call(func: Any, *args: Any) -> Any:
    """A cache read or write; None when the cache (Redis) is away: the page still answers."""
    try:
        return func(*args)
    except Exception:
        return None


def figures_compute() -> Figures:
    from accounts.models import AuthSession, User
    from messaging.desk.models import QueueEntry
    from messaging.models import Message
    from redpackets.models import RedPacket
    from remittance.models import Remittance
    from wallet.models import Account, Withdrawal

    now = timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sockets, scope = _sockets()
    recent = Message.objects.filter(created_at__gte=now - timedelta(minutes=RATE_MINUTES)).count()
    packets = RedPacket.objects.filter(status=RedPacket.Status.ACTIVE).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(expires_at__lte=now)))
    remittances = Remittance.objects.filter(status=Remittance.Status.PENDING).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(expires_at__lte=now)))
    escrow = [Escrow(a.coin_id, a.coin.name, a.balance.quantize(a.coin.quantum))
              for a in Account.objects.filter(kind=Account.Kind.ESCROW).select_related("coin")
              .order_by("coin__sort_id", "coin_id")]
    return Figures(
        computed_at=now,
        day_start=day_start,
        users_total=User.objects.count(),
        users_active_today=AuthSession.objects.filter(last_used_at__gte=day_start)
        .values("user_id").distinct().count(),
        sockets_online=sockets,
        sockets_scope=scope,
        messages_today=Message.objects.filter(created_at__gte=day_start).count(),
        messages_per_minute=(Decimal(recent) / RATE_MINUTES).quantize(Decimal("0.1")),
        redpackets_open=packets["open"],
        redpackets_overdue=packets["overdue"],
        remittances_open=remittances["open"],
        remittances_overdue=remittances["overdue"],
        escrow=escrow,
        withdrawals_pending=Withdrawal.objects.filter(status=Withdrawal.Status.PENDING).count(),
        ledger=Ledger(*_last_verification(), unbalanced=_unbalanced_coins()),
        desk_waiting=QueueEntry.objects.count(),
        jobs=_jobs(),
    )


def _sockets() -> tuple[int | None, str]:
    from accounts import presence

    counted = presence.sockets_online()
    if not settings.CACHE_REDIS_URL:
        scope = "this process (the embedded default runs one server process)"
    elif counted is not None and counted[1]:
        scope = "every server process (Redis)"
    else:
        scope = "this server process only (RESYNC_ENABLED is off, so processes are not listed)"
    return (counted[0] if counted is not None else None), scope


def _unbalanced_coins() -> list[str]:
    """Coins whose account balances (users, escrow, fees and the external side) do not sum to
    zero: one aggregate over the accounts. The full verification also checks every entry and
    every balance against its postings."""
    from wallet.models import Account
    from wallet.selectors import exact_sums

    totals = exact_sums(Account.objects.all(), "balance", "coin__name")
    return sorted(name for (name,), total in totals.items() if total != 0)


# --- records ------------------------------------------------------------------------------------
def ledger_verified(problems: list[str]) -> None:
    """Keep the outcome of a full ledger verification for the dashboard."""
    _cache_call(cache.set, LEDGER_KEY, {"at": time.time(), "problems": len(problems)}, None)


def _last_verification() -> tuple[datetime | None, int | None]:
    record = _cache_call(cache.get, LEDGER_KEY)
    if not isinstance(record, dict):
        return None, None
    return datetime.fromtimestamp(record["at"], tz=UTC), int(record["problems"])


def _settled(result: Any) -> int | None:
    if isinstance(result, bool):
        return int(result)
    if isinstance(result, int):
        return result
    if isinstance(result, dict) and all(isinstance(v, int) for v in result.values()):
        return sum(result.values())
    return None


def _record(task: Any, sender: Any, ok: bool, settled: int | None, error: str) -> None:
    name = getattr(task, "name", None) or getattr(sender, "name", None)
    if name:
        record = {"at": time.time(), "ok": ok, "settled": settled, "error": error[:300]}
        _cache_call(cache.set, JOB_KEY + name, record, None)  # the cache away must not fail the job


def job_finished(sender: Any = None, task: Any = None, state: str | None = None, retval: Any = None,
                 **_: Any) -> None:
    """Celery's ``task_postrun``: keep this run of the task (time, outcome, what it settled).
    A worker's failure is kept by ``job_failed``, which has the exception; an eager run that
    propagates its exception (the embedded beat's) ends with no state, the exception on its way
    out."""
    if state == "SUCCESS":
        _record(task, sender, True, _settled(retval), "")
    elif state is None and sys.exc_info()[1] is not None:
        exception = sys.exc_info()[1]
        _record(task, sender, False, None, f"{type(exception).__name__}: {exception}")
    elif state != "FAILURE":
        _record(task, sender, False, None, f"ended in state {state}")


def job_failed(sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
    """Celery's ``task_failure``."""
    _record(sender, None, False, None, f"{type(exception).__name__}: {exception}")


def connect_job_signals() -> None:
    from celery.signals import task_failure, task_postrun

    task_postrun.connect(job_finished, weak=False, dispatch_uid="im-dashboard-jobs")
    task_failure.connect(job_failed, weak=False, dispatch_uid="im-dashboard-job-failures")


def _jobs() -> list[JobRun]:
    from config.celery import app

    schedule = app.conf.beat_schedule
    records = _cache_call(cache.get_many, [JOB_KEY + entry["task"] for entry in schedule.values()]) or {}
    runs = []
    for name, entry in schedule.items():
        record = records.get(JOB_KEY + entry["task"])
        every = entry["schedule"]
        seconds = float(every) if isinstance(every, (int, float)) else (
            every.total_seconds() if isinstance(every, timedelta) else None)
        if isinstance(record, dict):
            runs.append(JobRun(name, entry["task"], seconds, datetime.fromtimestamp(record["at"], tz=UTC),
                               bool(record["ok"]), record.get("settled"), str(record.get("error", ""))))
        else:
            runs.append(JobRun(name, entry["task"], seconds, None, False, None, ""))
    return runs
