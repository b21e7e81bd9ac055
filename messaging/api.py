"""REST: media upload and download. Messages themselves have REST twins in messaging/urls.py."""
from __future__ import annotations

import time
from typing import cast

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core import throttle
from core.openapi import ErrorBody
from core.renderers import BoundedMultiPartParser
from messaging.media import media_for_link, media_info, media_upload
from messaging.models import Media


class UploadInput(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=Media.Kind.choices)
    duration = serializers.IntegerField(min_value=0, required=False)


class UploadedMedia(serializers.Serializer):
    """An upload as answered (``messaging.media.media_info``)."""

    mediaId = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Media.Kind.choices)
    url = serializers.CharField(help_text="a signed link to the file (GET /api/v1/media/{token})")
    name = serializers.CharField(allow_blank=True, help_text="the file's name as uploaded")
    contentType = serializers.CharField()
    size = serializers.IntegerField(help_text="bytes")
    width = serializers.IntegerField(allow_null=True, help_text="images and videos")
    height = serializers.IntegerField(allow_null=True, help_text="images and videos")
    duration = serializers.IntegerField(allow_null=True, help_text="voice and video, in seconds, as given")


class MediaUploadApi(APIView):
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(request={"multipart/form-data": UploadInput}, responses={201: UploadedMedia})
    def post(self, request: Request) -> Response:
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = cast(User, request.user)
        throttle.check(f"upload:{user.pk}", 120, 3600, "too many uploads; try again later")
        media = media_upload(owner=user, upload=data.validated_data["file"], kind=data.validated_data["kind"],
                             duration=data.validated_data.get("duration"))
        return Response(media_info(media), status=201)


class MediaDownloadApi(APIView):
    @extend_schema(responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        404: OpenApiResponse(ErrorBody, description="no such media, or not shown to you any more (`not_found`)"),
        410: OpenApiResponse(ErrorBody, description="the link has expired (`media_link_expired`)"),
    }, parameters=[
        OpenApiParameter("ref", str, required=True), OpenApiParameter("exp", int, required=True),
        OpenApiParameter("sig", str, required=True)])
    def get(self, request: Request, token: str) -> FileResponse:
        """A signed link (``messaging.media``): served while it has not expired and what it was
        handed out for (the message, the moment, the upload) still shows the upload."""
        query = request.query_params
        media, expires = media_for_link(token=token, ref=query.get("ref"), exp=query.get("exp"),
                                        sig=query.get("sig"), user_id=cast(User, request.user).pk)
        response = FileResponse(media.file.open("rb"), content_type=media.content_type,
                                as_attachment=media.kind == Media.Kind.FILE, filename=media.name or media.token)
        # No cache keeps it past the link's life.
        response["Cache-Control"] = f"private, max-age={max(0, min(86400, expires - int(time.time())))}"
        response["X-Content-Type-Options"] = "nosniff"
        return response
