"""Origin checking for sockets.

Channels' ``AllowedHostsOriginValidator`` refuses a handshake without an ``Origin``
header, which is every native mobile/desktop client. Cross-site socket hijacking is a
browser attack and browsers always send ``Origin``, so: no Origin is allowed, a present
Origin must match ``ALLOWED_HOSTS`` (plus ``WS_ALLOWED_ORIGINS``).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class NativeFriendlyOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def origin_checked(application: Any) -> Any:
    allowed = list(settings.ALLOWED_HOSTS) + list(settings.WS_ALLOWED_ORIGINS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return NativeFriendlyOriginValidator(application, allowed)
