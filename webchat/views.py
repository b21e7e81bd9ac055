"""The web chat's one page (docs/webchat.md). Everything else is static files: the app's ES
modules under ``static/webchat/`` and the JavaScript SDK's ``clients/js/src`` served as
``static/sdk/``; no build step."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


def _policy(request: HttpRequest) -> str:
    """A Content-Security-Policy for the page: its own scripts and styles only, images from the
    server and the blob: URLs made of downloaded media, and connections to this server (REST and
    the socket, which CSP's 'self' does not cover in every browser)."""
    host = request.get_host()
    sockets = f"wss://{host}" if request.is_secure() else f"ws://{host}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            f"connect-src 'self' {sockets}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


@require_safe
def app(request: HttpRequest) -> HttpResponse:
    response = render(request, "webchat/index.html")
    response["Content-Security-Policy"] = _policy(request)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-cache"
    return response
