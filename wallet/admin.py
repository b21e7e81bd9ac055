"""Operator console for the ledger: coins are edited; accounts and the journal are read-only
(every balance change goes through wallet.services.ledger_post). ``Verify ledger`` runs the
invariant check."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from wallet.models import Account, Coin, JournalEntry, Posting
from wallet.selectors import ledger_verify


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Coin)
class CoinAdmin(admin.ModelAdmin):
    list_display = ("name", "decimals", "price", "min_amount", "is_active", "is_default", "sort_id")
    list_filter = ("is_active",)
    search_fields = ("name", "contract")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts and postings refer to coins forever


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "owner", "coin", "balance", "created_at")
    list_filter = ("kind", "coin")
    search_fields = ("owner__username", "owner__phone")


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount", "balance_after")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "idempotency_key", "memo", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "memo")
    inlines = [PostingInline]
    change_list_template = "admin/wallet/journalentry_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="wallet_ledger_verify")
        return [verify, *super().get_urls()]

    def verify_view(self, request: HttpRequest) -> TemplateResponse:
        problems = ledger_verify()
        context = {**self.admin_site.each_context(request), "title": "Ledger verification",
                   "problems": problems, "entries": JournalEntry.objects.count(),
                   "accounts": Account.objects.count(), "opts": self.model._meta}
        return TemplateResponse(request, "admin/wallet/ledger_verify.html", context)
