"""Prepare the red-packet benchmarks (bench/grabs.py, bench/run.py): split the benchmark users
into ``--groups`` groups of consecutive users, fund the first user of each through the ledger
(a recharge), give those senders one payment password, and make each group. A fresh database
without a default coin gets one, ``bench``.

    python manage.py bench_users --count 300 > var/bench-users.json
    python manage.py bench_redpacket --users var/bench-users.json > var/bench-redpacket.json

Prints ``{"chatId", "password", "groups": [{"chatId", "senderId", "memberIds"}]}``; ``chatId``
is the first group's. Run it with the server's environment and its raised group limits
(``GROUP_CREATE_PER_HOUR``, ``GROUP_INVITES_PER_HOUR``).
"""
from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from chats.services import group_create
from core.exceptions import ApplicationError
from wallet.models import Account, Coin, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.services import default_coin, ledger_transfer, system_account, user_account


class Command(BaseCommand):
    help = "Fund a sender per group, set their payment password, make --groups groups of the users; print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", required=True, help="JSON from manage.py bench_users")
        parser.add_argument("--groups", type=int, default=1, help="groups of consecutive users (default 1: all)")
        parser.add_argument("--amount", default="1000000", help="credited to each sender (default coin)")
        parser.add_argument("--password", default="", help="the senders' payment password (default: a random one)")

    def handle(self, *args: Any, **options: Any) -> None:
        with open(options["users"]) as f:
            users = json.load(f)
        groups = options["groups"]
        if not 1 <= groups <= len(users) // 2:
            raise CommandError("need at least two benchmark users per group")
        try:
            coin = default_coin()
        except ApplicationError:  # a fresh benchmark database: coins are otherwise made in the admin
            coin = Coin.objects.create(name="bench", decimals=2, is_default=True)
        password = options["password"] or secrets.token_hex(8)
        hashed = _hash(password)  # one hash (Argon2id, or PBKDF2 before it) for every sender
        size = len(users) // groups
        made = []
        for g in range(groups):
            ids = [u["userId"] for u in users[g * size:(g + 1) * size]]
            sender = User.objects.get(pk=ids[0])
            Wallet.objects.update_or_create(user=sender, defaults={"address": f"Wbench{sender.pk}",
                                                                    "password": hashed})
            ledger_transfer(kind=JournalEntry.Kind.RECHARGE,
                            source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                            target=user_account(user=sender, coin=coin), amount=Decimal(options["amount"]),
                            idempotency_key=f"bench:{secrets.token_hex(8)}", memo="benchmark funds")
            chat = group_create(owner=sender, title=f"red packet bench {g + 1}", member_ids=ids[1:])
            made.append({"chatId": chat.wire_id, "senderId": sender.pk, "memberIds": ids[1:]})
        self.stderr.write(f"{groups} group(s) of {size} members, each sender funded")
        self.stdout.write(json.dumps({"chatId": made[0]["chatId"], "password": password, "groups": made}))
