"""Idempotent money requests: one ``clientMsgId``, one movement of money (docs/wallet.md#idempotency).

Every method that moves money (``redpacket.create``, ``remittance.remit``, ``exchange.publish``,
``web.withdraw``, their REST twins and the ``im/*`` methods over them) takes an optional key,
as ``messages.send`` does. A service uses this module in three steps::

    request = keyed(user=user, method="redpacket.create", key=client_msg_id, params={...})
    return run_once(request, replay=load_packet, perform=lambda: _create(..., request=request))
    # and inside _create's transaction, right after the packet row is inserted:
    remember(request, packet.pk)

* A call whose key is already stored answers with what the first call made (``replay``),
  moves nothing and posts no second message; the payment password is not asked again.
* ``remember`` inserts the key row in the transaction that moves the money, before the ledger
  post. Two calls racing with one key meet at its unique constraint: on PostgreSQL the second
  insert waits for the first transaction, then fails; the second call's whole transaction
  (its row, its entry, its message) rolls back and it answers with the first result.
* The key row keeps a digest of the first call's parameters (never the payment password): the
  same key with other parameters answers ``idempotency_conflict`` instead of a wrong result.

Keys are per user and per method: the same key on two different methods names two requests.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from core.exceptions import INVALID, ApplicationError
from wallet import exceptions as codes
from wallet.models import IdempotencyKey

T = TypeVar("T")
KEY_MAX_LENGTH = 64  # IdempotencyKey.key, and every method's clientMsgId parameter

# A key a facade derived from the request itself: ``~<digest>@<window number>`` (derived_key).
_DERIVED = re.compile(r"~([0-9a-f]{32})@(\d{1,12})")


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    user_id: int
    method: str
    key: str
    digest: str
    # A derived key also matches the previous window's key while that row is younger than
    # the window, so a retry just after a window boundary still finds its first call.
    earlier_key: str | None = None
    earlier_since: datetime | None = None


def amount_text(raw: Any) -> str:
    """An amount as canonical text for the digest: ``10``, ``10.0`` and ``"10.00"`` are one amount."""
    if isinstance(raw, (Decimal, int, str)) and not isinstance(raw, bool):
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            return str(raw)
        if value.is_finite():
            return format(value.normalize(), "f")
    return repr(raw)  # a float or anything else: the service refuses it anyway


def _digest(params: dict[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def keyed(*, user_id: int, method: str, key: str | None, params: dict[str, Any]) -> KeyedRequest | None:
    """The request named by ``key`` (None without a key: every such call moves money).
    ``params`` are what makes two calls the same request, without the payment password."""
    if not key:
        return None
    if len(key) > KEY_MAX_LENGTH:
        raise ApplicationError(INVALID, f"clientMsgId has at most {KEY_MAX_LENGTH} characters")
    digest = _digest({"method": method, **params})
    derived = _DERIVED.fullmatch(key)
    if derived is None:
        return KeyedRequest(user_id=user_id, method=method, key=key, digest=digest)
    window = settings.IM_MONEY_RETRY_SECONDS or 1
    return KeyedRequest(user_id=user_id, method=method, key=key, digest=digest,
                        earlier_key=f"~{derived.group(1)}@{int(derived.group(2)) - 1}",
                        earlier_since=timezone.now() - timedelta(seconds=window))


def derived_key(*, params: dict[str, Any], now: datetime | None = None) -> str | None:
    """A key for a facade whose clients send none: the same parameters from the same user
    within ``IM_MONEY_RETRY_SECONDS`` are one request. None when that setting is 0."""
    window = settings.IM_MONEY_RETRY_SECONDS
    if window <= 0:
        return None
    stamp = int((now or timezone.now()).timestamp())
    return f"~{_digest(params)[:32]}@{stamp // window}"


def first_result(request: KeyedRequest) -> int | None:
    """The id of what the first call with this key made, or None if there was none.
    Raises ``idempotency_conflict`` when that call had other parameters."""
    keys = [request.key] if request.earlier_key is None else [request.key, request.earlier_key]
    rows = list(IdempotencyKey.objects.filter(user_id=request.user_id, method=request.method, key__in=keys))
    row = next((r for r in rows if r.key == request.key), None)
    if row is None and request.earlier_since is not None:
        row = next((r for r in rows if r.created_at >= request.earlier_since), None)
    if row is None:
        return None
    if row.digest and row.digest != request.digest:
        raise ApplicationError(codes.IDEMPOTENCY_CONFLICT,
                               f"clientMsgId {request.key!r} was already used for another {request.method} "
                               "request with different parameters")
    return row.object_id


def remember(request: KeyedRequest | None, object_id: int) -> None:
    """Store the key with what this call made. Call it inside the transaction that moves the
    money, before the ledger post: a concurrent call with the same key then fails here (after
    waiting for this transaction) rather than after moving anything."""
    if request is not None:
        IdempotencyKey.objects.create(user_id=request.user_id, method=request.method, key=request.key,
                                      digest=request.digest, object_id=object_id)


def run_once(request: KeyedRequest | None, *, replay: Callable[[int], T], perform: Callable[[], T]) -> T:
    """``perform()`` the request once per key; every other call gets ``replay(first id)``."""
    if request is None:
        return perform()
    first = first_result(request)
    if first is not None:
        return replay(first)
    try:
        return perform()
    except (IntegrityError, ApplicationError):
        # A call with the same key committed while this one ran: this one's transaction rolled
        # back (the key's unique constraint, or a refusal caused by the first call's effects),
        # so nothing moved twice; answer as the first call did. Looked up only on failure.
        first = first_result(request)
        if first is None:
            raise
        return replay(first)
