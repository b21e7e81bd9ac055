"""Operator console for the ledger: coins are edited; accounts and the journal are read-only
(every balance change goes through wallet.services.ledger_post). ``Verify ledger`` runs the
invariant check."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.admin import ReadOnlyAdmin, ReadOnlyInline, confirmed_action
from core.dashboard import ledger_verified
from wallet.cashier import recharge_credit, withdrawal_review
from wallet.display import MoneyAdmin, money
from wallet.fields import money_text
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


class CoinForm(forms.ModelForm):
    """The amounts as typed (``0.01``), not with the 18 places they are stored with."""

    class Meta:
        model = Coin
        fields = ("name", "chain_id", "coin_type", "contract", "decimals", "price", "min_amount", "description",
                  "explorer", "is_active", "is_default", "sort_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("price", "min_amount"):
            if isinstance(self.initial.get(name), Decimal):
                self.initial[name] = money_text(self.initial[name])


@admin.register(Coin)
class CoinAdmin(admin.ModelAdmin):
    form = CoinForm
    list_display = ("name", "decimals", "price_shown", "min_amount_shown", "is_active", "is_default", "sort_id")
    list_filter = ("is_active",)
    search_fields = ("name", "contract")

    @admin.display(description="price", ordering="price")
    def price_shown(self, obj: Coin) -> str:
        return money(obj.price, None)

    @admin.display(description="min amount", ordering="min_amount")
    def min_amount_shown(self, obj: Coin) -> str:
        return money(obj.min_amount, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Amounts already held or posted were checked against these decimals: changing them
        # would leave amounts the coin can no longer express.
        if obj is not None and Account.objects.filter(coin=obj).exists():
            return ("decimals",)
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts and postings refer to coins forever


@admin.register(Account)
class AccountAdmin(MoneyAdmin, ReadOnlyAdmin):
    list_display = ("id", "kind", "owner", "coin", "balance", "created_at")
    list_filter = ("kind", "coin")
    search_fields = ("owner__username", "owner__phone")
    list_select_related = ("owner", "coin")
    money_fields = {"balance": "coin"}


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount_shown", "balance_after_shown")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Posting]:
        return super().get_queryset(request).select_related("account__owner", "account__coin")

    @admin.display(description="amount")
    def amount_shown(self, obj: Posting) -> str:
        return money(obj.amount, obj.account.coin, signed=True)

    @admin.display(description="balance after")
    def balance_after_shown(self, obj: Posting) -> str:
        return money(obj.balance_after, obj.account.coin)


def _postings(entry: JournalEntry) -> list[Posting]:
    return list(entry.postings.all())  # prefetched with their accounts, owners and coins


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    """Each entry with what moved (per coin, the sum of its credits) and the users whose
    wallets it touched; the postings, account by account, on the entry's page."""

    list_display = ("id", "kind", "amount", "users", "idempotency_key", "memo", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "memo", "postings__account__owner__username")
    list_select_related = ("created_by",)
    inlines = [PostingInline]
    change_list_template = "admin/wallet/journalentry_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[JournalEntry]:
        postings = Posting.objects.select_related("account__owner", "account__coin").order_by("pk")
        return super().get_queryset(request).prefetch_related(Prefetch("postings", queryset=postings))

    @admin.display(description="amount")
    def amount(self, obj: JournalEntry) -> str:
        moved: dict[int, tuple[Coin, Any]] = {}
        for posting in _postings(obj):
            if posting.amount > 0:
                coin = posting.account.coin
                moved[coin.pk] = (coin, moved.get(coin.pk, (coin, 0))[1] + posting.amount)
        return ", ".join(f"{money(total, coin)} {coin.name}" for coin, total in moved.values()) or "-"

    @admin.display(description="users")
    def users(self, obj: JournalEntry) -> str:
        names = dict.fromkeys(p.account.owner.username for p in _postings(obj) if p.account.owner is not None)
        return ", ".join(names) or "-"

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
class RechargeAdmin(MoneyAdmin):
    """Operators credit recharges here; the ledger entry records who and why."""

    form = RechargeForm
    money_fields = {"amount": "coin"}
    list_select_related = ("user", "coin", "operator")
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
class WithdrawalAdmin(MoneyAdmin, ReadOnlyAdmin):
    money_fields = {"amount": "coin"}
    list_select_related = ("user", "coin", "reviewed_by")
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
class ExchangeOfferAdmin(MoneyAdmin, ReadOnlyAdmin):
    """Offers settle only through their parties or the expiry job (wallet.exchange)."""

    money_fields = {"from_amount": "from_coin", "to_amount": "to_coin"}

    list_display = ("id", "from_user", "from_amount", "from_coin", "to_user", "to_amount", "to_coin", "status",
                    "created_at", "expires_at", "settled_at")
    list_filter = ("status", "from_coin", "to_coin")
    search_fields = ("from_user__username", "to_user__username", "memo")
    list_select_related = ("from_user", "to_user", "from_coin", "to_coin")
    date_hierarchy = "created_at"


@admin.register(Transfer)
class TransferAdmin(MoneyAdmin, ReadOnlyAdmin):
    """Plain transfers between two users (im/wallet_transfer); each is one ledger entry."""

    money_fields = {"amount": "coin"}

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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Wallet]:
        held = Account.objects.filter(kind=Account.Kind.USER).select_related("coin").order_by("coin__sort_id", "pk")
        return super().get_queryset(request).prefetch_related(
            Prefetch("user__wallet_accounts", queryset=held, to_attr="held_accounts"))

    @admin.display(description="balances")
    def balances(self, obj: Wallet) -> str:
        held = getattr(obj.user, "held_accounts", None)
        if held is None:
            held = Account.objects.filter(kind=Account.Kind.USER, owner_id=obj.user_id).select_related("coin")
        return ", ".join(f"{money(a.balance, a.coin)} {a.coin.name}" for a in held) or "none"
