"""The registry of native socket methods, shared by the gateway and the REST bridge."""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from core import throttle
from core.exceptions import INVALID, NOT_AUTHENTICATED, WS_DEFAULT_CODES, WS_FALLBACK_CODE, ApplicationError


@dataclass(slots=True)
class RpcContext:
    """Who is calling, from where. ``user`` is None on an anonymous socket."""

    user: Any
    session_id: int | None = None
    channel_name: str | None = None  # the calling socket, to skip it in fan-out
    ip: str | None = None
    transport: str = "ws"

    @property
    def user_id(self) -> int:
        return self.user.pk


@dataclass(frozen=True, slots=True)
class Limit:
    """Calls of one method per user: at most ``settings.<setting>`` in ``window`` seconds, on every
    process (a cache counter); more answer 429 ``rate_limited``."""

    setting: str
    window: int


def check_limit(name: str, limit: Limit, user_id: int) -> None:
    """Count one call of ``name`` by ``user_id``; other adapters of the same use case call it too,
    so all protocols share the count."""
    allowed = getattr(settings, limit.setting)
    throttle.spend(f"method:{name}:{user_id}", 1, allowed, limit.window,
                   f"at most {allowed} {name} calls in {limit.window} seconds; try again later")


class NoData(serializers.Serializer):
    """A method's ``reply`` when the reply's ``data`` is always ``{}``."""


@dataclass(frozen=True, slots=True)
class RpcMethod:
    name: str
    handler: Callable[..., Any]
    params: type[serializers.Serializer] | None
    auth: bool
    errors: Mapping[str, int] = field(default_factory=dict)
    is_async: bool = False
    limit: Limit | None = None
    money: bool = False
    # A socket-only shortcut: awaited with the raw params, it answers the call, or returns None
    # for the ordinary handler to answer it (see fast_path).
    fast: Callable[..., Awaitable[Any]] | None = None
    # Whether a socket may start this call before the calls it sent earlier have been answered
    # (see fast_path).
    pipelined: bool = False
    # The serializer describing the reply's ``data`` (core.contract publishes and checks it);
    # None: not described yet.
    reply: type[serializers.Serializer] | serializers.Field | None = None

    def wire_code(self, error: ApplicationError) -> int:
        code = self.errors.get(error.code)
        if code is None:
            code = WS_DEFAULT_CODES.get(error.code, WS_FALLBACK_CODE)
        return code

    def validate(self, raw: Any) -> dict[str, Any]:
        if self.params is None:
            return {}
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ApplicationError(INVALID, "params must be a JSON object")
        serializer = self.params(data=raw)
        if not serializer.is_valid():
            raise ApplicationError(INVALID, describe_errors(serializer.errors))
        validated = dict(serializer.validated_data)
        wide = _beyond_int64(serializer, validated)
        if wide is not None:
            raise ApplicationError(INVALID, f"{wide}: a whole number beyond 64 bits")
        return validated

    def admit(self, ctx: RpcContext, raw: Any) -> dict[str, Any]:
        """The validated params, once the caller's per-method limit allows the call (bad params
        are refused first and not counted)."""
        params = self.validate(raw)
        if self.limit is not None and ctx.user is not None:
            check_limit(self.name, self.limit, ctx.user.pk)
        return params

    def invoke_sync(self, ctx: RpcContext, raw: Any) -> Any:
        """Validate and call a sync handler; runs on a database thread. The caller's address is
        known to the services meanwhile (limits per address, ``core.throttle.client_address``)."""
        with throttle.serving(ctx.ip):
            if self.money and ctx.user is not None:
                _login_still_valid(ctx)
            return self.handler(ctx, self.admit(ctx, raw))

    def call_blocking(self, ctx: RpcContext, raw: Any) -> Any:
        """Call from synchronous code (the REST bridge, other protocols' views)."""
        if self.is_async:
            return async_to_sync(self.handler)(ctx, self.admit(ctx, raw))
        return self.invoke_sync(ctx, raw)


def _login_still_valid(ctx: RpcContext) -> None:
    """A money method re-checks, at call time, that the caller's login session is live and the
    account active: a socket whose session ended in a way it was not told of yet (e.g. a script
    that updated rows directly) moves no money. One indexed query."""
    from accounts.selectors import login_is_live

    if not login_is_live(user_id=ctx.user.pk, session_id=ctx.session_id):
        raise ApplicationError(NOT_AUTHENTICATED, "this login has ended; log in again")


_methods: dict[str, RpcMethod] = {}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _beyond_int64(serializer: serializers.Serializer, validated: dict[str, Any]) -> str | None:
    """The name of the first integer parameter no database column can hold, or None. Every
    method's parameters pass here, so an id or a count of 10**30 is a bad parameter rather
    than a database error (an ``IN (...)`` lookup or an insert does not range-check it).
    Free-form JSON (message content, relay data) is not looked into: it is stored as JSON."""
    for name, spec in serializer.fields.items():
        if name not in validated:
            continue
        value, child = validated[name], getattr(spec, "child", None)
        if isinstance(spec, serializers.IntegerField):
            values: Any = [value]
        elif isinstance(child, serializers.IntegerField) and isinstance(value, (list, tuple)):
            values = value
        elif isinstance(child, serializers.IntegerField) and isinstance(value, dict):
            values = value.values()
        else:
            continue
        if any(isinstance(v, int) and not INT64_MIN <= v <= INT64_MAX for v in values):
            return name
    return None


def method(
    name: str,
    *,
    params: type[serializers.Serializer] | None = None,
    auth: bool = True,
    errors: Mapping[str, int] | None = None,
    limit: Limit | None = None,
    money: bool = False,
    reply: type[serializers.Serializer] | serializers.Field | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a socket method. ``errors`` maps symbolic codes to this method's seed codes;
    ``limit`` bounds its calls per user (socket and REST twin alike). ``money``: the method
    moves money (or guards it), so every call first re-checks that the login session is still
    live (``_login_still_valid``). ``reply`` describes the reply's ``data`` (``core.contract``):
    a serializer class whose fields are the reply's keys (``required=False`` for a key that may
    be absent, ``allow_null=True`` for one that may be null), ``Item(many=True)`` for a list,
    ``NoData`` for ``{}``, or a plain field (``ListField(child=IntegerField())``) for a list of values."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        if name.startswith("_") or not name:
            raise ImproperlyConfigured(f"invalid method name {name!r}")
        if name in _methods:
            raise ImproperlyConfigured(f"socket method {name!r} registered twice")
        if limit is not None and inspect.iscoroutinefunction(handler):
            raise ImproperlyConfigured(f"{name!r}: a limit counts in the cache, so its method must be sync")
        _methods[name] = RpcMethod(
            name=name,
            handler=handler,
            params=params,
            auth=auth,
            errors=dict(errors or {}),
            is_async=inspect.iscoroutinefunction(handler),
            limit=limit,
            money=money,
            reply=reply,
        )
        if money and _methods[name].is_async:
            raise ImproperlyConfigured(f"money method {name!r} must be synchronous (it re-checks the login)")
        return handler

    return register


def fast_path(name: str, handler: Callable[..., Awaitable[Any]], *, pipelined: bool = False) -> None:
    """Give the socket a faster way to answer ``name`` (e.g. sends stored in batches). The
    shortcut sees the raw params; it must answer exactly as the method would, or return None
    to leave the call to the method. REST twins and other protocols never take it.

    ``pipelined``: a socket may start this call while its earlier calls of the same method are
    still running (up to ``WS_PIPELINE_DEPTH``); their replies still leave in the order the
    calls came, and any other method waits for them first. The shortcut is then also given
    ``turn``, an awaitable function: whatever it does the ordinary way (outside the batch) it
    must do only after ``await turn()``, which returns once the socket's earlier calls are done,
    so those keep their order."""
    _methods[name] = replace(_methods[name], fast=handler, pipelined=pipelined)


def get(name: str) -> RpcMethod | None:
    # Names starting with "_" are never dispatched (and never registered).
    if not isinstance(name, str) or name.startswith("_"):
        return None
    return _methods.get(name)


def all_methods() -> dict[str, RpcMethod]:
    """Every registered method by name (a copy)."""
    return dict(_methods)


def describe_errors(errors: Any, prefix: str = "") -> str:
    """Flatten DRF validation errors into one readable line: ``uIds: This field is required.``"""
    parts: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = key if key != "non_field_errors" else ""
            parts.append(describe_errors(value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}"))
    elif isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            text = " ".join(str(e) for e in errors)
            parts.append(f"{prefix}: {text}" if prefix else text)
        else:
            for index, item in enumerate(errors):
                if item:
                    parts.append(describe_errors(item, f"{prefix}[{index}]"))
    else:
        parts.append(f"{prefix}: {errors}" if prefix else str(errors))
    return "; ".join(p for p in parts if p)
