"""Payment passwords: set with an SMS code, changed with the old one, checked before money moves.

Wrong attempts are counted in the cache (they must count even when the transaction that
checked them rolls back); PAYMENT_PASSWORD_MAX_FAILURES within PAYMENT_LOCK_SECONDS lock
the user's payments until the window ends. A right password clears the count.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import exceptions as account_codes
from accounts.models import SmsCode, User
from accounts.passwords import canonical_password, verify_and_upgrade
from accounts.services import sms_code_verify, validate_new_password
from core import throttle
from core.exceptions import ApplicationError
from wallet import exceptions as codes
from wallet.models import Wallet


def _hash(raw: str) -> str:
    throttle.release_connection()  # no connection held while hashing
    return make_password(canonical_password(raw))


def _new_address() -> str:
    return "W" + secrets.token_hex(20)


def wallet_set_password(*, user: User, sms_code: str, password: str) -> Wallet:
    """wallet.setPassword (the native API document): create the wallet, or reset its password, with an SMS code.
    The hash is computed before the transaction (no lock held meanwhile)."""
    password = validate_new_password(password)
    hashed = _hash(password)  # hashing is deliberately slow: once per call
    with transaction.atomic():
        sms_code_verify(user=user, purpose=SmsCode.Purpose.WALLET_PASSWORD, code=sms_code)
        wallet = Wallet.objects.select_for_update().filter(user=user).first()
        if wallet is None:
            try:
                with transaction.atomic():
                    wallet = Wallet.objects.create(user=user, address=_new_address(), password=hashed)
            except IntegrityError:  # a concurrent first set; take it and set the password below
                wallet = Wallet.objects.select_for_update().get(user=user)
        if wallet.password != hashed:
            wallet.password = hashed
            wallet.save(update_fields=["password", "updated_at"])
    throttle.password_reset(_subject(user.pk))
    return wallet


def wallet_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """web.account.setWalletPassword (the native API document): 400 invalid new password, 401 wrong old one.
    Both hashes run before the transaction; the change applies only if the payment password
    checked is still the stored one."""
    new_password = validate_new_password(new_password)
    wallet = Wallet.objects.filter(user=user).first()
    if wallet is None:
        raise ApplicationError(account_codes.WRONG_PASSWORD,
                               "no payment password yet: set one with wallet.setPassword")
    payment_password_check(user=user, password=old_password, wallet=wallet, wrong_code=account_codes.WRONG_PASSWORD)
    hashed = _hash(new_password)
    with transaction.atomic():
        changed = Wallet.objects.filter(pk=wallet.pk, password=wallet.password).update(password=hashed,
                                                                                      updated_at=timezone.now())
    if not changed:  # changed meanwhile by another call: the old password checked is no longer it
        raise ApplicationError(account_codes.WRONG_PASSWORD, "the old payment password is wrong")


def _subject(user_id: int) -> str:
    return f"payment:{user_id}"


def payment_password_check(
    *, user: User, password: str, wallet: Wallet | None = None, wrong_code: str = codes.WRONG_PAYMENT_PASSWORD
) -> Wallet:
    """Check the payment password before money moves; raise on a wrong one or while locked.
    Counted per user and per address before hashing (``core.throttle.password_attempt``)."""
    wallet = wallet or Wallet.objects.filter(user=user).first()
    if wallet is None:
        raise ApplicationError(codes.NO_WALLET, "no wallet yet: set a payment password first")
    subject, most = _subject(user.pk), settings.PAYMENT_PASSWORD_MAX_FAILURES
    minutes = max(1, settings.PAYMENT_LOCK_SECONDS // 60)
    if not password:  # nothing was tried: refused, but never counted as a wrong password
        payment_unlocked(user=user)
        raise ApplicationError(wrong_code, "a payment password is required")
    attempt = throttle.password_attempt(
        subject, limit=most, window_seconds=settings.PAYMENT_LOCK_SECONDS, code=codes.PAYMENT_LOCKED,
        message=f"too many wrong payment passwords: payments are locked for up to {minutes} minutes",
    )
    checked = wallet

    def store(old: str, new: str) -> bool:  # an old hash re-hashed with the current hasher
        saved = Wallet.objects.filter(pk=checked.pk, password=old).update(password=new) == 1
        if saved:
            checked.password = new
        return saved

    throttle.release_connection()  # no connection held while hashing
    if not verify_and_upgrade(canonical_password(password), wallet.password, store):
        left = most - throttle.password_failures(subject)
        if left <= 0:
            raise ApplicationError(codes.PAYMENT_LOCKED,
                                   f"wrong payment password; payments are now locked for {minutes} minutes")
        raise ApplicationError(wrong_code, f"wrong payment password ({left} tries left)")
    attempt.succeeded()
    return wallet


def payment_unlocked(*, user: User) -> None:
    """Refuse with ``payment_locked`` while the user's payments are locked by wrong payment
    passwords; count nothing. For payments that no password authorises (the im/* facade's
    ``IM_REDPACK_WITHOUT_PASSWORD``) and for calls that carry no password at all."""
    most = settings.PAYMENT_PASSWORD_MAX_FAILURES
    if throttle.password_failures(_subject(user.pk)) >= most:
        minutes = max(1, settings.PAYMENT_LOCK_SECONDS // 60)
        raise ApplicationError(codes.PAYMENT_LOCKED,
                               f"too many wrong payment passwords: payments are locked for up to {minutes} minutes")


def wallet_open(*, user: User, password: str) -> tuple[Wallet, bool]:
    """The user's wallet with ``password`` as its payment password when it has none yet; an
    existing wallet is returned as it is (its password untouched). For set-up scripts such as
    the demo seed, where no SMS code is at hand. Answers ``(wallet, created)``."""
    wallet = Wallet.objects.filter(user=user).first()
    if wallet is not None:
        return wallet, False
    hashed = _hash(validate_new_password(password))
    try:
        with transaction.atomic():
            return Wallet.objects.create(user=user, address=_new_address(), password=hashed), True
    except IntegrityError:  # opened meanwhile by another call
        return Wallet.objects.get(user=user), False
