"""Moments (朋友圈): posts of text and images to the author's friends, with likes and comments
(docs/moments.md). Every write (services, each in ``transaction.atomic``) and every read
(selectors) of moments; the socket methods are in accounts/moment_rpc.py.

Who sees what is decided here and nowhere else (``moments_seen_by`` and ``_shown``):

* A moment is seen by its author, and by the author's friends when it is for friends
  (visibility 1) and neither has blacklisted the other. To anyone else it does not exist:
  every method answers 404, as for an id that was never used. A deleted moment is gone.
* A like or comment by X on a moment of A is shown to a viewer V when X still stands with A
  (X is A, or A's friend and neither has blacklisted the other) and V may see X (X is V or A,
  or V's friend and neither has blacklisted the other). So a viewer sees the likes and
  comments of their own friends and of the author only, and unfriending or blacklisting
  the author hides what one had said on the author's moments. A reply needs the same of the
  user it answers.

Only those who see a moment may like or comment on it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts import exceptions as codes
from accounts.models import MOMENT_MAX_IMAGES, Block, Friendship, Moment, MomentComment, MomentImage, MomentLike, User
from core import throttle
from core.exceptions import NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.realtime import send_event_on_commit
from messaging.media import media_url
from messaging.models import Media

AUTHOR = "moment__author_id"


# --- who sees what ------------------------------------------------------------------------------
def _blocks(user_id: int) -> tuple[QuerySet[Block, Any], QuerySet[Block, Any]]:
    """Subqueries: the users ``user_id`` blacklisted, and those who blacklisted ``user_id``."""
    return (Block.objects.filter(user_id=user_id).values("blocked_id"),
            Block.objects.filter(blocked_id=user_id).values("user_id"))


def _friends(user_id: int) -> QuerySet[Friendship, Any]:
    return Friendship.objects.filter(user_id=user_id).values("friend_id")


def moments_seen_by(viewer_id: int) -> QuerySet[Moment]:
    """Every moment ``viewer_id`` may see: their own, and their friends' moments for friends
    unless either has blacklisted the other."""
    blocked, blockers = _blocks(viewer_id)
    return Moment.objects.filter(
        Q(author_id=viewer_id)
        | (Q(author_id__in=_friends(viewer_id), visibility=Moment.Visibility.FRIENDS)
           & ~Q(author_id__in=blocked) & ~Q(author_id__in=blockers))
    )


def _shown(viewer_id: int, field: str) -> Q:
    """Likes or comments whose user ``field`` (``user_id``, ``author_id``, ``reply_to_user_id``)
    still stands with the moment's author and may be seen by ``viewer_id``."""
    stands = Q(**{field: F(AUTHOR)}) | (
        Exists(Friendship.objects.filter(user_id=OuterRef(AUTHOR), friend_id=OuterRef(field)))
        & ~Exists(Block.objects.filter(Q(user_id=OuterRef(AUTHOR), blocked_id=OuterRef(field))
                                       | Q(user_id=OuterRef(field), blocked_id=OuterRef(AUTHOR))))
    )
    blocked, blockers = _blocks(viewer_id)
    seen = (
        (Q(**{field: viewer_id}) | Q(**{field: F(AUTHOR)}) | Q(**{f"{field}__in": _friends(viewer_id)}))
        & ~Q(**{f"{field}__in": blocked}) & ~Q(**{f"{field}__in": blockers})
    )
    return stands & seen


def _likes_shown_to(viewer_id: int) -> QuerySet[MomentLike]:
    return MomentLike.objects.filter(_shown(viewer_id, "user_id"))


def _comments_shown_to(viewer_id: int) -> QuerySet[MomentComment]:
    return MomentComment.objects.filter(_shown(viewer_id, "author_id")).filter(
        Q(reply_to_user__isnull=True) | _shown(viewer_id, "reply_to_user_id"))


def _audience(author_id: int) -> list[int]:
    """Who is told about the author's new (or deleted) moment for friends."""
    blocked, blockers = _blocks(author_id)
    return list(Friendship.objects.filter(user_id=author_id).exclude(friend_id__in=blocked)
                .exclude(friend_id__in=blockers).values_list("friend_id", flat=True))


def _stands(viewer_id: int, user_id: int) -> bool:
    """Friends, and neither has blacklisted the other."""
    return (Friendship.objects.filter(user_id=viewer_id, friend_id=user_id).exists()
            and not Block.objects.filter(Q(user_id=viewer_id, blocked_id=user_id)
                                         | Q(user_id=user_id, blocked_id=viewer_id)).exists())


def _visible_moment(viewer_id: int, moment_id: int, *, lock: bool = False) -> Moment:
    rows = moments_seen_by(viewer_id).filter(pk=moment_id)
    if lock:
        rows = rows.select_for_update()
    moment = rows.first()
    if moment is None:
        raise ApplicationError(NOT_FOUND, "no such moment")
    return moment


# --- wire objects ---------------------------------------------------------------------------------
def _ts(value: datetime) -> int:
    return int(value.timestamp())


def image_info(media: Media, moment_id: int) -> dict[str, Any]:
    return {"mediaId": media.pk, "url": media_url(media, f"moment-{moment_id}"), "contentType": media.content_type,
            "size": media.size, "width": media.width, "height": media.height}


def like_info(like: MomentLike) -> dict[str, Any]:
    return {"momentId": like.moment_id, "uId": like.user_id, "createAt": _ts(like.created_at)}


def comment_info(comment: MomentComment) -> dict[str, Any]:
    return {"commentId": comment.pk, "momentId": comment.moment_id, "from": comment.author_id, "text": comment.text,
            "replyTo": comment.reply_to_id, "replyToUId": comment.reply_to_user_id,
            "createAt": _ts(comment.created_at)}


def render(moments: list[Moment], viewer_id: int) -> list[dict[str, Any]]:
    """The moments as ``viewer_id`` sees them, with the likes and comments shown to them."""
    ids = [m.pk for m in moments]
    if not ids:
        return []
    images: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for image in MomentImage.objects.filter(moment_id__in=ids).select_related("media").order_by("moment_id",
                                                                                                "position"):
        images[image.moment_id].append(image_info(image.media, image.moment_id))
    likes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for like in _likes_shown_to(viewer_id).filter(moment_id__in=ids).order_by("id"):
        likes[like.moment_id].append({"uId": like.user_id, "createAt": _ts(like.created_at)})
    comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for comment in _comments_shown_to(viewer_id).filter(moment_id__in=ids).order_by("id"):
        comments[comment.moment_id].append(comment_info(comment))
    return [{"momentId": m.pk, "from": m.author_id, "text": m.text, "images": images[m.pk],
             "visibility": m.visibility, "createAt": _ts(m.created_at), "likes": likes[m.pk],
             "comments": comments[m.pk]} for m in moments]


# --- selectors ------------------------------------------------------------------------------------
def _page(rows: QuerySet[Moment], viewer_id: int, before_id: int | None, count: int) -> dict[str, Any]:
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    page = list(rows.order_by("-id")[: count + 1])
    return {"moments": render(page[:count], viewer_id), "hasMore": len(page) > count}


def moment_feed(*, viewer_id: int, before_id: int | None = None, count: int = 20) -> dict[str, Any]:
    """The viewer's and their friends' moments, newest first, ``count`` older than ``before_id``."""
    return _page(moments_seen_by(viewer_id), viewer_id, before_id, count)


def moment_list(*, viewer_id: int, user_id: int, before_id: int | None = None, count: int = 20) -> dict[str, Any]:
    """One user's moments: one's own, or a friend's (anyone else: 404, as for a missing user)."""
    if user_id != viewer_id and not _stands(viewer_id, user_id):
        raise ApplicationError(NOT_FOUND, "no such user among your friends")
    return _page(moments_seen_by(viewer_id).filter(author_id=user_id), viewer_id, before_id, count)


def moment_get(*, viewer_id: int, moment_id: int) -> dict[str, Any]:
    return render([_visible_moment(viewer_id, moment_id)], viewer_id)[0]


# --- services -------------------------------------------------------------------------------------
def _check_text(text: str, limit: int, what: str) -> str:
    text = text.strip()
    if len(text) > limit:
        raise ApplicationError(codes.MOMENT_TEXT_TOO_LONG, f"{what} may be at most {limit} characters")
    return text


@transaction.atomic
def moment_post(*, user: User, text: str = "", media_ids: list[int] | None = None,
                visibility: int = Moment.Visibility.FRIENDS) -> dict[str, Any]:
    """Post a moment of text and/or images the author uploaded (kind image); push
    ``moment.onPost`` to the friends who will see it."""
    media_ids = list(media_ids or [])
    text = _check_text(text, settings.MOMENT_MAX_TEXT, "a moment's text")
    if not text and not media_ids:
        raise ApplicationError(codes.MOMENT_EMPTY, "a moment needs text or images")
    if len(media_ids) > MOMENT_MAX_IMAGES:
        raise ApplicationError(codes.MOMENT_TOO_MANY_IMAGES, f"a moment has at most {MOMENT_MAX_IMAGES} images")
    if len(set(media_ids)) != len(media_ids):
        raise ApplicationError(codes.MOMENT_BAD_MEDIA, "an image appears twice")
    uploads = {m.pk: m for m in Media.objects.filter(pk__in=media_ids, owner_id=user.pk, kind=Media.Kind.IMAGE)}
    strangers = [mid for mid in media_ids if mid not in uploads]
    if strangers:
        raise ApplicationError(codes.MOMENT_BAD_MEDIA, f"not images you uploaded: {strangers}")
    throttle.check(f"moment-post:{user.pk}", settings.MOMENT_POSTS_PER_HOUR, 3600,
                   f"at most {settings.MOMENT_POSTS_PER_HOUR} moments an hour; try again later")
    moment = Moment.objects.create(author=user, text=text, visibility=visibility)
    MomentImage.objects.bulk_create(
        [MomentImage(moment=moment, media=uploads[mid], position=i) for i, mid in enumerate(media_ids)])
    info = render([moment], user.pk)[0]
    if moment.visibility == Moment.Visibility.FRIENDS:
        send_event_on_commit("moment.onPost", info, _audience(user.pk))
    return info


def _delete(moment: Moment) -> None:
    audience = _audience(moment.author_id) if moment.visibility == Moment.Visibility.FRIENDS else []
    moment_id = moment.pk
    moment.delete()  # its images, likes and comments with it
    send_event_on_commit("moment.onDelete", {"momentId": moment_id}, audience)


@transaction.atomic
def moment_delete(*, user: User, moment_id: int) -> None:
    """The author deletes a moment; those who saw it get ``moment.onDelete``."""
    moment = _visible_moment(user.pk, moment_id, lock=True)
    if moment.author_id != user.pk:
        raise ApplicationError(PERMISSION_DENIED, "only its author can delete a moment")
    _delete(moment)


@transaction.atomic
def moment_remove(*, moment_id: int) -> bool:
    """An operator deletes a moment (admin); False if it was already gone."""
    moment = Moment.objects.select_for_update().filter(pk=moment_id).first()
    if moment is None:
        return False
    _delete(moment)
    return True


@transaction.atomic
def moment_like(*, user: User, moment_id: int) -> dict[str, Any]:
    """Like once (liking again changes nothing); the author gets ``moment.onLike``."""
    moment = _visible_moment(user.pk, moment_id, lock=True)  # a concurrent delete waits, or wins: 404
    like = MomentLike.objects.filter(moment=moment, user=user).first()
    if like is not None:
        return like_info(like)
    throttle.check(f"moment-act:{user.pk}", settings.MOMENT_ACTIONS_PER_MINUTE, 60,
                   "too many likes and comments; try again in a minute")
    try:
        with transaction.atomic():
            like = MomentLike.objects.create(moment=moment, user=user)
    except IntegrityError:  # another device of the user, where rows are not locked (SQLite)
        return like_info(MomentLike.objects.get(moment=moment, user=user))
    if moment.author_id != user.pk:
        send_event_on_commit("moment.onLike", like_info(like), [moment.author_id])
    return like_info(like)


@transaction.atomic
def moment_unlike(*, user: User, moment_id: int) -> None:
    """Take a like back (no like: nothing to do)."""
    moment = _visible_moment(user.pk, moment_id)
    MomentLike.objects.filter(moment=moment, user=user).delete()


@transaction.atomic
def moment_comment(*, user: User, moment_id: int, text: str, reply_to_id: int | None = None) -> dict[str, Any]:
    """Comment, or reply to a comment the caller sees; the moment's author and the user
    replied to get ``moment.onComment`` (not the commenter)."""
    text = _check_text(text, settings.MOMENT_COMMENT_MAX_TEXT, "a comment")
    if not text:
        raise ApplicationError(codes.MOMENT_EMPTY, "a comment needs text")
    moment = _visible_moment(user.pk, moment_id, lock=True)  # also orders the count below
    reply_to = None
    if reply_to_id is not None:
        reply_to = _comments_shown_to(user.pk).filter(pk=reply_to_id, moment=moment).first()
        if reply_to is None:
            raise ApplicationError(NOT_FOUND, "no such comment on this moment (replyTo)")
    if MomentComment.objects.filter(moment=moment).count() >= settings.MOMENT_MAX_COMMENTS:
        raise ApplicationError(codes.MOMENT_TOO_MANY_COMMENTS,
                               f"a moment takes at most {settings.MOMENT_MAX_COMMENTS} comments")
    throttle.check(f"moment-act:{user.pk}", settings.MOMENT_ACTIONS_PER_MINUTE, 60,
                   "too many likes and comments; try again in a minute")
    comment = MomentComment.objects.create(moment=moment, author=user, text=text, reply_to=reply_to,
                                           reply_to_user_id=reply_to.author_id if reply_to else None)
    info = comment_info(comment)
    # Whoever the commenter sees on this moment also sees the commenter (the rules are symmetric).
    recipients = {moment.author_id} | ({reply_to.author_id} if reply_to else set())
    send_event_on_commit("moment.onComment", info, recipients - {user.pk})
    return info


@transaction.atomic
def moment_delete_comment(*, user: User, comment_id: int) -> None:
    """The comment's author or the moment's author deletes a comment; replies to it stay."""
    comment = (_comments_shown_to(user.pk).filter(moment__in=moments_seen_by(user.pk), pk=comment_id)
               .select_related("moment").first())
    if comment is None:
        raise ApplicationError(NOT_FOUND, "no such comment")
    if user.pk not in (comment.author_id, comment.moment.author_id):
        raise ApplicationError(PERMISSION_DENIED, "only the comment's or the moment's author can delete it")
    comment.delete()


@transaction.atomic
def moment_comment_remove(*, comment_id: int) -> bool:
    """An operator deletes a comment (admin); False if it was already gone."""
    deleted, _ = MomentComment.objects.filter(pk=comment_id).delete()
    return bool(deleted)
