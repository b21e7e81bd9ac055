"""Payload builders for the accounts app's pushes (documented in docs/protocol.md).

* ``accounts.onKicked`` ``{"reason": "login_elsewhere", "device": str}``
* ``friends.onAdded`` ``{"uId", "firstName", "lastName", "userName", "avatar", "isInternal"}``
* ``friends.onRemoved`` ``{"uId"}``
* ``on_event`` (system.relayData) ``{"action", "from", "to", "data"}``
"""
from __future__ import annotations

from typing import Any

from accounts.models import User


def user_brief(user: User) -> dict[str, Any]:
    return {
        "uId": user.pk,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "userName": user.username,
        "avatar": user.avatar,
        "isInternal": user.is_internal,
    }


def friend(user: User) -> dict[str, Any]:
    return user_brief(user)


def kicked(*, device: str) -> dict[str, Any]:
    return {"event": "accounts.onKicked", "data": {"reason": "login_elsewhere", "device": device}}
