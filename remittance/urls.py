from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("remittances", rpc_view("remittance.remit", "POST", example={
        "payee": 2, "type": 1, "amount": "10.00", "password": "123456", "description": "lunch",
        "clientMsgId": "4c1e7a2b-1"}), name="remittance-remit"),
    path("remittances/records", rpc_view("remittance.getRecords", "GET"), name="remittance-records"),
    path("remittances/<int:remittanceId>", rpc_view("remittance.getRecord", "GET"), name="remittance-get"),
    path("remittances/<int:remittanceId>/receive", rpc_view("remittance.receive", "POST"),
         name="remittance-receive"),
    path("remittances/<int:remittanceId>/refund", rpc_view("remittance.refund", "POST"), name="remittance-refund"),
    path("remittances/<int:remittanceId>/remind", rpc_view("remittance.remind", "POST"), name="remittance-remind"),
]
