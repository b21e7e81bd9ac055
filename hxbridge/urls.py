"""/hx/<method>: the the Easemob bridge document paths, exactly (a trailing slash is tolerated)."""
from __future__ import annotations

from django.urls import re_path

from hxbridge import views

urlpatterns = [
    re_path(r"^getToken/?$", views.get_token, name="hx-get-token"),
    re_path(r"^registerUser/?$", views.register_user, name="hx-register-user"),
    re_path(r"^addFriends/?$", views.add_friends, name="hx-add-friends"),
    re_path(r"^getFriends/?$", views.get_friends, name="hx-get-friends"),
    re_path(r"^getUserStatus/?$", views.get_user_status, name="hx-get-user-status"),
    re_path(r"^offlineMsgCount/?$", views.offline_msg_count, name="hx-offline-msg-count"),
    re_path(r"^sendMessages/?$", views.send_messages, name="hx-send-messages"),
    re_path(r"^resetPassword/?$", views.reset_password, name="hx-reset-password"),
    re_path(r"^getUser/?$", views.get_user, name="hx-get-user"),
    re_path(r"", views.unknown, name="hx-unknown"),  # anything else under /hx/: code 404, in the envelope
]
