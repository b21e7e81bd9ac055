"""DRF parsers and renderer with exact decimals (see core.jsonwire), bounded before parsing.

Every body the REST API, ``im/*`` and ``/im/vanke/*`` read goes through these parsers:

* JSON through ``jsonwire.loads`` (numbers, nesting, NUL and lone surrogates bounded);
* a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with 413 (``RequestTooLarge``),
  never read as empty or buffered whole (file parts of a multipart upload do not count);
* a form with more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields, or a NUL character in a
  field, is a 400 (``ParseError``), not an internal error.

Adapters that read parameters from the query string as well (``im/*``, ``/im/vanke/*``) pass
it through ``refuse_nul`` too: DRF's serializers refuse a NUL, but those adapters use none.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import QueryDict
from rest_framework import exceptions, parsers, renderers
from rest_framework import serializers as drf_serializers

from core import jsonwire


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "request body too large"
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    return RequestTooLarge(f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")


def _read_bounded(stream: IO[Any]) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return bytes(stream.read())
    data = bytes(stream.read(limit + 1))
    if len(data) > limit:
        raise too_large()
    return data


def refuse_nul(form: QueryDict) -> QueryDict:
    """``form`` (a form body or a query string) unless a key or value holds a NUL character,
    which no database stores (PostgreSQL refuses it outright): then a ``ParseError``."""
    for key, values in form.lists():
        if "\x00" in key or any("\x00" in value for value in values if isinstance(value, str)):
            raise exceptions.ParseError("form fields must not contain NUL characters")
    return form


class ExactJSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = _read_bounded(stream)
        try:
            return jsonwire.loads(raw.decode(encoding))
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


class BoundedFormParser(parsers.FormParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = _read_bounded(stream)
        try:
            form = QueryDict(raw, encoding=encoding)
        except SuspiciousOperation as exc:  # TooManyFieldsSent
            raise exceptions.ParseError(
                f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields") from exc
        return refuse_nul(form)


class BoundedMultiPartParser(parsers.MultiPartParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RequestDataTooBig as exc:
            raise too_large() from exc
        except SuspiciousOperation as exc:  # TooManyFieldsSent, TooManyFilesSent
            raise exceptions.ParseError(f"multipart form refused: {exc}") from exc
        refuse_nul(parsed.data)
        return parsed


class ExactJSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if data is None:
            return b""
        return jsonwire.dumps(data).encode()


class PlainJSONField(drf_serializers.JSONField):
    """Free-form client JSON: any Decimal the exact parser produced becomes a plain number."""

    def to_internal_value(self, data: Any) -> Any:
        # Convert first: JSONField validates by json.dumps, which refuses Decimals.
        try:
            data = jsonwire.plain(data)
        except ValueError as exc:
            raise drf_serializers.ValidationError(str(exc)) from exc
        return super().to_internal_value(data)
