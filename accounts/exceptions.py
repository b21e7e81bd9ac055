"""Symbolic error codes of the accounts app (see core.exceptions for the shared ones)."""
from __future__ import annotations

from core.exceptions import INVALID_CREDENTIALS, register_http_statuses

USERNAME_TAKEN = "username_taken"
PHONE_TAKEN = "phone_taken"
INVALID_PASSWORD = "invalid_password"
WRONG_PASSWORD = "wrong_password"
ALREADY_FRIENDS = "already_friends"
SELF_NOT_ALLOWED = "self_not_allowed"
FRIEND_REFUSED = "friend_refused"
NO_PHONE = "no_phone"
INVALID_SMS_CODE = "invalid_sms_code"
NAME_LOCKED = "name_change_disabled"  # App config: permitModifyUserName off
NOT_WHITELISTED = "friend_not_whitelisted"  # App config: onlyWhiteAddFriend on
NOT_ADDABLE = "friend_not_addable"  # the user's friendAdd privacy setting is "nobody"
# moments (socket numbers 480-484 in accounts/moment_rpc.py)
MOMENT_EMPTY = "moment_empty"
MOMENT_TEXT_TOO_LONG = "moment_text_too_long"
MOMENT_TOO_MANY_IMAGES = "moment_too_many_images"
MOMENT_BAD_MEDIA = "moment_bad_media"
MOMENT_TOO_MANY_COMMENTS = "moment_too_many_comments"

register_http_statuses({
    USERNAME_TAKEN: 409,
    PHONE_TAKEN: 409,
    INVALID_PASSWORD: 400,
    WRONG_PASSWORD: 403,
    ALREADY_FRIENDS: 409,
    SELF_NOT_ALLOWED: 400,
    FRIEND_REFUSED: 403,
    NO_PHONE: 400,
    INVALID_SMS_CODE: 400,
    NAME_LOCKED: 403,
    NOT_WHITELISTED: 403,
    NOT_ADDABLE: 403,
    MOMENT_EMPTY: 400,
    MOMENT_TEXT_TOO_LONG: 400,
    MOMENT_TOO_MANY_IMAGES: 400,
    MOMENT_BAD_MEDIA: 400,
    MOMENT_TOO_MANY_COMMENTS: 409,
})
__all__ = ["INVALID_CREDENTIALS"]
