"""Operator console for the ledger: coins are edited; accounts and the journal are read-only
(every balance change goes through wallet.services.ledger_post). ``Verify ledger`` runs the
invariant check."""
from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.admin import ReadOnlyAdmin, ReadOnlyInline, confirmed_action
from core.dashboard import ledger_verified
from wallet.cashier import recharge_credit, withdrawal_review
from wallet.models import (
    Account,
    Coin,
    ExchangeOffer,
    IdempotencyKey,
    JournalEntry,
    PaymentDesk,
    Posting,
    Recharge,
    Transfer,
    Wallet,
    Withdrawal,
)
from wallet.selectors import ledger_verify


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


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount", "balance_after")


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
        ledger_verified(problems)  # shown on the console's home page
        context = {**self.admin_site.each_context(request), "title": "Ledger verification",
                   "problems": problems, "entries": JournalEntry.objects.count(),
                   "accounts": Account.objects.count(), "opts": self.model._meta}
        return TemplateResponse(request, "admin/wallet/ledger_verify.html", context)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """The clientMsgId of each money request: why a retry answered an earlier payment."""

    list_display = ("id", "user", "method", "key", "object_id", "created_at")
    list_filter = ("method",)
    search_fields = ("user__username", "key")
    raw_id_fields = ("user",)


@admin.register(PaymentDesk)
class PaymentDeskAdmin(admin.ModelAdmin):
    list_display = ("__str__", "cs_user", "pay_url", "checkout_url")
    raw_id_fields = ("cs_user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PaymentDesk.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RechargeForm(forms.ModelForm):
    # Generated when the form is shown: a double submit posts the same token and credits once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)

    class Meta:
        model = Recharge
        fields = ("user", "coin", "amount", "reason")


@admin.register(Recharge)
class RechargeAdmin(admin.ModelAdmin):
    """Operators credit recharges here; the ledger entry records who and why."""

    form = RechargeForm
    list_display = ("id", "user", "coin", "amount", "reason", "operator", "created_at")
    list_filter = ("coin",)
    search_fields = ("user__username", "reason")
    raw_id_fields = ("user",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Recharge, form: Any, change: bool) -> None:
        # Not obj.save(): money moves only through the ledger service.
        done = recharge_credit(operator=request.user, user=obj.user, coin=obj.coin,  # type: ignore[arg-type]
                               amount=obj.amount, reason=obj.reason, idempotency_key=form.cleaned_data["token"])
        obj.pk = done.pk
        obj.entry = done.entry


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "coin", "amount", "status", "created_at", "reviewed_by", "reviewed_at", "note")
    list_filter = ("status", "coin")
    search_fields = ("user__username",)
    actions = ["approve", "reject"]

    @confirmed_action(description="Approve: pay out", label="Paid out",
                      question="Pay out these withdrawals? The money leaves the escrow for the outside world; "
                               "the reason is stored as each withdrawal's note.")
    def approve(self, request: HttpRequest, withdrawal: Withdrawal, reason: str) -> None:
        withdrawal_review(withdrawal_id=withdrawal.pk, operator=request.user,  # type: ignore[arg-type]
                          approve=True, note=reason)

    @confirmed_action(description="Reject: refund to the user", label="Rejected (refunded)",
                      question="Reject these withdrawals? The money goes back to each user's balance; the reason "
                               "is stored as each withdrawal's note and the refund's memo.")
    def reject(self, request: HttpRequest, withdrawal: Withdrawal, reason: str) -> None:
        withdrawal_review(withdrawal_id=withdrawal.pk, operator=request.user,  # type: ignore[arg-type]
                          approve=False, note=reason)


@admin.register(ExchangeOffer)
class ExchangeOfferAdmin(ReadOnlyAdmin):
    """Offers settle only through their parties or the expiry job (wallet.exchange)."""

    list_display = ("id", "from_user", "from_amount", "from_coin", "to_user", "to_amount", "to_coin", "status",
                    "created_at", "expires_at", "settled_at")
    list_filter = ("status", "from_coin", "to_coin")
    search_fields = ("from_user__username", "to_user__username", "memo")
    list_select_related = ("from_user", "to_user", "from_coin", "to_coin")
    date_hierarchy = "created_at"


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    """Plain transfers between two users (im/wallet_transfer); each is one ledger entry."""

    list_display = ("id", "payer", "payee", "amount", "coin", "memo", "entry", "created_at")
    list_filter = ("coin",)
    search_fields = ("payer__username", "payee__username", "memo")
    list_select_related = ("payer", "payee", "coin")
    date_hierarchy = "created_at"


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    """Wallets and their balances; money moves only through recharges, withdrawals and the app."""

    list_display = ("user", "address", "balances", "created_at")
    search_fields = ("user__username", "user__phone", "address")
    list_select_related = ("user",)
    readonly_fields = ("user", "address", "balances", "created_at", "updated_at")
    exclude = ("password",)

    @admin.display(description="balances")
    def balances(self, obj: Wallet) -> str:
        held = Account.objects.filter(kind=Account.Kind.USER, owner_id=obj.user_id).select_related("coin")
        return ", ".join(f"{a.balance.quantize(a.coin.quantum)} {a.coin.name}" for a in held) or "none"
