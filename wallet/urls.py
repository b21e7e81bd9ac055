from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("wallet", rpc_view("wallet.info", "GET"), name="wallet-info"),
    path("wallet/records", rpc_view("wallet.records", "GET"), name="wallet-records"),
    path("wallet/password", rpc_view("wallet.setPassword", "POST"), name="wallet-password"),
    path("wallet/password/change", rpc_view("web.account.setWalletPassword", "POST"), name="wallet-password-change"),
    path("wallet/password/check", rpc_view("web.account.checkWalletPassword", "POST", example={"password": "123456"}),
         name="wallet-password-check"),
    path("wallet/recharge", rpc_view("web.recharge", "GET"), name="wallet-recharge"),
    path("wallet/withdraw", rpc_view("web.withdraw", "POST"), name="wallet-withdraw"),
    path("wallet/exchanges", rpc_view("exchange.publish", "POST", example={
        "to": 2, "fromCoinId": 1, "fromAmount": "10.00", "toCoinId": 2, "toAmount": "1.50", "password": "123456",
        "clientMsgId": "8d0b3f6a-1"}), name="exchange-publish"),
    path("wallet/exchanges/accept", rpc_view("exchange.accept", "POST"), name="exchange-accept"),
    path("wallet/exchanges/get", rpc_view("exchange.get", "GET"), name="exchange-get"),
]
