"""The password hasher of new and upgraded hashes: Argon2id with the cost of the settings
``ARGON2_TIME_COST``, ``ARGON2_MEMORY_KIB`` and ``ARGON2_PARALLELISM`` (docs/deploy.md,
"Password hashing"). Read at each use, so a changed setting applies to the next hash, and a
stored hash made with other parameters is re-hashed at its next right check."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (algorithm ``argon2``, variant Argon2id) with the project's cost.
    It replaces Django's own in ``PASSWORD_HASHERS``: both have the same algorithm name, and
    hashes made by either verify with either (the parameters are in the stored hash)."""

    def params(self) -> Any:
        params = super().params()
        params.time_cost = settings.ARGON2_TIME_COST
        params.memory_cost = settings.ARGON2_MEMORY_KIB
        params.parallelism = settings.ARGON2_PARALLELISM
        return params
