"""The bridge's own symbolic codes and its wire table: symbolic code -> hx ``code``.

Services raise the shared codes; this table is how the Easemob bridge numbers them
(docs/hxbridge.md, "Codes"). ``ERROR_NAMES`` gives the Easemob-style ``error`` name that the
failure's ``data`` carries beside the number.
"""
from __future__ import annotations

from accounts import exceptions as accounts_codes
from core.exceptions import (
    BLACKLISTED,
    INVALID,
    INVALID_CREDENTIALS,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    PERMISSION_DENIED,
    RATE_LIMITED,
    UNAVAILABLE,
    register_http_statuses,
)

NOT_CONFIGURED = "hx_not_configured"
METHOD_NOT_ALLOWED = "method_not_allowed"
TOO_LARGE = "request_too_large"
INTERNAL = "internal"  # a bug; never raised by a service

register_http_statuses({NOT_CONFIGURED: 503, METHOD_NOT_ALLOWED: 405, TOO_LARGE: 413})

HX_CODES: dict[str, int] = {
    INVALID: 400,
    accounts_codes.INVALID_PASSWORD: 400,
    accounts_codes.USERNAME_TAKEN: 400,
    accounts_codes.SELF_NOT_ALLOWED: 400,
    NOT_AUTHENTICATED: 401,
    INVALID_CREDENTIALS: 401,
    PERMISSION_DENIED: 403,
    BLACKLISTED: 403,
    accounts_codes.FRIEND_REFUSED: 403,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    TOO_LARGE: 413,
    RATE_LIMITED: 429,
    NOT_CONFIGURED: 503,
    UNAVAILABLE: 503,
    INTERNAL: 500,
}
HX_FALLBACK_CODE = 400

ERROR_NAMES: dict[int, str] = {
    400: "illegal_argument",
    401: "unauthorized",
    403: "forbidden_op",
    404: "service_resource_not_found",
    405: "method_not_allowed",
    413: "request_entity_too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
# Easemob's own name for a username that is taken.
ERROR_NAME_OVERRIDES = {accounts_codes.USERNAME_TAKEN: "duplicate_unique_property_exists"}


def wire_code(code: str) -> int:
    return HX_CODES.get(code, HX_FALLBACK_CODE)


def error_name(code: str) -> str:
    return ERROR_NAME_OVERRIDES.get(code) or ERROR_NAMES[wire_code(code)]
