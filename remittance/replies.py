"""The shapes of the ``remittance.*`` methods' replies (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``). Every method answers the one
``RemittanceRecord`` shape (remittance.getRecords a list of them). Amounts are exact JSON
numbers (``wallet.replies.Amount``).

A remittance's pushes are chat messages (``onMessage`` type 5, declared with the messages):
5/100 remitted, 5/200 received, 5/300 refunded, 5/400 reminded, each with the content
``Card`` (``remittance.events.card``).
"""
from __future__ import annotations

from rest_framework import serializers

from remittance.models import Remittance
from wallet.replies import Amount


class RemittanceRecord(serializers.Serializer):
    type = serializers.ChoiceField(choices=Remittance.Type.choices)
    remittanceId = serializers.IntegerField()
    payerUID = serializers.IntegerField()
    payeeUID = serializers.IntegerField()
    remittedAt = serializers.IntegerField(help_text="Unix seconds")
    receivedAt = serializers.IntegerField(allow_null=True, help_text="when the payee took it, Unix seconds; "
                                                                     "null unless received")
    refundedAt = serializers.IntegerField(allow_null=True, help_text="when it went back to the payer (refunded by "
                                                                     "the payee, or expired), Unix seconds; null "
                                                                     "otherwise")
    expireAt = serializers.IntegerField(help_text="the deadline to receive it, Unix seconds")
    chatId = serializers.IntegerField(help_text="the chat its messages are posted in (negative for a group)")
    description = serializers.CharField(allow_blank=True)
    amount = Amount(help_text="the amount sent, held in escrow while pending")
    coinId = serializers.IntegerField(help_text="the coin of the amount (the default one unless sent through im/*)")
    status = serializers.ChoiceField(choices=Remittance.Status.choices)


class Card(serializers.Serializer):
    """The content of a remittance's chat messages (type 5)."""

    remittanceId = serializers.IntegerField()
    payer = serializers.IntegerField()
    payee = serializers.IntegerField()
    amount = Amount()
    coinId = serializers.IntegerField(required=False, help_text="present only when the coin is not the default "
                                                                "one (the im/* facade's transfers)")
    expired = serializers.BooleanField(required=False, help_text="present (true) on the 5/300 of an expiry")
