"""The shapes of the wallet methods' replies (``registry.method(reply=...)``): published in the
socket's AsyncAPI document and the REST twins' OpenAPI responses, and held against every reply
in the tests (``core.contract``). The wallet pushes nothing of its own: an exchange offer and
its outcome are chat messages (onMessage 11/100, 11/200, 11/400, content ``ExchangeCard``).

Amounts go out as JSON *numbers* written with their exact digits (``core.jsonwire``), never as
strings: ``Amount`` describes them, for the red packets and remittances too.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wallet.models import ExchangeOffer, JournalEntry

AMOUNT_NOTE = ("an exact decimal sent as a JSON number with all its digits, never in exponent form{places}: "
               "read it with a decimal-aware JSON parser, not as a float")
COIN_PLACES = " (the coin's decimals: 12.50 for a 2-decimal coin, 0.000001 for a 6-decimal one)"


def _described(help_text: str, places: str) -> str:
    note = AMOUNT_NOTE.format(places=places)
    return f"{help_text}; {note}" if help_text else note[:1].upper() + note[1:]


# A DRF DecimalField without coerce_to_string would be published as a "double" with bounds in
# OpenAPI 3.0's boolean form; these say what the wire carries: a number, exact, never negative.
@extend_schema_field({"type": "number", "format": "decimal", "minimum": 0})
class Amount(serializers.DecimalField):
    """An amount of money, never negative, sent as an exact JSON number."""

    def __init__(self, *, help_text: str = "", places: str = COIN_PLACES, **kwargs: Any) -> None:
        super().__init__(max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES,
                         coerce_to_string=False, help_text=_described(help_text, places), **kwargs)


@extend_schema_field({"type": "number", "format": "decimal"})
class SignedAmount(Amount):
    """A change of a balance: negative for money out, sent as an exact JSON number."""


class Address(serializers.Serializer):
    address = serializers.CharField(help_text="the wallet's address: W and 40 hex digits, kept when the "
                                              "password is reset")


class WalletBalance(serializers.Serializer):
    coinId = serializers.IntegerField()
    coin = serializers.CharField(help_text="the coin's name")
    isDefault = serializers.BooleanField(help_text="the app wallet's default coin (red packets, remittances, "
                                                   "withdrawals)")
    balance = Amount(help_text="the user's balance of this coin (0 when none yet)")


class WalletInfo(serializers.Serializer):
    address = serializers.CharField(help_text="the wallet's address")
    balance = Amount(allow_null=True, help_text="the balance of the default coin; null when no coin is active "
                                                "as the default")
    hasPaymentPassword = serializers.BooleanField(help_text="always true: a wallet exists once its payment "
                                                            "password is set")
    balances = WalletBalance(many=True, help_text="every active coin's balance")


class WalletRecord(serializers.Serializer):
    type = serializers.ChoiceField(choices=JournalEntry.Kind.choices,
                                   help_text="the kind of move: 1-7 the native API document's, 8-13 ours")
    amount = SignedAmount(help_text="the change of the user's balance: positive in, negative out")
    remarks = serializers.CharField(allow_blank=True, help_text="the journal entry's memo")
    coinId = serializers.IntegerField()
    createAt = serializers.IntegerField(help_text="when, in Unix seconds")


class RechargeDesk(serializers.Serializer):
    csUserId = serializers.IntegerField(allow_null=True, help_text="the customer-service user to talk to; "
                                                                   "null when operators set none")
    payUrl = serializers.CharField(allow_null=True, help_text="the recharge page; null when operators set none")


class WithdrawDesk(serializers.Serializer):
    csUserId = serializers.IntegerField(allow_null=True, help_text="the customer-service user to talk to; "
                                                                   "null when operators set none")
    checkoutUrl = serializers.CharField(allow_null=True, help_text="the withdrawal page; null when operators "
                                                                   "set none")


class ExchangeCard(serializers.Serializer):
    """An exchange offer: the content of its chat messages (type 11) and, with ``chatId``, the
    exchange methods' reply."""

    exchangeId = serializers.IntegerField()
    locals()["from"] = serializers.IntegerField(help_text="the user who offers")
    to = serializers.IntegerField(help_text="the user the offer names, the only one who can accept it")
    fromCoinId = serializers.IntegerField()
    fromCoin = serializers.CharField(help_text="the offered coin's name")
    fromAmount = Amount(help_text="what is offered, held in escrow until accepted or expired")
    toCoinId = serializers.IntegerField()
    toCoin = serializers.CharField(help_text="the asked coin's name")
    toAmount = Amount(help_text="what is asked in return")
    memo = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ExchangeOffer.Status.choices)
    createAt = serializers.IntegerField(help_text="Unix seconds")
    expireAt = serializers.IntegerField(help_text="the deadline to accept, Unix seconds")
    settledAt = serializers.IntegerField(allow_null=True, help_text="when accepted or expired, Unix seconds; "
                                                                    "null while pending")


class Exchange(ExchangeCard):
    """An exchange offer and the private chat it is posted in: the exchange methods' reply."""

    chatId = serializers.IntegerField(allow_null=True, help_text="the private chat the offer is posted in")
