from __future__ import annotations

from django.urls import path

from core.api import rpc_view
from messaging import api

message_patterns = [
    path("messages/send", rpc_view("messages.send", "POST", example={
        "to": 2, "type": 1, "content": {"text": "hello"}, "clientMsgId": "9b2f0c4e-1"}), name="messages-send"),
    path("messages/sync", rpc_view("messages.sync", "POST"), name="messages-sync"),
    path("messages/history", rpc_view("messages.history", "GET"), name="messages-history"),
    path("messages/conversations", rpc_view("messages.conversations", "GET"), name="messages-conversations"),
    path("messages/read", rpc_view("messages.read", "POST"), name="messages-read"),
    path("messages/recall", rpc_view("messages.recall", "POST"), name="messages-recall"),
    path("messages/delete", rpc_view("messages.delete", "POST"), name="messages-delete"),
]

desk_patterns = [
    path("desk/queue", rpc_view("desk.queue", "GET"), name="desk-queue"),
    path("desk/conversations", rpc_view("desk.conversations", "GET"), name="desk-conversations"),
    path("desk/close", rpc_view("desk.close", "POST"), name="desk-close"),
]

media_patterns = [
    path("media", api.MediaUploadApi.as_view(), name="media-upload"),
    path("media/<str:token>", api.MediaDownloadApi.as_view(), name="media-download"),
]

urlpatterns = message_patterns + desk_patterns + media_patterns
