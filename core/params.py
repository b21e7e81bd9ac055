"""Bounds shared by every paged read, so no client value reaches SQL's OFFSET unchecked (a page
of 10**30 made PostgreSQL answer "bigint out of range"). Documented in docs/protocol.md
("Limits")."""
from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

PAGE_MAX = 10_000  # pages are 1..PAGE_MAX, on every protocol
OFFSET_MAX = 1_000_000  # skipped rows of an offset-paged read (J-IM history)
YEAR_MIN, YEAR_MAX = 1970, 2100  # a calendar year a client may ask statistics for


def page_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=PAGE_MAX, default=1, **kwargs)


_WHOLE = re.compile(r"[0-9]{1,18}", re.ASCII)


def ascii_whole(text: str) -> int | None:
    """``text`` as a whole number if it is 1-18 ASCII digits, else None. ``str.isdigit`` and
    ``int`` also take other scripts' digits ("١٢") and superscripts ("²", which int refuses)."""
    return int(text) if _WHOLE.fullmatch(text) else None
