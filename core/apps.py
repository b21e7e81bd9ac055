from __future__ import annotations

import decimal

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Amounts have up to MONEY_MAX_DIGITS digits, and Decimal's default context keeps 28:
        # quantizing a large 18-decimal balance, or adding two, would fail or round. Every
        # thread's context is copied from DefaultContext when the thread first uses Decimal,
        # so widening it here (before the server starts its threads) covers them all; the
        # current thread's context is widened too.
        precision = 2 * settings.MONEY_MAX_DIGITS
        decimal.DefaultContext.prec = max(decimal.DefaultContext.prec, precision)
        decimal.getcontext().prec = max(decimal.getcontext().prec, precision)
        # Every app registers its socket methods from its own rpc.py.
        autodiscover_modules("rpc")
        from core import dashboard, metrics

        metrics.connect_job_signals()
        dashboard.connect_job_signals()
