"""The app switches (``core.models.AppConfig``), read on hot paths (every private message).

Each process keeps the row for ``APP_CONFIG_CACHE_SECONDS`` (2 s): an operator's change
applies everywhere within that time, and a message costs no extra query. Saving the row in
this process applies at once. The first read creates the row, with ``onlyFriendChat`` taken
from the ``ONLY_FRIEND_CHAT`` environment switch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@dataclass(frozen=True)
class Switches:
    permit_modify_user_name: bool
    only_friend_chat: bool
    only_white_add_friend: bool


_cached: tuple[float, Switches] | None = None


def app_config() -> Switches:
    global _cached
    now = time.monotonic()
    if _cached is not None and _cached[0] > now:
        return _cached[1]
    from core.models import AppConfig

    row, _ = AppConfig.objects.get_or_create(pk=1, defaults={"only_friend_chat": settings.ONLY_FRIEND_CHAT})
    switches = Switches(row.permit_modify_user_name, row.only_friend_chat, row.only_white_add_friend)
    _cached = (now + settings.APP_CONFIG_CACHE_SECONDS, switches)
    return switches


def forget() -> None:
    global _cached
    _cached = None


@receiver(post_save, sender="core.AppConfig")
def _saved(**_: object) -> None:
    forget()
