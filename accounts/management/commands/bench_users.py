"""Create benchmark users with login sessions and print them as JSON (for bench/*.py).

    python manage.py bench_users --count 100 > var/bench-users.json

The users get no usable password: a benchmark measures messaging, not password hashing
(a login's Argon2id hash costs ~30 ms of CPU by design). Users and sessions are written with
``bulk_create`` in batches (a few thousand users a second), the token's SHA-256 stored as
``session_start`` stores it.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import AuthSession, User, username_key
from accounts.selectors import hash_token

BATCH = 500
MAX_COUNT = 100_000


class Command(BaseCommand):
    help = "Create --count benchmark users with sessions; print [{userId, token}] as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if not 1 <= count <= MAX_COUNT:
            raise CommandError(f"--count must be 1 to {MAX_COUNT}")
        tag = secrets.token_hex(3)
        unusable = make_password(None)  # "!<random>": no hashing, never matches a password
        expires_at = timezone.now() + timedelta(seconds=settings.AUTH_TOKEN_TTL_SECONDS)
        out: list[dict[str, Any]] = []
        for start in range(0, count, BATCH):
            names = [f"bench{tag}{i}" for i in range(start, min(count, start + BATCH))]
            with transaction.atomic():
                users = User.objects.bulk_create(
                    [User(username=name, username_key=username_key(name), password=unusable) for name in names])
                tokens = [secrets.token_urlsafe(32) for _ in users]
                AuthSession.objects.bulk_create(
                    [AuthSession(user=user, key_hash=hash_token(token), device="bench", expires_at=expires_at)
                     for user, token in zip(users, tokens, strict=True)])
            out += [{"userId": user.pk, "token": token} for user, token in zip(users, tokens, strict=True)]
            self.stderr.write(f"{len(out)} users")
        self.stdout.write(json.dumps(out))
