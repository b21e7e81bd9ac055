"""Socket methods of the wallet: the native API document wallet.setPassword, wallet.info, wallet.records,
web.account.setWalletPassword and web.account.checkWalletPassword. Amounts are exact JSON
numbers (core.jsonwire)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from accounts import exceptions as account_codes
from core.exceptions import INVALID, ApplicationError
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.params import page_field
from wallet import exceptions as codes
from wallet import passwords, replies
from wallet.services import AMOUNT_TEXT

# Shared with the im/* facade's msg_exchange_publish, which publishes the same offers.
EXCHANGE_PUBLISH_LIMIT = registry.Limit("EXCHANGE_PUBLISH_PER_HOUR", 3600)


class SetPasswordParams(serializers.Serializer):
    smsCode = serializers.CharField(max_length=16)
    # Checked by the service, so a bad value answers the method's own code.
    password = serializers.CharField(max_length=256, allow_blank=True)


class ChangePasswordParams(serializers.Serializer):
    old_password = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    new_password = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")


class CheckPasswordParams(serializers.Serializer):
    password = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")


@registry.method("wallet.setPassword", money=True, params=SetPasswordParams, reply=replies.Address,
                 errors={account_codes.INVALID_SMS_CODE: 400, account_codes.INVALID_PASSWORD: 422})
def set_password(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    wallet = passwords.wallet_set_password(user=ctx.user, sms_code=p["smsCode"], password=p["password"])
    return {"address": wallet.address}


@registry.method("web.account.setWalletPassword", money=True, params=ChangePasswordParams, reply=registry.NoData,
                 errors={account_codes.INVALID_PASSWORD: 400, account_codes.WRONG_PASSWORD: 401,
                         codes.PAYMENT_LOCKED: 429})
def set_wallet_password(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    passwords.wallet_change_password(user=ctx.user, old_password=p["old_password"], new_password=p["new_password"])
    return {}


@registry.method("web.account.checkWalletPassword", params=CheckPasswordParams, reply=registry.NoData,
                 errors={INVALID: 400, codes.WRONG_PAYMENT_PASSWORD: 401, codes.NO_WALLET: 401,
                         codes.PAYMENT_LOCKED: 429})
def check_wallet_password(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """the native API document: 200 right, 400 invalid (empty) password, 401 wrong; 429 while locked."""
    if not p["password"]:
        raise ApplicationError(INVALID, "the password is empty")
    passwords.payment_password_check(user=ctx.user, password=p["password"])
    return {}


class RecordsParams(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=100, default=20)
    page = page_field()


@registry.method("wallet.info", reply=replies.WalletInfo, errors={codes.NO_WALLET: 400})
def info(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """the native API document: address, balance (the default coin), hasPaymentPassword; 400 no wallet yet."""
    from wallet.models import Wallet
    from wallet.selectors import wallet_balances

    wallet = Wallet.objects.filter(user_id=ctx.user_id).first()
    if wallet is None:
        raise ApplicationError(codes.NO_WALLET, "no wallet yet: set a payment password with wallet.setPassword")
    balances = wallet_balances(user_id=ctx.user_id)
    default = next((b["balance"] for b in balances if b["isDefault"]), None)
    return {"address": wallet.address, "balance": default, "hasPaymentPassword": True, "balances": balances}


@registry.method("wallet.records", params=RecordsParams, reply=replies.WalletRecord(many=True))
def records(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    from wallet.selectors import wallet_records

    return wallet_records(user_id=ctx.user_id, page=p["page"], count=p["count"])


class AmountField(serializers.DecimalField):
    """An exact amount: a JSON number or ASCII decimal text ("12.50"); never a float, and never
    text DRF's own field would also take (Arabic-Indic or full-width digits, "1_000", "1e3")."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, (float, bool)):
            self.fail("invalid")
        if isinstance(data, str) and not AMOUNT_TEXT.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


def amount_field(*, required: bool = True) -> serializers.DecimalField:
    """An exact amount (the coin's own precision is checked by the service)."""
    return AmountField(max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES,
                       coerce_to_string=False, required=required)


class WithdrawParams(serializers.Serializer):
    amount = amount_field()
    password = serializers.CharField(max_length=256, allow_blank=True)
    # A retry with the same id holds nothing more (docs/wallet.md#idempotency).
    clientMsgId = serializers.CharField(max_length=64, required=False, allow_null=True)


@registry.method("web.recharge", reply=replies.RechargeDesk)
def web_recharge(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """the native API document: the customer-service uid and the recharge page, both set by operators."""
    from wallet.cashier import recharge_desk

    return recharge_desk()


@registry.method("web.withdraw", money=True, params=WithdrawParams, reply=replies.WithdrawDesk,
                 errors={codes.INSUFFICIENT_BALANCE: 400, codes.WRONG_PAYMENT_PASSWORD: 401, codes.NO_WALLET: 402,
                         codes.BAD_AMOUNT: 422, codes.PAYMENT_LOCKED: 429, codes.IDEMPOTENCY_CONFLICT: 409})
def web_withdraw(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """the native API document: hold the amount in escrow for an operator's review; 400 insufficient, 401 wrong
    password, 402 no password; then answer the customer-service uid and checkout page."""
    from wallet.cashier import withdraw_desk, withdrawal_request

    withdrawal_request(user=ctx.user, amount=p["amount"], password=p["password"], client_msg_id=p.get("clientMsgId"))
    return withdraw_desk()


# --- coin exchange (the older im/* document MSG:Exchange; docs/wallet.md) ---------------------------------


class ExchangePublishParams(serializers.Serializer):
    to = serializers.IntegerField(min_value=1)
    fromCoinId = serializers.IntegerField(min_value=1)
    fromAmount = amount_field()
    toCoinId = serializers.IntegerField(min_value=1)
    toAmount = amount_field()
    password = serializers.CharField(max_length=256, allow_blank=True)
    memo = serializers.CharField(max_length=125, required=False, allow_blank=True, default="")
    # A retry with the same id returns the first offer and moves nothing (docs/wallet.md#idempotency).
    clientMsgId = serializers.CharField(max_length=64, required=False, allow_null=True)


class ExchangeIdParams(serializers.Serializer):
    exchangeId = serializers.IntegerField(min_value=1)


class ExchangeAcceptParams(ExchangeIdParams):
    password = serializers.CharField(max_length=256, allow_blank=True)


MONEY_ERRORS = {codes.INSUFFICIENT_BALANCE: 400, codes.WRONG_PAYMENT_PASSWORD: 401, codes.NO_WALLET: 402,
                codes.BAD_AMOUNT: 422, codes.PAYMENT_LOCKED: 429}


def _exchange_errors() -> dict[str, int]:
    from messaging.rpc import SEND_ERRORS

    return {**SEND_ERRORS, **MONEY_ERRORS, codes.IDEMPOTENCY_CONFLICT: 409}


@registry.method("exchange.publish", money=True, params=ExchangePublishParams, errors=_exchange_errors(),
                 limit=EXCHANGE_PUBLISH_LIMIT, reply=replies.Exchange)
def exchange_publish(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """Offer fromAmount of one coin for toAmount of another to user ``to``; the offer is held in
    escrow and posted in the private chat (onMessage 11/100)."""
    from wallet.exchange import card, exchange_publish

    offer = exchange_publish(user=ctx.user, to_user_id=p["to"], from_coin_id=p["fromCoinId"],
                             from_amount=p["fromAmount"], to_coin_id=p["toCoinId"], to_amount=p["toAmount"],
                             password=p["password"], memo=p["memo"], request_id=p.get("clientMsgId"))
    return {**card(offer), "chatId": offer.chat.wire_id if offer.chat else None}


@registry.method("exchange.accept", money=True, params=ExchangeAcceptParams, reply=replies.Exchange,
                 errors={**MONEY_ERRORS, codes.EXCHANGE_EXPIRED: 410})
def exchange_accept(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """The named user swaps: 400 short of the asked coin, 401/402/429 payment password, 403 not
    the named user, 404 no such offer, 409 already accepted, 410 expired."""
    from wallet.exchange import card, exchange_accept

    offer = exchange_accept(user=ctx.user, exchange_id=p["exchangeId"], password=p["password"])
    return {**card(offer), "chatId": offer.chat.wire_id if offer.chat else None}


@registry.method("exchange.get", params=ExchangeIdParams, reply=replies.Exchange)
def exchange_get(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """One offer, for its two parties only (404 to anyone else)."""
    from wallet.exchange import card, exchange_get

    offer = exchange_get(user=ctx.user, exchange_id=p["exchangeId"])
    return {**card(offer), "chatId": offer.chat.wire_id if offer.chat else None}
