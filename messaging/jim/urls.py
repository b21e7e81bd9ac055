from __future__ import annotations

from django.urls import path

from messaging.jim import views

# the J-IM document: /im/vanke/<name>, called by the property app's server (docs/jim.md#http)
urlpatterns = [
    path("initUser", views.init_user, name="desk-init-user"),
    path("getReceiver", views.get_receiver, name="desk-get-receiver"),
    path("chatInfo", views.chat_info, name="desk-chat-info"),
]
