"""DRF parser and renderer with exact decimals (see core.jsonwire)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers, renderers
from rest_framework import serializers as drf_serializers

from core import jsonwire


class ExactJSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return jsonwire.loads(stream.read().decode(encoding))
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


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
        return super().to_internal_value(jsonwire.plain(data))
