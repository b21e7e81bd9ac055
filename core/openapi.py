"""The native REST API's OpenAPI document (``/api/schema/``, drf-spectacular): how every
operation is tagged, which errors it can answer, and which views it describes.

* Only the native REST API (``/api/...``) is described. The older facades have documents of
  their own: the RongCloud-era ``im/*`` methods (docs/im.md), the J-IM customer-service desk
  ``im/vanke/*`` (docs/jim.md) and the Easemob bridge ``/hx/*`` (docs/hxbridge.md); their
  views take free-form bodies that an OpenAPI body would describe wrongly.
* Every operation lists the error bodies ``{code, error, msg}`` (``Error``) it can answer:
  400 (malformed or invalid input), 401 where a login is needed, 429 (rate limited), 503
  (database unavailable or overloaded), plus the REST twins' own (``core.api.rpc_view``).
* One tag per area of the API, from the first part of the path after ``/api/v1/``.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import permissions, serializers

# The first part of the path after /api/v1/ -> the operation's tag.
AREA_TAGS = {
    "auth": "auth",
    "me": "accounts",
    "users": "accounts",
    "blacklist": "accounts",
    "friends": "friends",
    "chats": "chats",
    "messages": "messages",
    "media": "media",
    "wallet": "wallet",
    "redpackets": "red packets",
    "remittances": "remittances",
    "calls": "calls",
    "desk": "desk",
    "moments": "moments",
    "reports": "reports",
    "system": "system",
    "web": "web",
}

GENERIC_ERRORS = {
    400: "malformed or invalid input (`malformed`, `invalid`), or a refusal of this operation",
    401: "no valid token (`not_authenticated`)",
    429: "rate limited (`rate_limited`): try again later",
    503: "the database is unavailable or the server overloaded (`unavailable`): retry",
}


@extend_schema_serializer(component_name="Error")
class ErrorBody(serializers.Serializer):
    """Every refusal's body, on every REST endpoint."""

    code = serializers.IntegerField(help_text="the socket's number for the same refusal (often the HTTP status)")
    error = serializers.CharField(help_text="the symbolic code, e.g. `not_found`, `insufficient_balance`")
    msg = serializers.CharField(help_text="a human-readable explanation")


FACADES = ("/im/", "/hx/")  # im/* and im/vanke/*, the Easemob bridge


def native_only(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """PREPROCESSING_HOOKS: leave the facades out; they are documented elsewhere."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(FACADES)]


class NativeAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p]
        area = parts[2] if len(parts) > 2 and parts[:2] == ["api", "v1"] else (parts[0] if parts else "api")
        return [AREA_TAGS.get(area, area)]

    def _needs_login(self) -> bool:
        try:
            checks = self.view.get_permissions()
        except Exception:  # a view whose permissions depend on the request: assume a login
            return True
        return any(isinstance(check, permissions.IsAuthenticated) for check in checks)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status, description in GENERIC_ERRORS.items():
            if str(status) in responses or (status == 401 and not self._needs_login()):
                continue
            responses[str(status)] = self._get_response_for_code(
                OpenApiResponse(ErrorBody, description=description), str(status), direction=direction)
        return dict(sorted(responses.items()))


def example_value(field: serializers.Field) -> Any:
    """A value ``field`` accepts (the least one for numbers, the first choice of a choice)."""
    if isinstance(field, serializers.ListSerializer):
        return [example_value(field.child)] * max(1, getattr(field, "min_length", None) or 0)  # type: ignore[arg-type]
    if isinstance(field, serializers.Serializer):
        return example_body(field)
    if isinstance(field, serializers.BooleanField):
        return True
    if isinstance(field, serializers.ChoiceField):
        return next(iter(field.choices))
    if isinstance(field, serializers.DecimalField):
        return "1.00" if (field.decimal_places or 0) >= 2 else "1"
    if isinstance(field, (serializers.IntegerField, serializers.FloatField)):
        low = field.min_value if field.min_value is not None else 1
        return max(low, 1) if field.max_value is None or field.max_value >= 1 else low
    if isinstance(field, serializers.ListField):
        return [example_value(field.child)] * max(1, field.min_length or 0)
    if isinstance(field, (serializers.DictField, serializers.JSONField)):
        return {}
    if isinstance(field, serializers.CharField):
        text = "text"
        if field.min_length and field.min_length > len(text):
            text = text * (field.min_length // len(text) + 1)
        return text[: field.max_length] if field.max_length else text
    return "text"


def example_body(serializer: serializers.Serializer) -> dict[str, Any]:
    """A request body ``serializer`` accepts as to its shape: its required fields only. Bodies
    with rules across fields (one of two keys, a content shape per type) give their example
    explicitly (``rpc_view(example=...)``)."""
    return {name: example_value(field) for name, field in serializer.fields.items()
            if field.required and not field.read_only}
