"""The shapes of the accounts methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply in the tests (``core.contract``)."""
from __future__ import annotations

from rest_framework import serializers

from accounts.models import Moment
from accounts.serializers import FRIEND_POLICIES
from core import contract
from core.gateway.registry import NoData


class UserBrief(serializers.Serializer):
    uId = serializers.IntegerField()
    firstName = serializers.CharField(allow_blank=True, help_text="family name (姓)")
    lastName = serializers.CharField(allow_blank=True, help_text="given name (名)")
    userName = serializers.CharField()
    avatar = serializers.CharField(allow_blank=True, help_text="the avatar's URL; empty when none")
    isInternal = serializers.BooleanField(help_text="an operator's or service account")


class UserId(serializers.Serializer):
    uId = serializers.IntegerField()


class PrivacyFlag(serializers.Serializer):
    uId = serializers.IntegerField()
    isBlacklist = serializers.BooleanField(help_text="this user has blacklisted the caller")


class FriendAdded(UserBrief):
    pending = serializers.BooleanField(
        help_text="true: a friend request was sent and awaits approval; false: you are friends now")


class FriendRequest(UserBrief):
    """The user on the far side of the request (the sender of an incoming one, the receiver of
    an outgoing one), with the request's message."""

    message = serializers.CharField(allow_blank=True)
    createAt = serializers.IntegerField(help_text="seconds since the epoch")


class MultiOnline(serializers.Serializer):
    isOn = serializers.BooleanField(help_text="several devices may be logged in at once")


class MyInfo(UserBrief):
    hasPassword = serializers.BooleanField()
    phone = serializers.CharField(allow_null=True)
    multiOnline = serializers.BooleanField()
    phoneSearchable = serializers.BooleanField()
    friendAdd = serializers.ChoiceField(choices=list(FRIEND_POLICIES))


class Presence(serializers.Serializer):
    uId = serializers.IntegerField()
    online = serializers.BooleanField()
    lastSeen = serializers.IntegerField(
        allow_null=True, help_text="seconds since the epoch of the last disconnect; null while online or never seen")


class Kicked(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["login_elsewhere"])
    device = serializers.CharField()


class Relayed(serializers.Serializer):
    action = serializers.CharField()
    # "from" is a Python keyword: the field is added under its wire name below.
    to = serializers.ListField(child=serializers.IntegerField())
    data = serializers.JSONField(help_text="the sender's data, as sent")  # type: ignore[assignment]


Relayed._declared_fields["from"] = serializers.IntegerField(help_text="the sender's uId")


# --- moments ------------------------------------------------------------------------------------
class MomentImage(serializers.Serializer):
    mediaId = serializers.IntegerField()
    url = serializers.CharField(help_text="a signed link to the image")
    contentType = serializers.CharField()
    size = serializers.IntegerField(help_text="bytes")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class MomentLikeBrief(serializers.Serializer):
    uId = serializers.IntegerField()
    createAt = serializers.IntegerField(help_text="seconds since the epoch")


class MomentLike(MomentLikeBrief):
    momentId = serializers.IntegerField()


class MomentComment(serializers.Serializer):
    commentId = serializers.IntegerField()
    momentId = serializers.IntegerField()
    text = serializers.CharField()
    replyTo = serializers.IntegerField(allow_null=True, help_text="the comment this one answers")
    replyToUId = serializers.IntegerField(allow_null=True, help_text="the author of the comment answered")
    createAt = serializers.IntegerField(help_text="seconds since the epoch")


MomentComment._declared_fields["from"] = serializers.IntegerField(help_text="the commenter's uId")


class MomentInfo(serializers.Serializer):
    momentId = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)
    images = MomentImage(many=True)
    visibility = serializers.ChoiceField(choices=Moment.Visibility.choices, help_text="1: friends; 2: only me")
    createAt = serializers.IntegerField(help_text="seconds since the epoch")
    likes = MomentLikeBrief(many=True, help_text="the likes shown to the reader")
    comments = MomentComment(many=True, help_text="the comments shown to the reader")


MomentInfo._declared_fields["from"] = serializers.IntegerField(help_text="the author's uId")


class MomentPage(serializers.Serializer):
    moments = MomentInfo(many=True, help_text="newest first")
    hasMore = serializers.BooleanField(help_text="older moments remain (ask again with beforeId)")


class MomentId(serializers.Serializer):
    momentId = serializers.IntegerField()


contract.event("accounts.onKicked", Kicked,
               "This login was ended by a login elsewhere (single-device accounts); the socket closes next.")
contract.event("friends.onAdded", UserBrief, "A user became your friend (your request or theirs was accepted).")
contract.event("friends.onRemoved", UserId, "A friendship ended (either side removed it): the other user.")
contract.event("friends.onRequest", FriendRequest, "Someone sent you a friend request: the sender and the message.")
contract.event("friends.onRequestRejected", UserId, "The user you asked rejected your friend request.")
contract.event("friends.onRequestCancelled", UserId, "The user who asked you cancelled their friend request.")
contract.event("presence.onUpdate", Presence, "A friend came online or went offline.")
contract.event("on_event", Relayed, "Data relayed to you by another user (system.relayData).")
contract.event("moment.onPost", MomentInfo, "A friend posted a moment for friends.")
contract.event("moment.onDelete", MomentId, "A moment you could see was deleted.")
contract.event("moment.onLike", MomentLike, "Someone liked your moment.")
contract.event("moment.onComment", MomentComment,
               "A comment on your moment, or a reply to your comment.")

__all__ = ["NoData"]
