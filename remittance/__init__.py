"""Remittances, transfers between users (issue 5)."""
