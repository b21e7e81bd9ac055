"""Sockets learn at once of every end of a login, however it happens: an account deactivated by
a plain save (the admin's change form, a script), a session row revoked, expired or deleted
outside the services. Each sends the channel message ``session.end`` that the socket adapters
already handle (after commit): the sockets of those sessions close with 4003 (4001 for an
expiry). The services' own revocations (``accounts.services._sessions_revoke``) send it
themselves and fire none of these signals."""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import AuthSession, User
from core.realtime import end_sessions_on_commit

CLOSE_BAD_TOKEN, CLOSE_LOGGED_OUT = 4001, 4003


@receiver(post_init, sender=User)
def _remember_active(sender: type[User], instance: User, **_: Any) -> None:
    instance._was_active = instance.is_active  # type: ignore[attr-defined]


@receiver(post_save, sender=User)
def _deactivated(sender: type[User], instance: User, created: bool, **_: Any) -> None:
    was_active = getattr(instance, "_was_active", True)
    instance._was_active = instance.is_active  # type: ignore[attr-defined]
    if created or not was_active or instance.is_active:
        return
    from accounts.services import CLOSE_LOGGED_OUT as code
    from accounts.services import _sessions_revoke

    _sessions_revoke(user_id=instance.pk, sessions=AuthSession.objects.filter(user_id=instance.pk),
                     reason="banned", close_code=code)


@receiver(post_save, sender=AuthSession)
def _session_saved(sender: type[AuthSession], instance: AuthSession, **_: Any) -> None:
    if instance.revoked_at is not None:
        end_sessions_on_commit(instance.user_id, [instance.pk], close_code=CLOSE_LOGGED_OUT)
    elif instance.expires_at <= timezone.now():
        end_sessions_on_commit(instance.user_id, [instance.pk], close_code=CLOSE_BAD_TOKEN)


@receiver(post_delete, sender=AuthSession)
def _session_deleted(sender: type[AuthSession], instance: AuthSession, **_: Any) -> None:
    end_sessions_on_commit(instance.user_id, [instance.pk], close_code=CLOSE_LOGGED_OUT)
