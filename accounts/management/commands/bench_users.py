"""Create benchmark users with login sessions and print them as JSON (for bench/*.py).

    python manage.py bench_users --count 100 > var/bench-users.json

The users get no usable password: a benchmark measures messaging, not password hashing
(a login's Argon2id hash costs ~30 ms of CPU by design).
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from accounts.services import session_start


class Command(BaseCommand):
    help = "Create --count benchmark users with sessions; print [{userId, token}] as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        tag = secrets.token_hex(3)
        out = []
        for i in range(options["count"]):
            user = User(username=f"bench{tag}{i}")
            user.set_unusable_password()
            user.save()
            _, token = session_start(user=user, device="bench")
            out.append({"userId": user.pk, "token": token})
            if (i + 1) % 500 == 0:
                self.stderr.write(f"{i + 1} users")
        self.stdout.write(json.dumps(out))
