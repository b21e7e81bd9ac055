"""ASGI entry point: HTTP to Django, WebSocket to the gateway (native at ``/ws/``, J-IM at ``/``).

``daphne config.asgi:application`` serves both on one port.
"""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()  # sets Django up before the routing imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from core import accesslog, deployment, logs  # noqa: E402
from core.gateway.consumer import GatewayConsumer  # noqa: E402
from core.gateway.origin import origin_checked  # noqa: E402
from core.gateway.transport import cap_daphne_frames, lean_daphne_inboxes, time_out_slow_requests  # noqa: E402
from messaging.jim.consumer import JimConsumer  # noqa: E402

cap_daphne_frames(settings.WS_TRANSPORT_MAX_BYTES)
time_out_slow_requests(settings.HTTP_HEADERS_TIMEOUT, settings.HTTP_IDLE_TIMEOUT)
lean_daphne_inboxes()
accesslog.install()  # login tokens in URLs are written as [redacted]
deployment.start()  # warns when other deployments share this Redis

websocket_urlpatterns = [
    path("ws/", GatewayConsumer.as_asgi()),
    path("", JimConsumer.as_asgi()),  # the J-IM document's J-IM commands at ws://HOST/?token=TOKEN
]

# Native apps send no Origin header; browsers do, and must come from an allowed host.
websocket_app = URLRouter(websocket_urlpatterns)
if settings.WS_CHECK_ORIGIN:
    websocket_app = origin_checked(websocket_app)

# Every HTTP request's log lines carry its id (core.logs), answered in X-Request-ID.
application = ProtocolTypeRouter({"http": logs.with_request_ids(django_asgi_app), "websocket": websocket_app})

if settings.EMBEDDED_BEAT:
    from core.embedded_beat import start as start_embedded_beat

    start_embedded_beat()
