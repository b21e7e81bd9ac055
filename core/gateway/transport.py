"""Transport-level limits daphne does not expose, and what daphne keeps per connection.

The patches run when ``config.asgi`` is imported, which daphne does before it builds its
factories.

Frames
------

Daphne leaves autobahn's ``maxMessagePayloadSize`` unlimited, so a client could make the
server buffer a frame of any size before the gateway's ``WS_MAX_FRAME_BYTES`` check sees
it. ``cap_daphne_frames`` makes daphne's socket factory refuse (close code 1009, "message
too big") any message over ``WS_TRANSPORT_MAX_BYTES``; frames between the two limits still
get the gateway's polite 413 reply.

Slow requests
-------------
Twisted's HTTP channel only has an idle timeout (12 hours under daphne) that every byte
resets, so a client trickling a header line a few seconds apart, or sending a WebSocket
upgrade with a ``Content-Length`` it never sends, held its connection forever (daphne's own
WebSocket handshake timeout starts only once the whole request is in). ``time_out_slow_requests``
gives every request a deadline: its request line and headers, and for an upgrade the whole
request, must arrive within ``HTTP_HEADERS_TIMEOUT`` seconds of the connection opening or of the
previous response on a kept-alive connection; otherwise the server answers 408 and closes. The
idle timeout becomes ``HTTP_IDLE_TIMEOUT`` (it also bounds the gaps in a request body, which may
legitimately take long: a large upload).

Memory per socket
-----------------
Daphne hands every connection's frames to the application through an ``asyncio.Queue`` made
per connection, empty nearly all the time; ``lean_daphne_inboxes`` makes it a
``core.lean_queue.LeanQueue`` (a few hundred bytes idle instead of ~3 KiB). The HTTP channel
an upgrade came through lets go of the connection (``_let_go_if_upgraded``), and the
WebSocket protocol's options live on its class rather than on every connection.
"""
from __future__ import annotations

import inspect
from typing import Any


class _LeanConnection:
    """Autobahn gives every connection an (empty) deque for the chunks of a chopped send, which
    daphne never makes: a ``Lane`` holds them as well, at a tenth of the size."""

    def _connectionMade(self) -> None:
        super()._connectionMade()  # type: ignore[misc]
        from core.lean_queue import Lane

        self.send_queue = Lane()


def cap_daphne_frames(max_bytes: int) -> None:
    try:
        from daphne import server, ws_protocol
    except ImportError:  # not served by daphne (e.g. tests with the communicator)
        return
    base = ws_protocol.WebSocketFactory
    if getattr(server.WebSocketFactory, "capped_bytes", None) == max_bytes:
        return

    class CappedWebSocketFactory(base):  # type: ignore[misc, valid-type]
        capped_bytes = max_bytes

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # failByDrop=False: refuse with a close frame (1009) rather than cutting the TCP connection.
            self.setProtocolOptions(
                maxMessagePayloadSize=max_bytes, maxFramePayloadSize=max_bytes, failByDrop=False
            )

        def setProtocolOptions(self, *args: Any, **kwargs: Any) -> None:
            super().setProtocolOptions(*args, **kwargs)
            # Each connection copies the factory's options (some 30) into its own attributes,
            # unless its class has them: a protocol class holding the current options keeps
            # them out of every connection's __dict__.
            # (A function, such as perMessageCompressionAccept, stays a plain function: static.)
            protocol = ws_protocol.WebSocketProtocol
            options = {name: getattr(self, name) for name in protocol.CONFIG_ATTRS}
            self.protocol = type(protocol.__name__, (_LeanConnection, protocol), {
                name: staticmethod(value) if inspect.isfunction(value) else value for name, value in options.items()})

    server.WebSocketFactory = CappedWebSocketFactory


def time_out_slow_requests(headers_timeout: float, idle_timeout: float) -> None:
    try:
        from daphne import http_protocol, server, ws_protocol
        from twisted.web import http
    except ImportError:  # not served by daphne
        return
    if getattr(server.HTTPFactory, "deadlines", None) == (headers_timeout, idle_timeout):
        return

    class DeadlineChannel(http.HTTPChannel):
        """An HTTP channel whose next request must arrive (headers; an upgrade: all of it) in time."""

        _deadline: Any = None

        def connectionMade(self) -> None:
            super().connectionMade()
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.callLater(headers_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                if self._deadline.active():
                    self._deadline.cancel()
                self._deadline = None

        def setTimeout(self, period: Any) -> Any:
            # Twisted turns the idle timeout off where this channel stops owning the connection's
            # timing (a request being handled, an HTTP/2 switch, a lost connection): so does the deadline.
            if period is None:
                self._disarm()
            return super().setTimeout(period)

        def _too_slow(self) -> None:
            self._deadline = None
            transport: Any = self.transport
            if transport is not None:
                transport.write(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                transport.loseConnection()

        def allHeadersReceived(self) -> None:
            super().allHeadersReceived()
            request = self.requests[-1] if self.requests else None
            if request is not None and not request.requestHeaders.hasHeader(b"upgrade"):
                self._disarm()  # the body, if any, is bounded by the idle timeout

        def allContentReceived(self) -> None:
            # An upgrade hands the connection to the WebSocket protocol in here: disarm first.
            self._disarm()
            super().allContentReceived()
            self._let_go_if_upgraded()

        def _let_go_if_upgraded(self) -> None:
            """Once daphne has handed the connection to its WebSocket protocol, this channel
            stays registered as the transport's producer, and keeps the upgrade request alive
            with it (headers, body buffer: ~3 KiB a socket) for the socket's whole life. For
            an upgraded connection its pause and resume do nothing (they reach only a response
            producer, none here, and the network only between requests, and the upgrade request
            never ends), so it is unregistered."""
            transport: Any = self.transport
            if transport is None or getattr(transport, "producer", None) is not self:
                return
            protocol = getattr(transport, "wrappedProtocol", None) or getattr(transport, "protocol", None)
            if isinstance(protocol, ws_protocol.WebSocketProtocol):
                transport.unregisterProducer()

        def requestDone(self, request: Any) -> None:
            super().requestDone(request)
            if self.persistent and self.transport is not None:
                self._arm()  # the next request on a kept-alive connection

        def connectionLost(self, reason: Any = None) -> None:
            self._disarm()
            super().connectionLost(reason)

    class DeadlineHTTPFactory(http_protocol.HTTPFactory):
        deadlines = (headers_timeout, idle_timeout)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.timeOut = idle_timeout

        def protocol(self) -> Any:
            return http._GenericHTTPChannelProtocol(DeadlineChannel())

    server.HTTPFactory = DeadlineHTTPFactory


def lean_daphne_inboxes() -> None:
    try:
        from daphne import server
    except ImportError:  # not served by daphne
        return
    if getattr(server.Server.create_application, "lean", False):
        return
    import asyncio
    from functools import partial

    from core.lean_queue import LeanQueue

    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        """daphne's ``Server.create_application``, with a ``LeanQueue`` as the inbox."""
        assert "application_instance" not in self.connections[protocol]
        input_queue = LeanQueue()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol),
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop(),
        )
        return input_queue

    create_application.lean = True  # type: ignore[attr-defined]
    server.Server.create_application = create_application
