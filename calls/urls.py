from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("calls/token", rpc_view("call.token.create", "POST"), name="call-token"),
    path("calls", rpc_view("call.create", "POST"), name="call-create"),
    path("calls/info", rpc_view("call.getInfo", "GET"), name="call-info"),
    path("calls/cancel", rpc_view("call.cancel", "POST"), name="call-cancel"),
    path("calls/start", rpc_view("call.start", "POST"), name="call-start"),
    path("calls/stop", rpc_view("call.stop", "POST"), name="call-stop"),
    path("calls/offline", rpc_view("call.queryOffline", "POST"), name="call-offline"),
    path("calls/records", rpc_view("call.queryRecord", "GET"), name="call-records"),
]
