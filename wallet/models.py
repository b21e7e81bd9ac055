"""Coins, accounts and the double-entry journal.

Every change of a balance is a ``JournalEntry`` whose ``Posting`` rows sum to zero per coin,
written only by ``wallet.services.ledger_post``. User and escrow balances carry
``CHECK (balance >= 0)``; the external accounts (money coming in from recharges and going
out to withdrawals) are the only ones allowed below zero, so the sum of every balance of a
coin is always zero.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wallet.fields import MoneyField

DIGITS, PLACES = settings.MONEY_MAX_DIGITS, settings.MONEY_DECIMAL_PLACES


class Coin(models.Model):
    """the older im/* document coin_info: the currencies wallets hold."""

    name = models.CharField(max_length=32, unique=True)
    chain_id = models.CharField(max_length=32, blank=True, default="")
    coin_type = models.PositiveSmallIntegerField(default=0)
    contract = models.CharField(max_length=128, blank=True, default="")
    decimals = models.PositiveSmallIntegerField(default=2, help_text="amounts are quantized to this many places")
    price = MoneyField(max_digits=DIGITS, decimal_places=PLACES, default=Decimal("0"))
    min_amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES, default=Decimal("0.01"))
    description = models.CharField(max_length=255, blank=True, default="")
    explorer = models.CharField(max_length=255, blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="the app wallet's coin (exactly one)")
    sort_id = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(decimals__lte=18), name="coin_decimals_max_18"),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="coin_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    def amount_text(self, amount: Decimal, *, signed: bool = False) -> str:
        """``amount`` with this coin's decimals, plain fixed-point: ``12.50`` (``+12.50`` if
        ``signed``), as operators read it; never the 18 places it is stored with."""
        return format(amount.quantize(self.quantum), "+f" if signed else "f")


class Account(models.Model):
    """A balance of one coin: a user's wallet or one of the system accounts."""

    class Kind(models.TextChoices):
        USER = "user"
        ESCROW = "escrow", "escrow (red packets, transfers, exchanges, withdrawals in review)"
        FEES = "fees"
        EXTERNAL = "external", "external (recharges in, withdrawals out)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="wallet_accounts")
    coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="accounts")
    balance = MoneyField(max_digits=DIGITS, decimal_places=PLACES, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0) | Q(kind="external"),
                                   name="account_balance_non_negative"),
            models.UniqueConstraint(fields=["owner", "coin"], condition=Q(kind="user"),
                                    name="account_one_per_user_coin"),
            models.UniqueConstraint(fields=["kind", "coin"], condition=~Q(kind="user"),
                                    name="account_one_system_per_coin"),
            models.CheckConstraint(
                condition=Q(kind="user", owner__isnull=False) | (~Q(kind="user") & Q(owner__isnull=True)),
                name="account_owner_iff_user",
            ),
        ]

    def __str__(self) -> str:
        # Who holds it and in which coin ("alice · cny wallet", "escrow · cny"), never the
        # balance: a label that changed with every payment would mislead in postings.
        if self.owner is not None:
            return f"{self.owner.username} · {self.coin.name} wallet"
        return f"{self.kind} · {self.coin.name}"


class JournalEntry(models.Model):
    """One money movement. Its postings sum to zero per coin."""

    class Kind(models.IntegerChoices):
        """Also the native API document wallet.records types 1-7; 8-13 are ours (docs/wallet.md)."""

        RECHARGE = 1, "recharge"
        WITHDRAW = 2, "withdraw"
        RECEIVE = 3, "receive"
        TRANSFER = 4, "transfer"
        REDPACKET_CREATE = 5, "red packet created"
        REDPACKET_GRAB = 6, "red packet grabbed"
        REDPACKET_REFUND = 7, "red packet refunded"
        EXCHANGE_OFFER = 8, "exchange offered"
        EXCHANGE_SETTLE = 9, "exchange settled"
        EXCHANGE_REFUND = 10, "exchange refunded"
        WITHDRAW_REFUND = 11, "withdrawal rejected"
        ADJUSTMENT = 12, "operator adjustment"
        REMITTANCE_REFUND = 13, "remittance refunded"

    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    idempotency_key = models.CharField(max_length=128, unique=True)
    memo = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"entry {self.pk} {self.get_kind_display()} ({self.idempotency_key})"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)  # signed: + credits, - debits
    balance_after = MoneyField(max_digits=DIGITS, decimal_places=PLACES)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]
        indexes = [models.Index(fields=["account", "entry"], name="posting_account_entry")]

    def __str__(self) -> str:
        return f"{self.account.coin.amount_text(self.amount, signed=True)} {self.account}"


class Wallet(models.Model):
    """A user's wallet: its address and payment password (the native API document wallet.setPassword).

    The password is stored like a login password: canonical MD5, then Django's hasher.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    address = models.CharField(max_length=64, unique=True)
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"wallet {self.address} of user {self.user_id}"


class PaymentDesk(models.Model):
    """Operator settings for the native API document web.recharge / web.withdraw (one row, edited in the admin)."""

    cs_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="the customer-service account users talk to")
    pay_url = models.CharField(max_length=512, blank=True, default="", help_text="recharge page (payUrl)")
    checkout_url = models.CharField(max_length=512, blank=True, default="", help_text="withdrawal page (checkoutUrl)")

    class Meta:
        verbose_name = verbose_name_plural = "payment desk"

    def __str__(self) -> str:
        return "payment desk"

    @classmethod
    def current(cls) -> PaymentDesk:
        desk, _ = cls.objects.get_or_create(pk=1)
        return desk


class Recharge(models.Model):
    """Money an operator credited to a user, with who did it and why."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recharges")
    coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    reason = models.CharField(max_length=255)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recharge_amount_positive")]

    def __str__(self) -> str:
        return f"recharge {self.coin.amount_text(self.amount)} {self.coin} to user {self.user_id}"


class Withdrawal(models.Model):
    """web.withdraw (the native API document): funds held in escrow until an operator pays them out or refunds them."""

    class Status(models.IntegerChoices):
        PENDING = 50, "pending"
        PAID = 100, "paid out"
        REJECTED = 400, "rejected (refunded)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive")]

    def __str__(self) -> str:
        return f"withdrawal {self.pk}: {self.coin.amount_text(self.amount)} {self.coin} ({self.get_status_display()})"


class ExchangeOffer(models.Model):
    """the older im/* document exchange_log: ``from_user`` offers ``from_amount`` of ``from_coin`` (held in escrow)
    for ``to_amount`` of ``to_coin`` from ``to_user``; accepting swaps both sides at once.
    Statuses are the older im/* document's: 50 pending, 100 accepted, 400 expired (refunded)."""

    class Status(models.IntegerChoices):
        PENDING = 50, "pending"
        ACCEPTED = 100, "accepted"
        EXPIRED = 400, "expired (refunded)"

    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="+")
    from_amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="+")
    to_amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    memo = models.CharField(max_length=125, blank=True, default="")
    # The client's id for the request: a retry with the same id returns the first offer.
    request_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    chat = models.ForeignKey("chats.Chat", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Set by the service from the same instant as expires_at, so expireAt - createAt is exact.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(from_amount__gt=0) & Q(to_amount__gt=0),
                                   name="exchange_amounts_positive"),
            models.CheckConstraint(condition=~Q(from_coin=models.F("to_coin")), name="exchange_two_coins"),
            models.CheckConstraint(condition=~Q(from_user=models.F("to_user")), name="exchange_two_users"),
            models.UniqueConstraint(fields=["from_user", "request_id"], condition=Q(request_id__isnull=False),
                                    name="exchange_one_per_request"),
        ]
        # The expiry job's scan: pending offers by deadline.
        indexes = [models.Index(fields=["expires_at"], condition=Q(status=50), name="exchange_pending_expiry")]

    def __str__(self) -> str:
        return (f"exchange {self.pk}: {self.from_coin.amount_text(self.from_amount)} {self.from_coin} for "
                f"{self.to_coin.amount_text(self.to_amount)} {self.to_coin} "
                f"({self.get_status_display()})")


class Transfer(models.Model):
    """A plain transfer between two users' wallets (the im/* facade's ``im/wallet_transfer``;
    the older im/* document's ``transfer_log`` with ``wrap`` 0): paid at once, no escrow, no chat message.
    ``entry`` is its ledger entry (kind 4, key ``transfer:<id>``)."""

    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    coin = models.ForeignKey(Coin, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    memo = models.CharField(max_length=225, blank=True, default="")
    # Set in the transaction that creates the transfer, right after the row (the key row in between).
    entry = models.OneToOneField(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(payer=models.F("payee")), name="transfer_two_users"),
        ]

    def __str__(self) -> str:
        return (f"transfer {self.pk}: {self.coin.amount_text(self.amount)} {self.coin} from {self.payer_id} "
                f"to {self.payee_id}")


class IdempotencyKey(models.Model):
    """A money-moving request a client named with its ``clientMsgId`` (wallet.idempotency).

    One row per user, method and key, inserted in the transaction that moves the money: a
    retry finds it and answers with ``object_id`` (the packet, remittance, offer or
    withdrawal the first call made), and a retry racing the first call fails the unique
    constraint and does the same. ``digest`` fingerprints the first call's parameters, so
    the same key with other parameters is refused rather than answered with the wrong result.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             db_index=False)  # the unique index below starts with user
    method = models.CharField(max_length=32, help_text="the native method, e.g. redpacket.create")
    key = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, blank=True, default="",
                              help_text="SHA-256 of the first call's parameters; empty: unknown (older rows)")
    object_id = models.PositiveBigIntegerField(help_text="what the first call made")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "method", "key"], name="idempotency_one_per_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.key!r} of user {self.user_id}: {self.object_id}"
