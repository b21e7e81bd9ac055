"""Reads of the bridge: which admin token a request carries."""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone

from accounts.selectors import hash_token
from hxbridge.models import HxToken


def credentials_fingerprint(client_id: str, client_secret: str) -> str:
    """What a token remembers of the credentials it was issued for (keyed with SECRET_KEY, so
    the table says nothing about the secret)."""
    message = f"{client_id}\0{client_secret}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def configured_fingerprint() -> str | None:
    if not (settings.HX_CLIENT_ID and settings.HX_CLIENT_SECRET):
        return None
    return credentials_fingerprint(settings.HX_CLIENT_ID, settings.HX_CLIENT_SECRET)


def token_authenticate(token: str) -> HxToken | None:
    """The live admin token, or None: unknown, expired, issued for other credentials, or the
    bridge has no credentials configured."""
    fingerprint = configured_fingerprint()
    if fingerprint is None or not token or len(token) > 128:
        return None
    return HxToken.objects.filter(
        key_hash=hash_token(token), credentials_hash=fingerprint, expires_at__gt=timezone.now()
    ).first()
