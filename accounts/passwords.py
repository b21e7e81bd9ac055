"""The canonical form of a password, and checking one against its stored hash.

Seed 002 clients send ``MD5(password)`` (web.account.setPassword, wallet passwords); seed
003 and REST clients may send the plain password. A value of exactly 32 hex digits is
taken as already MD5'd; anything else is MD5'd here. The canonical form is then hashed
with Django's password hasher (Argon2id, ``accounts.hashers``): nothing is stored as given,
and both kinds of client log in to the same account. (A plain password that happens to be 32
hex digits is therefore treated as its own MD5, which is harmless: it still must match.)
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from core import throttle

log = logging.getLogger(__name__)

MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def canonical_password(raw: str) -> str:
    if MD5_RE.match(raw):
        return raw.lower()
    return hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()


def verify_and_upgrade(canonical: str, stored: str, store: Callable[[str, str], bool] | None) -> bool:
    """Whether ``canonical`` (a canonical password) matches the hash ``stored``.

    A right password whose hash was made by an older hasher (PBKDF2) or with other parameters
    than the current ones is hashed again with the current hasher, and ``store(stored, new)``
    saves it only if the stored hash is still ``stored`` (a compare-and-set: a password changed
    meanwhile is never overwritten with the old one); it answers whether it saved. The hashes
    run with no database connection held (``throttle.release_connection``), and never inside
    a transaction: within one the upgrade is left to the next check."""
    def upgrade(password: str) -> None:
        if store is None:
            return
        if transaction.get_connection().in_atomic_block:
            log.info("password hash upgrade skipped: checked inside a transaction")
            return
        throttle.release_connection()
        store(stored, make_password(password))

    throttle.release_connection()
    return check_password(canonical, stored, upgrade)
