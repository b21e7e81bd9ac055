"""Parameter serializers shared by the socket methods and their REST twins."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

MAX_IDS = 200


class UserIdsParams(serializers.Serializer):
    uIds = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=MAX_IDS)


class PhoneParams(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class UserIdParams(serializers.Serializer):
    uId = serializers.IntegerField(min_value=1)


class MultiOnlineParams(serializers.Serializer):
    isOn = serializers.BooleanField()


class ProfileParams(serializers.Serializer):
    firstName = serializers.CharField(max_length=150, required=False, allow_blank=True)
    lastName = serializers.CharField(max_length=150, required=False, allow_blank=True)
    avatar = serializers.CharField(max_length=512, required=False, allow_blank=True)


FRIEND_POLICIES = {"anyone": 1, "approval": 2, "nobody": 3}  # wire name -> User.FriendPolicy
FRIEND_POLICY_NAMES = {number: name for name, number in FRIEND_POLICIES.items()}


class PrivacyParams(serializers.Serializer):
    """Each setting is optional; at least one is given."""

    phoneSearchable = serializers.BooleanField(required=False)
    friendAdd = serializers.ChoiceField(choices=list(FRIEND_POLICIES), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("give phoneSearchable, friendAdd or both")
        return attrs


class FriendAddParams(serializers.Serializer):
    uId = serializers.IntegerField(min_value=1)
    message = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class FriendRequestsParams(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["incoming", "outgoing"], default="incoming")


class SetPasswordParams(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    # Checked by the service so a bad value answers the seed's 400, not the generic 422.
    new_password = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")


class SmsCodeParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=[1])


class RegisterInput(serializers.Serializer):
    username = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    device = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class LoginInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128)
    device = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class TokenOutput(serializers.Serializer):
    userId = serializers.IntegerField()
    token = serializers.CharField()
