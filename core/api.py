"""REST plumbing: the exception handler and the bridge from socket methods to REST views.

``rpc_view("users.info", "GET")`` builds an APIView that validates the same parameters
and calls the same handler as the socket method, so both protocols share one code path.
The body of an error carries the socket's number too:
``{"code": 404, "error": "not_found", "msg": "..."}``.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core import contract, metrics, openapi
from core.exceptions import (
    HTTP_FALLBACK_STATUS,
    HTTP_STATUS,
    UNAVAILABLE,
    UNAVAILABLE_MSG,
    ApplicationError,
    database_unavailable,
)
from core.gateway import registry
from core.renderers import too_large

log = logging.getLogger(__name__)


def error_response(error: ApplicationError, wire_code: int | None = None) -> Response:
    status = HTTP_STATUS.get(error.code, HTTP_FALLBACK_STATUS)
    body = {"code": wire_code if wire_code is not None else status, "error": error.code, "msg": error.message}
    return Response(body, status=status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return error_response(exc)
    if database_unavailable(exc):
        # The database is down or restarting: one line, no traceback; the client retries.
        log.warning("database unavailable in %s: %s", context.get("view"), exc)
        return Response({"code": 503, "error": UNAVAILABLE, "msg": UNAVAILABLE_MSG}, status=503,
                        headers={"Retry-After": "1"})
    if isinstance(exc, RequestDataTooBig):
        exc = too_large()
    elif isinstance(exc, SuspiciousOperation):  # e.g. too many query or form fields
        exc = drf_exceptions.ParseError(str(exc) or "bad request")
    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug: log it with its traceback, answer like the socket does (no details leaked).
        log.error("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response({"code": 500, "error": "internal", "msg": "internal error"}, status=500)
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = registry.describe_errors(exc.detail)
        response.data = {"code": response.status_code, "error": "invalid", "msg": detail}
    elif isinstance(exc, drf_exceptions.APIException):
        code = {400: "malformed", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                405: "method_not_allowed", 413: "request_too_large", 429: "rate_limited",
                }.get(response.status_code, "error")
        response.data = {"code": response.status_code, "error": code, "msg": str(exc.detail)}
    return response


def _params_from_query(query: QueryDict, params: type[serializers.Serializer] | None) -> dict[str, Any]:
    """Query strings carry lists as ``?uIds=1&uIds=2`` or ``?uIds=1,2``."""
    data: dict[str, Any] = {}
    fields = params().fields if params else {}
    for key in query:
        field = fields.get(key)
        if isinstance(field, serializers.ListField):
            values = [v for item in query.getlist(key) for v in item.split(",") if v != ""]
            data[key] = values
        else:
            data[key] = query.get(key)
    return data


def _error_responses(method: registry.RpcMethod) -> dict[int, Any]:
    """The method's own refusals by HTTP status, each an ``Error`` body listing its codes."""
    by_status: dict[int, list[str]] = {}
    for code in sorted(method.errors):
        status = HTTP_STATUS.get(code, HTTP_FALLBACK_STATUS)
        if status >= 400:
            by_status.setdefault(status, []).append(code)
    return {status: OpenApiResponse(openapi.ErrorBody, description=", ".join(f"`{c}`" for c in codes))
            for status, codes in sorted(by_status.items())}


def _schema_of(method: registry.RpcMethod, http_method: str, example: dict[str, Any] | None) -> dict[str, Any]:
    """extend_schema's arguments for a REST twin of ``method``."""
    params = contract.named(method.params, contract.component_name(method.name, "Params")) if method.params else None
    reply = contract.reply_serializer(method.reply, contract.component_name(method.name, "Reply"))
    responses: dict[int, Any] = {200: reply if method.reply is not None else OpenApiTypes.OBJECT}
    if any(HTTP_STATUS.get(code) == 200 for code in method.errors):
        described = [f"`{c}`" for c in method.errors if HTTP_STATUS.get(c) == 200]
        responses[200] = OpenApiResponse(responses[200], description=(
            "the reply; or an `Error` body with status 200 for " + ", ".join(described)))
    responses.update(_error_responses(method))
    if http_method == "get":
        return {"request": None, "parameters": [params] if params else None, "responses": responses}
    examples = None
    if params is not None:
        examples = [OpenApiExample("request", value=example if example is not None else openapi.example_body(params()),
                                   request_only=True)]
    return {"request": params, "responses": responses, "examples": examples}


def rpc_view(method_name: str, http_method: str, *, summary: str = "", example: dict[str, Any] | None = None) -> Any:
    """An APIView answering ``http_method`` by calling the registered socket method.

    Its OpenAPI description comes from the method: the parameters (a body, or the query of a
    GET), the reply's ``data`` as the 200 body (the ``<Method>Reply`` component core.contract
    publishes), and an ``Error`` body for each status the method's own error codes answer.
    ``example``: the request body shown in the documentation, where the one made from the
    required parameters (``core.openapi.example_body``) would be refused."""
    http_method = http_method.lower()

    class RpcView(APIView):
        def get_permissions(self) -> list[permissions.BasePermission]:
            method = registry.get(method_name)
            assert method is not None, method_name
            return [permissions.IsAuthenticated()] if method.auth else [permissions.AllowAny()]

        def _call(self, request: Request, **kwargs: Any) -> Response:
            method = registry.get(method_name)
            assert method is not None, method_name
            raw: Any
            if http_method == "get":
                raw = _params_from_query(request.query_params, method.params)
            elif isinstance(request.data, QueryDict):
                raw = _params_from_query(request.data, method.params)
            else:
                raw = dict(request.data) if isinstance(request.data, dict) else request.data
            if isinstance(raw, dict):
                raw.update(kwargs)  # URL parts (e.g. /friends/<uId>) win over the body
            user = request.user if getattr(request.user, "is_authenticated", False) else None
            ctx = registry.RpcContext(
                user=user, session_id=getattr(request.auth, "pk", None),
                ip=request.META.get("REMOTE_ADDR"), transport="rest",
            )
            started = time.monotonic()
            try:
                result = method.call_blocking(ctx, raw)
            except ApplicationError as error:
                response = error_response(error, method.wire_code(error))
                metrics.observe_call(method_name, response.data["code"], "rest", started)
                return response
            metrics.observe_call(method_name, 200, "rest", started)
            if settings.RPC_CHECK_REPLIES:
                contract.check_reply(method_name, result)
            return Response({} if result is None else result)

    def handler(self: RpcView, request: Request, **kwargs: Any) -> Response:
        return self._call(request, **kwargs)

    method = registry.get(method_name)
    assert method is not None, f"rpc_view({method_name!r}): no such socket method"
    decorated = extend_schema(
        operation_id=method_name.replace(".", "_") + f"_{http_method}",
        summary=summary or f"Same as the socket method {method_name}",
        **_schema_of(method, http_method, example),
    )(handler)
    setattr(RpcView, http_method, decorated)
    RpcView.__name__ = RpcView.__qualname__ = "Rpc_" + method_name.replace(".", "_")
    return RpcView.as_view()
