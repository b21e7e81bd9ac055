"""Red packets (the native API document redpacket.*): money held in escrow, split into shares at creation.

A packet's shares are rows written when it is created: a lucky packet's random split, an
equal packet's equal parts, a single packet's one share. Grabbing claims one unclaimed
share (``FOR UPDATE SKIP LOCKED``), so concurrent grabbers never wait on each other for a
share; the packet row counts the shares left (``remaining_count``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from wallet.fields import MoneyField

DIGITS, PLACES = settings.MONEY_MAX_DIGITS, settings.MONEY_DECIMAL_PLACES


class RedPacket(models.Model):
    class Type(models.IntegerChoices):
        SINGLE = 1, "single (private chat)"
        LUCKY = 2, "lucky (random shares)"
        EQUAL = 3, "equal shares"

    class Status(models.IntegerChoices):
        ACTIVE = 50, "active"
        TAKEN = 100, "all taken"
        EXPIRED = 400, "expired (rest refunded)"

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    chat = models.ForeignKey("chats.Chat", on_delete=models.PROTECT, related_name="+")
    coin = models.ForeignKey("wallet.Coin", on_delete=models.PROTECT, related_name="+")
    type = models.PositiveSmallIntegerField(choices=Type.choices)
    title = models.CharField(max_length=225, blank=True, default="")  # im/* notes: 225 (native: 64)
    price = MoneyField(max_digits=DIGITS, decimal_places=PLACES,
                                help_text="one share (single and equal packets); the average for lucky ones")
    total_price = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    count = models.PositiveIntegerField()
    remaining_count = models.PositiveIntegerField()
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, help_text="all taken, or expired and refunded")
    refunded = MoneyField(max_digits=DIGITS, decimal_places=PLACES, default=0,
                                   help_text="what nobody took, returned to the sender at expiry")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_price__gt=0) & Q(count__gt=0), name="redpacket_positive"),
            models.CheckConstraint(condition=Q(remaining_count__lte=models.F("count")),
                                   name="redpacket_remaining_le_count"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status=50), name="redpacket_active_expiry"),
            models.Index(fields=["sender", "-created_at"], name="redpacket_sender_recent"),
        ]

    def __str__(self) -> str:
        return (f"red packet {self.pk}: {self.coin.amount_text(self.total_price)} {self.coin} in {self.count} "
                f"({self.get_status_display()})")

    @property
    def is_expire(self) -> bool:
        return self.status == self.Status.EXPIRED


class RedPacketShare(models.Model):
    packet = models.ForeignKey(RedPacket, on_delete=models.PROTECT, related_name="shares")
    index = models.PositiveIntegerField()
    amount = MoneyField(max_digits=DIGITS, decimal_places=PLACES)
    is_best = models.BooleanField(default=False, help_text="the largest share of a lucky packet (best luck)")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    grabbed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["packet", "index"], name="redpacketshare_index"),
            # one share per user per packet, however many devices tap at once
            models.UniqueConstraint(fields=["packet", "user"], condition=Q(user__isnull=False),
                                    name="redpacketshare_one_per_user"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="redpacketshare_positive"),
        ]
        indexes = [
            models.Index(fields=["packet", "index"], condition=Q(user__isnull=True), name="redpacketshare_free"),
            models.Index(fields=["user", "-grabbed_at"], condition=Q(user__isnull=False),
                         name="redpacketshare_user_recent"),
        ]

    def __str__(self) -> str:
        return f"share {self.index} of packet {self.packet_id}: {self.packet.coin.amount_text(self.amount)}"
