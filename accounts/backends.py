"""The Django authentication backend of the operator console's login form (``/admin/login/``):
Django's own, with every password check limited per username and per address like the API's
logins (``core.throttle.password_attempt``, the same counters)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User, username_key
from core import throttle
from core.exceptions import ApplicationError


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        window = settings.LOGIN_LOCK_SECONDS
        attempt = throttle.password_attempt(
            f"login:{username_key(username)}", limit=settings.LOGIN_MAX_FAILURES, window_seconds=window,
            ip=request.META.get("REMOTE_ADDR") if request is not None else None,
            message=f"Too many failed logins; try again in {max(1, window // 60)} minutes.",
        )
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user


class AdminLoginForm(AdminAuthenticationForm):
    """The console's login form: a refusal for too many attempts is shown as the form's error."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ApplicationError as error:
            raise ValidationError(error.message, code="rate_limited") from error
