"""The canonical form of a password.

Seed 002 clients send ``MD5(password)`` (web.account.setPassword, wallet passwords); seed
003 and REST clients may send the plain password. A value of exactly 32 hex digits is
taken as already MD5'd; anything else is MD5'd here. The canonical form is then hashed
with Django's password hasher (PBKDF2 by default): nothing is stored as given, and both
kinds of client log in to the same account. (A plain password that happens to be 32 hex
digits is therefore treated as its own MD5, which is harmless: it still must match.)
"""
from __future__ import annotations

import hashlib
import re

MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def canonical_password(raw: str) -> str:
    if MD5_RE.match(raw):
        return raw.lower()
    return hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()
