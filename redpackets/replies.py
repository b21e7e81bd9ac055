"""The shapes of the ``redpacket.*`` methods' replies (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``). One ``RedPacket`` shape serves
redpacket.detail and each item of redpacket.record; one ``RedPacketGrabber`` shape every list of who got
what. Amounts are exact JSON numbers (``wallet.replies.Amount``).

The red packets' pushes are chat messages (``onMessage``, declared with the messages): 2/100
when a packet is posted (content ``CreatedContent``) and the 2/200 notice of a grab (content
``GrabbedContent``; ``messageId`` and ``seq`` null, ``from`` the grabber).
"""
from __future__ import annotations

from rest_framework import serializers

from redpackets.models import RedPacket
from wallet.replies import Amount


class Created(serializers.Serializer):
    redPacketId = serializers.IntegerField(help_text="the new packet (the native API document answers {}; "
                                                     "the id is ours)")


class RedPacketGrabber(serializers.Serializer):
    userId = serializers.IntegerField()
    price = Amount(help_text="the share this user got")
    gotAt = serializers.IntegerField(help_text="when, in Unix seconds")


class Grabbed(serializers.Serializer):
    users = RedPacketGrabber(many=True, help_text="everyone who got a share so far, in the order they got it")


class RedPacketDetail(serializers.Serializer):
    """A packet as redpacket.detail shows it (also each item of redpacket.record)."""

    redPacketId = serializers.IntegerField()
    locals()["from"] = serializers.IntegerField(help_text="the sender")
    createAt = serializers.IntegerField(help_text="Unix seconds")
    chatId = serializers.IntegerField(help_text="the chat it was posted in (negative for a group)")
    type = serializers.ChoiceField(choices=RedPacket.Type.choices)
    title = serializers.CharField(allow_blank=True)
    price = Amount(help_text="one share (single and equal packets); the average share of a lucky one")
    total_price = Amount(help_text="the packet's total")
    coinId = serializers.IntegerField(help_text="the coin of its amounts (the default one unless made through im/*)")
    count = serializers.IntegerField(help_text="how many shares")
    isExpire = serializers.BooleanField(help_text="expired, the rest refunded to the sender")
    remainCount = serializers.IntegerField(help_text="shares still free (ours)")
    users = RedPacketGrabber(many=True, help_text="who got a share, in the order they got it")


class Statistics(serializers.Serializer):
    total_price = Amount(help_text="type 1: the sum of the packets' totals; type 2: the sum of the shares got; "
                                   "in the app wallet's (default) coin")
    count = serializers.IntegerField(help_text="type 1: packets created; type 2: shares got")
    top_price_count = serializers.IntegerField(help_text="type 2: best-luck shares (the largest of a lucky "
                                                         "packet all taken); 0 for type 1")


class CreatedContent(serializers.Serializer):
    """The content of message 2/100: a packet posted in the chat."""

    redPacketId = serializers.IntegerField()
    locals()["from"] = serializers.IntegerField(help_text="the sender")
    title = serializers.CharField(allow_blank=True)
    type = serializers.ChoiceField(choices=RedPacket.Type.choices)


class GrabbedContent(serializers.Serializer):
    """The content of the 2/200 notice: a share was grabbed (a push, not a stored message)."""

    redPacketId = serializers.IntegerField()
    locals()["from"] = serializers.IntegerField(help_text="the packet's sender (the notice's own from is the "
                                                          "grabber)")
    type = serializers.ChoiceField(choices=RedPacket.Type.choices)
    price = Amount(help_text="the share the grabber got")
    isLast = serializers.BooleanField(help_text="the last share: the packet is all taken (this notice then "
                                                "goes to every member)")
