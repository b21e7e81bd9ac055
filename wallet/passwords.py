"""Payment passwords: set with an SMS code, changed with the old one, checked before money moves.

Wrong attempts are counted in the cache (they must count even when the transaction that
checked them rolls back); PAYMENT_PASSWORD_MAX_FAILURES within PAYMENT_LOCK_SECONDS lock
the user's payments until the window ends. A right password clears the count.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction

from accounts import exceptions as account_codes
from accounts.models import SmsCode, User
from accounts.passwords import canonical_password
from accounts.services import sms_code_verify, validate_new_password
from core import throttle
from core.exceptions import ApplicationError
from wallet import exceptions as codes
from wallet.models import Wallet


def _hash(raw: str) -> str:
    return make_password(canonical_password(raw))


def _new_address() -> str:
    return "W" + secrets.token_hex(20)


@transaction.atomic
def wallet_set_password(*, user: User, sms_code: str, password: str) -> Wallet:
    """seed 002 wallet.setPassword: create the wallet, or reset its password, with an SMS code."""
    password = validate_new_password(password)
    sms_code_verify(user=user, purpose=SmsCode.Purpose.WALLET_PASSWORD, code=sms_code)
    hashed = _hash(password)  # PBKDF2 is deliberately slow: once per call
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
    throttle.reset(_failures_key(user.pk))
    return wallet


@transaction.atomic
def wallet_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """seed 002 web.account.setWalletPassword: 400 invalid new password, 401 wrong old one."""
    new_password = validate_new_password(new_password)
    wallet = Wallet.objects.select_for_update().filter(user=user).first()
    if wallet is None:
        raise ApplicationError(account_codes.WRONG_PASSWORD,
                               "no payment password yet: set one with wallet.setPassword")
    payment_password_check(user=user, password=old_password, wallet=wallet, wrong_code=account_codes.WRONG_PASSWORD)
    wallet.password = _hash(new_password)
    wallet.save(update_fields=["password", "updated_at"])


def _failures_key(user_id: int) -> str:
    return f"payment-password:{user_id}"


def payment_password_check(
    *, user: User, password: str, wallet: Wallet | None = None, wrong_code: str = codes.WRONG_PAYMENT_PASSWORD
) -> Wallet:
    """Check the payment password before money moves; raise on a wrong one or while locked."""
    key = _failures_key(user.pk)
    minutes = max(1, settings.PAYMENT_LOCK_SECONDS // 60)
    if throttle.count(key) >= settings.PAYMENT_PASSWORD_MAX_FAILURES:
        raise ApplicationError(codes.PAYMENT_LOCKED,
                               f"too many wrong payment passwords: payments are locked for up to {minutes} minutes")
    wallet = wallet or Wallet.objects.filter(user=user).first()
    if wallet is None:
        raise ApplicationError(codes.NO_WALLET, "no wallet yet: set a payment password first")
    if not password or not check_password(canonical_password(password), wallet.password):
        failures = throttle.hit(key, settings.PAYMENT_LOCK_SECONDS)
        left = settings.PAYMENT_PASSWORD_MAX_FAILURES - failures
        if left <= 0:
            raise ApplicationError(codes.PAYMENT_LOCKED,
                                   f"wrong payment password; payments are now locked for {minutes} minutes")
        raise ApplicationError(wrong_code, f"wrong payment password ({left} tries left)")
    throttle.reset(key)
    return wallet
