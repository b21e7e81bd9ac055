"""Wallet: coins, the double-entry ledger, payment passwords (issue 4)."""
