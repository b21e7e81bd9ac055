"""Create demo users and an admin; safe to run again (nothing is duplicated or reset)."""
from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import friend_add_direct

DEMO_USERS = [("alice", "13800000001"), ("bob", "13800000002"), ("charlie", "13800000003")]


class Command(BaseCommand):
    help = "Create the demo users alice, bob, charlie (friends) and an admin. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo1234")
        admin_password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin1234")
        with transaction.atomic():
            users = []
            for username, phone in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"phone": phone, "first_name": username.title()}
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                users.append(user)
                self.stdout.write(f"{'created' if created else 'exists '} user {username}")
            alice, bob, charlie = users
            for a, b in ((alice, bob), (alice, charlie)):
                if not a.friendships.filter(friend=b).exists():
                    friend_add_direct(user=a, friend_id=b.pk)
            admin, created = User.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True, "is_internal": True}
            )
            if created:
                admin.set_password(admin_password)
                admin.save(update_fields=["password"])
            self.stdout.write(f"{'created' if created else 'exists '} admin")
        self.stdout.write(self.style.SUCCESS(
            f"demo users alice/bob/charlie (password {password!r}), admin at /admin/ (admin / {admin_password!r})"
        ))
