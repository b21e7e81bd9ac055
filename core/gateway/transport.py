"""Transport-level limits daphne does not expose.

Daphne leaves autobahn's ``maxMessagePayloadSize`` unlimited, so a client could make the
server buffer a frame of any size before the gateway's ``WS_MAX_FRAME_BYTES`` check sees
it. ``cap_daphne_frames`` makes daphne's socket factory refuse (close code 1009, "message
too big") any message over ``WS_TRANSPORT_MAX_BYTES``; frames between the two limits still
get the gateway's polite 413 reply. It runs when ``config.asgi`` is imported, which daphne
does before it builds its factories.
"""
from __future__ import annotations

from typing import Any


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

    server.WebSocketFactory = CappedWebSocketFactory
