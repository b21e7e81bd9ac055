"""Operators see remittances read-only: they settle only through their payee or the expiry
job (remittance.services), and money moves only through the ledger."""
from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from remittance.models import Remittance
from wallet.display import MoneyAdmin


@admin.register(Remittance)
class RemittanceAdmin(MoneyAdmin, ReadOnlyAdmin):
    money_fields = {"amount": "coin"}
    list_display = ("id", "payer", "payee", "amount", "coin", "type", "status", "remitted_at", "expires_at",
                    "received_at", "refunded_at")
    list_filter = ("status", "type")
    search_fields = ("payer__username", "payee__username", "description")
    list_select_related = ("payer", "payee", "coin")
    date_hierarchy = "remitted_at"
