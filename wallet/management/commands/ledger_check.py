"""Verify the ledger's invariants; exit status 1 and a list of differences if any fails."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.dashboard import ledger_verified
from wallet.models import Account, JournalEntry
from wallet.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check that entries balance, balances equal their postings and no wallet is negative."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"checking {JournalEntry.objects.count()} entries over {Account.objects.count()} accounts")
        problems = ledger_verify()
        ledger_verified(problems)  # shown on the console's home page
        for problem in problems:
            self.stdout.write(self.style.ERROR(problem))
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the ledger")
        self.stdout.write(self.style.SUCCESS("ledger ok: every entry balances and every balance matches"))
