"""HTTP middleware of the project."""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core import throttle


class ClientAddressMiddleware:
    """Makes the client's address known to the services for the request's duration
    (``core.throttle.client_address``): limits per address apply wherever a check happens."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with throttle.serving(request.META.get("REMOTE_ADDR")):
            return self.get_response(request)
