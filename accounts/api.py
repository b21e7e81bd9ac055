"""REST: register, login, logout (DESIGN.md's fixed contract). Everything else under
/api/v1 is the socket methods' REST twins (accounts/urls.py)."""
from __future__ import annotations

from typing import cast

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import serializers, services
from accounts.models import User
from core import contract, throttle
from core.openapi import ErrorBody


def _client(request: Request) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR"), request.META.get("HTTP_USER_AGENT", "")


class RegisterApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=serializers.RegisterInput, responses={201: serializers.TokenOutput})
    def post(self, request: Request) -> Response:
        data = serializers.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        ip, agent = _client(request)
        throttle.check(f"register:{ip}", settings.REGISTER_PER_IP_PER_HOUR, 3600,
                       "too many registrations from this address; try again later")
        fields = data.validated_data
        user, token = services.user_register_and_login(
            username=fields["username"], password=fields["password"], phone=fields.get("phone") or None,
            device=fields["device"], ip=ip, user_agent=agent,
        )
        return Response({"userId": user.pk, "token": token}, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=serializers.LoginInput, responses={
        200: serializers.TokenOutput,
        401: OpenApiResponse(ErrorBody, description="wrong username or password (`invalid_credentials`)")})
    def post(self, request: Request) -> Response:
        data = serializers.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        ip, agent = _client(request)
        fields = data.validated_data
        user, token = services.auth_login(
            username=fields["username"], password=fields["password"], device=fields["device"],
            ip=ip, user_agent=agent,
        )
        return Response({"userId": user.pk, "token": token})


class LogoutApi(APIView):
    @extend_schema(request=None, responses={200: contract.EMPTY_REPLY})
    def post(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated guarantees a real user
        services.session_end(user=user, session_id=request.auth.pk)
        return Response({})
