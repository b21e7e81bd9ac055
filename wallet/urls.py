from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("wallet", rpc_view("wallet.info", "GET"), name="wallet-info"),
    path("wallet/records", rpc_view("wallet.records", "GET"), name="wallet-records"),
    path("wallet/password", rpc_view("wallet.setPassword", "POST"), name="wallet-password"),
    path("wallet/password/change", rpc_view("web.account.setWalletPassword", "POST"), name="wallet-password-change"),
    path("wallet/password/check", rpc_view("web.account.checkWalletPassword", "POST"), name="wallet-password-check"),
    path("wallet/recharge", rpc_view("web.recharge", "GET"), name="wallet-recharge"),
    path("wallet/withdraw", rpc_view("web.withdraw", "POST"), name="wallet-withdraw"),
    path("wallet/exchanges", rpc_view("exchange.publish", "POST"), name="exchange-publish"),
    path("wallet/exchanges/accept", rpc_view("exchange.accept", "POST"), name="exchange-accept"),
    path("wallet/exchanges/get", rpc_view("exchange.get", "GET"), name="exchange-get"),
]
