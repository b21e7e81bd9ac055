"""The shapes of the accounts methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``)."""
from __future__ import annotations

from rest_framework import serializers

from core import contract


class UserBrief(serializers.Serializer):
    uId = serializers.IntegerField()
    firstName = serializers.CharField(allow_blank=True)
    lastName = serializers.CharField(allow_blank=True)
    userName = serializers.CharField()
    avatar = serializers.CharField(allow_blank=True)
    isInternal = serializers.BooleanField()


class Kicked(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["login_elsewhere"])
    device = serializers.CharField()


contract.event("accounts.onKicked", Kicked,
               "This login was ended by a login elsewhere (single-device accounts); the socket closes next.")
