from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("chats", rpc_view("chats.create", "POST"), name="chats-create"),
    path("chats/info", rpc_view("chats.info", "GET"), name="chats-info"),
    path("chats/members", rpc_view("chats.members", "GET"), name="chats-members"),
    path("chats/members/add", rpc_view("chats.addMembers", "POST"), name="chats-members-add"),
    path("chats/join", rpc_view("chats.join", "POST"), name="chats-join"),
    path("chats/leave", rpc_view("chats.leave", "POST"), name="chats-leave"),
    path("chats/kick", rpc_view("chats.kick", "POST"), name="chats-kick"),
    path("chats/mute", rpc_view("chats.mute", "POST"), name="chats-mute"),
    path("chats/admin", rpc_view("chats.setAdmin", "POST"), name="chats-admin"),
    path("chats/owner", rpc_view("chats.transferOwner", "POST"), name="chats-owner"),
    path("chats/update", rpc_view("chats.update", "POST"), name="chats-update"),
    path("chats/invite-link", rpc_view("chats.createInviteLink", "POST"), name="chats-invite-link"),
    path("chats/invite-link/join", rpc_view("chats.joinByLink", "POST"), name="chats-invite-join"),
    path("chats/invite-link/disable", rpc_view("chats.disableInviteLink", "POST"), name="chats-invite-disable"),
    path("chats/bans", rpc_view("chats.bans", "GET"), name="chats-bans"),
    path("chats/unban", rpc_view("chats.unban", "POST"), name="chats-unban"),
    path("chats/invite-privacy", rpc_view("chats.invitePrivacy.get", "GET"), name="chats-invite-privacy"),
    path("chats/invite-privacy/set", rpc_view("chats.invitePrivacy.set", "POST"), name="chats-invite-privacy-set"),
    path("chats/rights", rpc_view("chats.getBannedRightex", "GET"), name="chats-rights"),
    path("chats/rights/set", rpc_view("chats.modifyBannedRightex", "POST"), name="chats-rights-set"),
    path("chats/keywords", rpc_view("chats.getFilterKeywords", "GET"), name="chats-keywords"),
    path("chats/keywords/set", rpc_view("chats.setFilterKeywords", "POST"), name="chats-keywords-set"),
]
