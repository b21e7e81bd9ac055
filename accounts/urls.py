from __future__ import annotations

from django.urls import path

from accounts import api
from core.api import rpc_view

auth_patterns = [
    path("auth/register", api.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", api.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", api.LogoutApi.as_view(), name="auth-logout"),
]

me_patterns = [
    path("me", rpc_view("web.account.myInfo", "GET"), name="me"),
    path("me/profile", rpc_view("users.updateProfile", "PATCH"), name="me-profile"),
    path("me/password", rpc_view("web.account.setPassword", "POST"), name="me-password"),
    path("me/privacy", rpc_view("users.setPrivacy", "PUT", example={"friendAdd": "approval"}), name="me-privacy"),
    path("me/multi-online", rpc_view("accounts.getMultiOnline", "GET"), name="me-multi-online"),
    path("me/multi-online/set", rpc_view("accounts.toggleMultiOnline", "POST"), name="me-multi-online-set"),
]

user_patterns = [
    path("users", rpc_view("users.info", "GET"), name="users-info"),
    path("users/search", rpc_view("users.searchByPhone", "GET"), name="users-search"),
    path("users/privacy", rpc_view("users.queryPrivacySettings", "GET"), name="users-privacy"),
    path("friends", rpc_view("friends.list", "GET"), name="friends"),
    path("friends/<int:uId>/add", rpc_view("friends.add", "POST"), name="friends-add"),
    path("friends/<int:uId>/remove", rpc_view("friends.remove", "POST"), name="friends-remove"),
    path("friends/requests", rpc_view("friends.requests", "GET"), name="friends-requests"),
    path("friends/requests/<int:uId>/accept", rpc_view("friends.accept", "POST"), name="friends-accept"),
    path("friends/requests/<int:uId>/reject", rpc_view("friends.reject", "POST"), name="friends-reject"),
    path("friends/requests/<int:uId>/cancel", rpc_view("friends.cancel", "POST"), name="friends-cancel"),
    path("blacklist", rpc_view("users.blacklist.list", "GET"), name="blacklist"),
    path("blacklist/<int:uId>/add", rpc_view("users.blacklist.add", "POST"), name="blacklist-add"),
    path("blacklist/<int:uId>/remove", rpc_view("users.blacklist.remove", "POST"), name="blacklist-remove"),
]

system_patterns = [
    path("system/time", rpc_view("system.synctime", "GET"), name="system-time"),
    path("system/relay", rpc_view("system.relayData", "POST"), name="system-relay"),
    path("system/sms-code", rpc_view("system.sendSmsCode", "POST"), name="system-sms-code"),
]

moment_patterns = [
    path("moments", rpc_view("moment.post", "POST"), name="moment-post"),
    path("moments/feed", rpc_view("moment.feed", "GET"), name="moment-feed"),
    path("moments/list", rpc_view("moment.list", "GET"), name="moment-list"),
    path("moments/<int:momentId>", rpc_view("moment.get", "GET"), name="moment-get"),
    path("moments/<int:momentId>/delete", rpc_view("moment.delete", "POST"), name="moment-delete"),
    path("moments/<int:momentId>/like", rpc_view("moment.like", "POST"), name="moment-like"),
    path("moments/<int:momentId>/unlike", rpc_view("moment.unlike", "POST"), name="moment-unlike"),
    path("moments/<int:momentId>/comment", rpc_view("moment.comment", "POST"), name="moment-comment"),
    path("moments/comments/<int:commentId>/delete", rpc_view("moment.deleteComment", "POST"),
         name="moment-comment-delete"),
]

urlpatterns = auth_patterns + me_patterns + user_patterns + system_patterns + moment_patterns
