"""Payload builders for the accounts app's pushes (documented in docs/protocol.md).

* ``accounts.onKicked`` ``{"reason": "login_elsewhere", "device": str}``
* ``friends.onAdded`` ``{"uId", "firstName", "lastName", "userName", "avatar", "isInternal"}``
* ``friends.onRemoved`` ``{"uId"}``
* ``friends.onRequest`` a friend request: the sender's brief plus ``message``, ``createAt``
* ``friends.onRequestRejected`` / ``friends.onRequestCancelled`` ``{"uId"}`` of who did it
* ``on_event`` (system.relayData) ``{"action", "from", "to", "data"}``
"""
from __future__ import annotations

from typing import Any

from accounts.models import FriendRequest, User


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


def friend_request(request: FriendRequest, other: User) -> dict[str, Any]:
    """A friend request as listed and pushed: ``other`` is the user on the far side of it for
    the reader (the sender for incoming requests, the receiver for outgoing ones)."""
    return {**user_brief(other), "message": request.message, "createAt": int(request.created_at.timestamp())}


def kicked(*, device: str) -> dict[str, Any]:
    return {"event": "accounts.onKicked", "data": {"reason": "login_elsewhere", "device": device}}
