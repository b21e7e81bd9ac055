"""DRF authentication by login-session token.

Accepted as ``Authorization: Bearer TOKEN``, or as ``session_key`` (the im/* facade's name)
in the query string, a form body or a JSON body.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import AuthSession, User
from accounts.selectors import session_authenticate


def token_from_request(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    key = request.query_params.get("session_key")
    if key:
        return key
    try:
        data: Any = request.data
    except exceptions.ParseError:
        return None
    if hasattr(data, "get"):
        value = data.get("session_key")
        if isinstance(value, str) and value:
            return value
    return None


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, AuthSession] | None:
        token = token_from_request(request)
        if token is None:
            return None
        session = session_authenticate(token)
        if session is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return session.user, session

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Lets the OpenAPI docs authorise with a bearer token."""

    target_class = "accounts.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Token from /api/v1/auth/login"}
