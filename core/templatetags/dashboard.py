"""``{% dashboard %}`` on the console's home page: the figures of ``core.dashboard`` this operator
may see. Each figure needs the view permission on its model (superusers see all); an operator
who may see none sees no dashboard."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from core.dashboard import Figures, JobRun, dashboard

register = template.Library()

# Each scheduled job is shown with the permission and the list of what it settles.
JOB_MODELS = {
    "accounts.tasks.purge_expired": "accounts.authsession",
    "wallet.tasks.expire_exchanges": "wallet.exchangeoffer",
    "redpackets.tasks.expire_redpackets": "redpackets.redpacket",
    "remittance.tasks.expire_remittances": "remittance.remittance",
    "calls.tasks.end_ringing": "calls.call",
    "messaging.tasks.desk_close_idle": "messaging.conversation",
}

# The models whose view permission shows at least one figure or job.
FIGURE_MODELS = ("accounts.user", "messaging.message", "redpackets.redpacket", "remittance.remittance",
                 "wallet.account", "wallet.withdrawal", "wallet.journalentry", "messaging.queueentry",
                 *JOB_MODELS.values())


def _url(model: str, **query: Any) -> str:
    app, name = model.split(".")
    try:
        url = reverse(f"admin:{app}_{name}_changelist")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def _can(user: Any, model: str) -> bool:
    app, name = model.split(".")
    return bool(user.has_perm(f"{app}.view_{name}"))


def _row(label: str, value: Any, url: str = "", note: str = "", warn: bool = False) -> dict[str, Any]:
    return {"label": label, "value": value, "url": url, "note": note, "warn": warn}


def _stamp(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def figure_rows(f: Figures, user: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if _can(user, "accounts.user"):
        rows.append(_row("Users", f.users_total, _url("accounts.user")))
        rows.append(_row("Users active today", f.users_active_today,
                         _url("accounts.authsession", last_used_at__gte=_stamp(f.day_start))
                         if _can(user, "accounts.authsession") else "",
                         "a login session used since midnight (a login, a socket connecting, a REST call)"))
        rows.append(_row("Sockets online now", "unknown" if f.sockets_online is None else f.sockets_online, "",
                         "users' sockets, counted on " + f.sockets_scope
                         + ("; Redis is not answering" if f.sockets_online is None else ""),
                         warn=f.sockets_online is None))
    if _can(user, "messaging.message"):
        rows.append(_row("Messages today", f.messages_today, "", "stored since midnight, every chat and protocol"))
        rows.append(_row("Messages per minute", f.messages_per_minute, "", "average of the last 5 minutes"))
    from redpackets.models import RedPacket
    from remittance.models import Remittance

    for model, status, plural, open_n, overdue_n, note, overdue_note in (
        ("redpackets.redpacket", RedPacket.Status.ACTIVE, "Red packets", f.redpackets_open, f.redpackets_overdue,
         "shares left to grab", "open after expiring: the expiry job has not refunded them yet"),
        ("remittance.remittance", Remittance.Status.PENDING, "Remittances", f.remittances_open,
         f.remittances_overdue, "waiting for the payee",
         "pending after expiring: the expiry job has not refunded them yet"),
    ):
        if not _can(user, model):
            continue
        rows.append(_row(f"{plural} open", open_n, _url(model, status__exact=int(status)), note))
        if overdue_n:
            rows.append(_row(f"{plural} past their deadline", overdue_n,
                             _url(model, status__exact=int(status), expires_at__lte=_stamp(f.computed_at)),
                             overdue_note, warn=True))
    if _can(user, "wallet.account"):
        for held in f.escrow:
            rows.append(_row(f"In escrow, {held.coin}", held.amount,
                             _url("wallet.account", kind__exact="escrow", coin__id__exact=held.coin_id),
                             "red packets, remittances, exchange offers and withdrawals not settled yet"))
    if _can(user, "wallet.withdrawal"):
        rows.append(_row("Withdrawals pending", f.withdrawals_pending, _url("wallet.withdrawal", status__exact=50),
                         "waiting for an operator's review"))
    if _can(user, "wallet.journalentry"):
        rows.append(_ledger_row(f))
    if _can(user, "messaging.queueentry"):
        rows.append(_row("Desk queue", f.desk_waiting, _url("messaging.queueentry"),
                         "visitors waiting for a customer-service agent"))
    return rows


def _ledger_row(f: Figures) -> dict[str, Any]:
    verify = reverse("admin:wallet_ledger_verify")
    ledger = f.ledger
    if ledger.unbalanced:
        value, warn = "UNBALANCED", True
    elif ledger.problems:
        value, warn = f"{ledger.problems} problem(s)", True
    else:
        value, warn = "balanced", False
    if ledger.verified_at is None:
        last = "no full verification recorded yet"
    else:
        outcome = "OK" if not ledger.problems else f"{ledger.problems} problem(s)"
        last = f"last full verification {_stamp(ledger.verified_at)[:19].replace('T', ' ')}: {outcome}"
    now = ("each coin's balances sum to zero" if not ledger.unbalanced
           else "balances do not sum to zero for " + ", ".join(ledger.unbalanced))
    return _row("Ledger", value, verify, f"now: {now}; {last} (Verify ledger runs it)", warn=warn)


def job_rows(f: Figures, user: Any) -> list[dict[str, Any]]:
    rows = []
    for run in f.jobs:
        model = JOB_MODELS.get(run.task)
        if not (user.is_superuser if model is None else _can(user, model)):
            continue
        rows.append({"run": run, "url": _url(model) if model else "", "late": _late(run, f.computed_at)})
    return rows


def _late(run: JobRun, now: datetime) -> bool:
    """No run for three of its intervals (and a minute): the beat or the worker is not running."""
    if run.at is None or run.every_seconds is None:
        return False
    return now - run.at > timedelta(seconds=3 * run.every_seconds + 60)


@register.inclusion_tag("core/dashboard.html", takes_context=True)
def dashboard_figures(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff or not any(_can(user, m) for m in FIGURE_MODELS):
        return {"rows": [], "jobs": []}
    figures = dashboard()
    return {"figures": figures, "rows": figure_rows(figures, user), "jobs": job_rows(figures, user)}
