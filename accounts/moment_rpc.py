"""Socket methods ``moment.*`` (朋友圈, docs/moments.md). Seed 002 names ``moment.post`` only, with
a body copied from web.discover; the methods, fields and codes here are ours, in the native API document's
style (docs/decisions.md). Imported by accounts/rpc.py, which the gateway discovers."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts import exceptions as codes
from accounts import moments, replies
from accounts.models import Moment
from core.gateway import registry
from core.gateway.registry import RpcContext

# The method codes (the envelope's 404 / 422 / 429 / 403 keep their meaning).
POST_ERRORS = {codes.MOMENT_EMPTY: 480, codes.MOMENT_TEXT_TOO_LONG: 481, codes.MOMENT_TOO_MANY_IMAGES: 482,
               codes.MOMENT_BAD_MEDIA: 483}
COMMENT_ERRORS = {codes.MOMENT_EMPTY: 480, codes.MOMENT_TEXT_TOO_LONG: 481, codes.MOMENT_TOO_MANY_COMMENTS: 484}
MAX_PAGE = 50


class MomentPostParams(serializers.Serializer):
    # Lengths are the service's to check, so that a long text answers 481, not 422; the
    # gateway's frame cap (WS_MAX_FRAME_BYTES) bounds what reaches it.
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    mediaIds = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                     max_length=100)
    visibility = serializers.ChoiceField(choices=Moment.Visibility.choices, default=Moment.Visibility.FRIENDS)


class MomentPageParams(serializers.Serializer):
    beforeId = serializers.IntegerField(min_value=1, required=False)
    count = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=20)


class MomentListParams(MomentPageParams):
    uId = serializers.IntegerField(min_value=1, required=False)


class MomentIdParams(serializers.Serializer):
    momentId = serializers.IntegerField(min_value=1)


class MomentCommentParams(MomentIdParams):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    replyTo = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class MomentCommentIdParams(serializers.Serializer):
    commentId = serializers.IntegerField(min_value=1)


@registry.method("moment.post", params=MomentPostParams, errors=POST_ERRORS, reply=replies.MomentInfo)
def post(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_post(user=ctx.user, text=p["text"], media_ids=p["mediaIds"], visibility=p["visibility"])


@registry.method("moment.feed", params=MomentPageParams, reply=replies.MomentPage)
def feed(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_feed(viewer_id=ctx.user_id, before_id=p.get("beforeId"), count=p["count"])


@registry.method("moment.list", params=MomentListParams, reply=replies.MomentPage)
def list_(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_list(viewer_id=ctx.user_id, user_id=p.get("uId") or ctx.user_id,
                               before_id=p.get("beforeId"), count=p["count"])


@registry.method("moment.get", params=MomentIdParams, reply=replies.MomentInfo)
def get(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_get(viewer_id=ctx.user_id, moment_id=p["momentId"])


@registry.method("moment.delete", params=MomentIdParams, reply=registry.NoData)
def delete(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    moments.moment_delete(user=ctx.user, moment_id=p["momentId"])
    return {}


@registry.method("moment.like", params=MomentIdParams, reply=replies.MomentLike)
def like(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_like(user=ctx.user, moment_id=p["momentId"])


@registry.method("moment.unlike", params=MomentIdParams, reply=registry.NoData)
def unlike(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    moments.moment_unlike(user=ctx.user, moment_id=p["momentId"])
    return {}


@registry.method("moment.comment", params=MomentCommentParams, errors=COMMENT_ERRORS, reply=replies.MomentComment)
def comment(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return moments.moment_comment(user=ctx.user, moment_id=p["momentId"], text=p["text"],
                                  reply_to_id=p.get("replyTo"))


@registry.method("moment.deleteComment", params=MomentCommentIdParams, reply=registry.NoData)
def delete_comment(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    moments.moment_delete_comment(user=ctx.user, comment_id=p["commentId"])
    return {}
