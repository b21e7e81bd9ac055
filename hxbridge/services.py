"""The bridge's one write: issuing admin tokens. Everything else it does goes through the
services of accounts and messaging (hxbridge/views.py)."""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.selectors import hash_token
from core import throttle
from core.exceptions import INVALID_CREDENTIALS, ApplicationError
from hxbridge.exceptions import NOT_CONFIGURED
from hxbridge.models import HxToken
from hxbridge.selectors import configured_fingerprint

# Expired tokens are deleted by the next issue after this grace (no scheduled job needed).
PURGE_AFTER = timedelta(days=1)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())  # bytes: any input, constant time


@transaction.atomic
def token_issue(*, client_id: str, client_secret: str, ip: str | None, trusted: bool = False) -> tuple[str, int]:
    """Trade the configured client credentials for a new admin token; returns it (shown once,
    stored hashed) with its lifetime in seconds. Every attempt, right or wrong, counts against
    the caller's address (``HX_TOKEN_PER_IP_PER_HOUR``).

    ``trusted``: the caller is on one of ``HX_TRUSTED_NETWORKS``, so a request with no
    credentials at all (the Easemob document's parameter-less call) is served as if it had sent
    the configured ones. Credentials that are sent are always checked."""
    fingerprint = configured_fingerprint()
    if fingerprint is None:
        raise ApplicationError(
            NOT_CONFIGURED, "the Easemob bridge is not configured: set HX_CLIENT_ID and HX_CLIENT_SECRET"
        )
    throttle.check(f"hx-token:{ip}", settings.HX_TOKEN_PER_IP_PER_HOUR, 3600,
                   "too many token requests from this address; try again later")
    if trusted and not client_id and not client_secret:
        return _issue(fingerprint, ip)
    if not client_id or not client_secret:
        raise ApplicationError(INVALID_CREDENTIALS, "client_id and client_secret are required")
    # Wrong secrets are limited like every password: per client_id and per address.
    attempt = throttle.password_attempt(
        f"hx-client:{client_id[:128]}", limit=settings.LOGIN_MAX_FAILURES,
        window_seconds=settings.LOGIN_LOCK_SECONDS, ip=ip,
        message="too many wrong client credentials; try again later",
    )
    # Both compared, always: no hint which of the two was wrong.
    id_ok = _same(client_id, settings.HX_CLIENT_ID)
    secret_ok = _same(client_secret, settings.HX_CLIENT_SECRET)
    if not (id_ok and secret_ok):
        raise ApplicationError(INVALID_CREDENTIALS, "wrong client_id or client_secret")
    attempt.succeeded()
    return _issue(fingerprint, ip)


def _issue(fingerprint: str, ip: str | None) -> tuple[str, int]:
    now = timezone.now()
    ttl = settings.HX_TOKEN_EXPIRE_SECONDS
    token = secrets.token_urlsafe(32)
    HxToken.objects.filter(expires_at__lt=now - PURGE_AFTER).delete()
    HxToken.objects.create(key_hash=hash_token(token), credentials_hash=fingerprint, ip=ip,
                           expires_at=now + timedelta(seconds=ttl))
    return token, ttl
