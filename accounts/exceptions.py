"""Symbolic error codes of the accounts app (see core.exceptions for the shared ones)."""
from __future__ import annotations

from core.exceptions import INVALID_CREDENTIALS  # noqa: F401  (shared: HTTP 401)

USERNAME_TAKEN = "username_taken"
PHONE_TAKEN = "phone_taken"
INVALID_PASSWORD = "invalid_password"
WRONG_PASSWORD = "wrong_password"
ALREADY_FRIENDS = "already_friends"
SELF_NOT_ALLOWED = "self_not_allowed"
FRIEND_REFUSED = "friend_refused"
NO_PHONE = "no_phone"
INVALID_SMS_CODE = "invalid_sms_code"
