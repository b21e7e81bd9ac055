"""Parameter serializers shared by the socket methods and their REST twins."""
from __future__ import annotations

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


class PrivacyParams(serializers.Serializer):
    phoneSearchable = serializers.BooleanField()


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
