"""Prepare the red-packet benchmark (bench/grabs.py): fund the first benchmark user, give
them a payment password, and put every benchmark user in one group.

    python manage.py bench_users --count 300 > var/bench-users.json
    python manage.py bench_redpacket --users var/bench-users.json > var/bench-redpacket.json
"""
from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from chats.services import group_create
from wallet.models import Account, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.services import default_coin, ledger_transfer, system_account, user_account


class Command(BaseCommand):
    help = "Fund the first user of --users, set its payment password, make one group of all; print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", required=True, help="JSON from manage.py bench_users")
        parser.add_argument("--amount", default="1000000", help="credited to the sender (default coin)")

    def handle(self, *args: Any, **options: Any) -> None:
        with open(options["users"]) as f:
            users = json.load(f)
        if len(users) < 2:
            raise CommandError("need at least two benchmark users")
        coin = default_coin()
        sender = User.objects.get(pk=users[0]["userId"])
        password = secrets.token_hex(8)
        Wallet.objects.update_or_create(user=sender, defaults={"address": f"Wbench{sender.pk}",
                                                                "password": _hash(password)})
        ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                        target=user_account(user=sender, coin=coin), amount=Decimal(options["amount"]),
                        idempotency_key=f"bench:{secrets.token_hex(8)}", memo="benchmark funds")
        chat = group_create(owner=sender, title="red packet bench", member_ids=[u["userId"] for u in users[1:]])
        self.stderr.write(f"group {chat.wire_id} with {len(users)} members; sender {sender.pk} funded")
        self.stdout.write(json.dumps({"chatId": chat.wire_id, "password": password}))
