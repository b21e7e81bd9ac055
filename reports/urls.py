from __future__ import annotations

from django.urls import path

from core.api import rpc_view

report_patterns = [
    path("reports", rpc_view("reports.create", "POST", example={
        "kind": "message", "chatId": -1, "messageId": 1, "reason": "spam", "description": "sells fake coins"}),
        name="reports-create"),
]

urlpatterns = report_patterns
