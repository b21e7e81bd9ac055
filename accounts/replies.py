"""The shapes of the accounts methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``)."""
from __future__ import annotations

from rest_framework import serializers


class UserBrief(serializers.Serializer):
    uId = serializers.IntegerField()
    firstName = serializers.CharField(allow_blank=True)
    lastName = serializers.CharField(allow_blank=True)
    userName = serializers.CharField()
    avatar = serializers.CharField(allow_blank=True)
    isInternal = serializers.BooleanField()
