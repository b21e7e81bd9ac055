"""The shapes of the chats methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``). docs/messaging.md describes them."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats.models import ChatMember, GroupInvitePrivacy
from core import contract

ROLES = ChatMember.Role.labels  # "member", "admin", "owner"
KINDS = ["private", "group", "supergroup"]


class ChatInfo(serializers.Serializer):
    """A chat as its member sees it (chats.info, chats.update, chats.join...)."""

    chatId = serializers.IntegerField(help_text="-id for a normal group, +id for a super-group or a private chat")
    kind = serializers.ChoiceField(choices=KINDS)
    title = serializers.CharField(allow_blank=True, help_text="empty for a private chat")
    avatar = serializers.CharField(allow_blank=True)
    memo = serializers.CharField(allow_blank=True)
    ownerId = serializers.IntegerField(allow_null=True,
                                       help_text="null for a private chat (and a group whose owner's account is gone)")
    memberCount = serializers.IntegerField()
    lastSeq = serializers.IntegerField(help_text="the seq of the chat's newest message, 0 before any")
    createAt = serializers.IntegerField()
    userIds = serializers.ListField(child=serializers.IntegerField(), required=False, min_length=2, max_length=2,
                                    help_text="private chats only: the two users, lower id first")
    role = serializers.ChoiceField(choices=ROLES, help_text="the caller's role")
    readSeq = serializers.IntegerField(help_text="the caller's read position")
    mutedUntil = serializers.IntegerField(allow_null=True,
                                          help_text="the caller's mute (left in place once it expires); null: none")


class ChatCreated(ChatInfo):
    skipped = serializers.ListField(child=serializers.IntegerField(),
                                    help_text="the uIds left out (blacklist, invite privacy, group ban), ascending")


class Member(serializers.Serializer):
    uId = serializers.IntegerField()
    userName = serializers.CharField()
    firstName = serializers.CharField(allow_blank=True)
    lastName = serializers.CharField(allow_blank=True)
    avatar = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=ROLES)
    mutedUntil = serializers.IntegerField(allow_null=True, help_text="null: not muted (left in place once it expires)")
    joinedAt = serializers.IntegerField()


class Members(serializers.Serializer):
    chatId = serializers.IntegerField()
    total = serializers.IntegerField(help_text="the group's member count")
    members = Member(many=True, help_text="this page: owner, admins, members, then by join time")


class MembersAdded(serializers.Serializer):
    added = serializers.ListField(child=serializers.IntegerField(), help_text="the users now members, ascending")
    skipped = serializers.ListField(child=serializers.IntegerField(),
                                    help_text="the users left out (blacklist, invite privacy, group ban), ascending")


class InviteToken(serializers.Serializer):
    token = serializers.CharField(help_text="what chats.joinByLink takes")


class Ban(serializers.Serializer):
    uId = serializers.IntegerField()
    bannedBy = serializers.IntegerField(allow_null=True, help_text="the admin who kicked the user; null if that "
                                                                   "account is gone")
    createAt = serializers.IntegerField()


class InvitePrivacy(serializers.Serializer):
    who = serializers.ChoiceField(choices=[label for _, label in GroupInvitePrivacy.Who.choices],
                                  help_text="who may put the caller into a group")


class Rights(serializers.Serializer):
    banWhisper = serializers.BooleanField()
    banSendWebLink = serializers.BooleanField()
    banSendQRcode = serializers.BooleanField()
    banSendKeyword = serializers.BooleanField()
    banSendDmMention = serializers.BooleanField()


# A list of strings: the group's filter keywords.
KEYWORDS: serializers.ListSerializer[Any] = serializers.ListSerializer(child=serializers.CharField(),
                                                                      help_text="the group's filter keywords")


class RightsUpdated(Rights):
    isChannel = serializers.BooleanField(help_text="the chat is a super-group")
    chatId = serializers.IntegerField()


class KeywordsUpdated(serializers.Serializer):
    isChannel = serializers.BooleanField(help_text="the chat is a super-group")
    chatId = serializers.IntegerField()
    keywords = serializers.ListField(child=serializers.CharField())


class Removed(serializers.Serializer):
    chatId = serializers.IntegerField()
    op = serializers.ChoiceField(choices=["leave", "kick"], help_text="left by themselves, or kicked by an admin")


class Dissolved(serializers.Serializer):
    chatId = serializers.IntegerField()
    isChannel = serializers.BooleanField(help_text="the chat was a super-group")


contract.event("chats.rights.onUpdate", RightsUpdated,
               "A group's extended rights changed (chats.modifyBannedRightex); to every member.")
contract.event("chats.keywords.onUpdate", KeywordsUpdated,
               "A group's filter keywords changed (chats.setFilterKeywords); to every member.")
contract.event("chats.onRemoved", Removed,
               "The user left the group or was kicked from it; to that user's sockets only.")
contract.event("chats.onDissolved", Dissolved,
               "An operator dissolved the group: it is gone from the member's chats and nobody can post in it; "
               "to every member's sockets.")
