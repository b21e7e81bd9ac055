"""Remittances: money one user sends another inside a chat (remittance.* of the native API
document, MSG:Transfer ``wrap`` 2 of the older im/* document).

The amount waits in escrow until the payee receives it (it goes to the payee) or refunds it
(it goes back to the payer), or until it expires (back to the payer). Every move goes
through the ledger (wallet.services.ledger_post); this row only records the state.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from wallet.fields import MoneyField

DIGITS, PLACES = settings.MONEY_MAX_DIGITS, settings.MONEY_DECIMAL_PLACES


class Remittance(models.Model):
    class Type(models.IntegerChoices):
        """the native API document: 1 a private-chat remittance, 2 a group remittance."""

        PRIVATE = 1, "private chat"
        GROUP = 2, "group"

    class Status(models.IntegerChoices):
        """the older im/* document's transfer_log statuses 50/100/400; 300 (the payee sent it back) is ours."""

        PENDING = 50, "pending"
        RECEIVED = 100, "received"
        REFUNDED = 300, "refunded by the payee"
        EXPIRED = 400, "expired (refunded)"

    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              db_index=False)  # the (payer, id) index below serves lookups by payer
    payee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    coin = models.ForeignKey("wallet.Coin", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    description = models.CharField(max_length=225, blank=True, default="")
    type = models.PositiveSmallIntegerField(choices=Type.choices)
    # Where the remittance's messages are posted; chats are never deleted.
    chat = models.ForeignKey("chats.Chat", on_delete=models.PROTECT, related_name="+")
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    # The client's id for the request: a retry with the same id returns the first remittance.
    request_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    remitted_at = models.DateTimeField(default=timezone.now)  # the service sets it with expires_at
    received_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)  # by the payee (300) or by expiry (400)
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_amount_positive"),
            models.CheckConstraint(condition=~Q(payer=F("payee")), name="remittance_two_users"),
            models.UniqueConstraint(fields=["payer", "request_id"], condition=Q(request_id__isnull=False),
                                    name="remittance_one_per_request"),
        ]
        indexes = [
            # remittance.getRecords: a user's remittances out (payer) or in (payee), newest first.
            models.Index(fields=["payer", "-id"], name="remittance_payer_id"),
            models.Index(fields=["payee", "-id"], name="remittance_payee_id"),
            # The expiry job's scan: pending remittances by deadline.
            models.Index(fields=["expires_at"], condition=Q(status=50), name="remittance_pending_expiry"),
        ]

    def __str__(self) -> str:
        return (f"remittance {self.pk}: {self.coin.amount_text(self.amount)} {self.coin} from user {self.payer_id} "
                f"to {self.payee_id} ({self.get_status_display()})")
