"""Create demo users, an admin, a demo coin, funded wallets and a demo group; safe to run again
(nothing is duplicated, reset or funded twice)."""
from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import friend_add_direct
from chats.models import Chat
from chats.services import group_create
from wallet.cashier import recharge_credit
from wallet.models import Coin
from wallet.passwords import wallet_open
from wallet.selectors import wallet_balances

DEMO_USERS = [("alice", "13800000001"), ("bob", "13800000002"), ("charlie", "13800000003")]
DEMO_GROUP = "Demo group"
DEMO_COIN = "cny"
DEMO_FUNDS = Decimal("1000.00")


class Command(BaseCommand):
    help = ("Create the demo users alice, bob, charlie (friends), an admin, a default coin when none "
            "exists, the demo users' wallets (funded once through the ledger, with a known payment "
            "password) and a demo group of the three. Idempotent.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo1234")
        admin_password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin1234")
        payment_password = os.environ.get("DEMO_PAYMENT_PASSWORD", "123456")
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
            coin = self._coin()
            for user in users:
                self._wallet(user, admin, coin, payment_password)
            self._group(alice, [bob.pk, charlie.pk])
        self.stdout.write(self.style.SUCCESS(
            f"demo users alice/bob/charlie (password {password!r}, payment password {payment_password!r}), "
            f"admin at /admin/ (admin / {admin_password!r}); web chat at /app/"
        ))

    def _coin(self) -> Coin:
        coin = Coin.objects.filter(is_default=True, is_active=True).first()
        if coin is not None:
            self.stdout.write(f"exists  default coin {coin.name}")
            return coin
        # Coins are otherwise made in the operator console; a fresh database gets one to pay with.
        coin, created = Coin.objects.get_or_create(name=DEMO_COIN, defaults={"decimals": 2, "is_default": True})
        if not created:  # the demo coin exists but is not the default: only a fresh database gets one
            self.stdout.write(f"coin {coin.name} exists but is not the active default; wallets not funded")
        else:
            self.stdout.write(f"created default coin {coin.name} ({coin.decimals} decimals)")
        return coin

    def _wallet(self, user: User, operator: User, coin: Coin, payment_password: str) -> None:
        _, opened = wallet_open(user=user, password=payment_password)
        if coin.is_default and coin.is_active:
            # The key makes the credit happen once, however often the seed runs.
            recharge_credit(operator=operator, user=user, coin=coin, amount=DEMO_FUNDS,
                            reason="demo funds (manage.py seed_demo)", idempotency_key=f"demo-seed:{user.username}")
        balance = next((b["balance"] for b in wallet_balances(user_id=user.pk) if b["coinId"] == coin.pk), None)
        self.stdout.write(f"{'opened ' if opened else 'exists '} wallet of {user.username}: "
                          f"balance {balance} {coin.name}")

    def _group(self, owner: User, member_ids: list[int]) -> None:
        group = Chat.objects.filter(kind=Chat.Kind.GROUP, owner=owner, title=DEMO_GROUP).first()
        if group is None:
            group = group_create(owner=owner, title=DEMO_GROUP, member_ids=member_ids)
            self.stdout.write(f"created group {DEMO_GROUP!r} (chatId {group.wire_id})")
        else:
            self.stdout.write(f"exists  group {DEMO_GROUP!r} (chatId {group.wire_id})")
