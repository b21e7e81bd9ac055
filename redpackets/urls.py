from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("redpackets", rpc_view("redpacket.create", "POST"), name="redpacket-create"),
    path("redpackets/get", rpc_view("redpacket.get", "POST"), name="redpacket-get"),
    path("redpackets/detail", rpc_view("redpacket.detail", "GET"), name="redpacket-detail"),
    path("redpackets/record", rpc_view("redpacket.record", "GET"), name="redpacket-record"),
    path("redpackets/statistics", rpc_view("redpacket.statistics", "GET"), name="redpacket-statistics"),
]
