"""``GatewayConsumer``: the native socket at ``/ws/?token=TOKEN``.

Frames (docs/protocol.md):

* request ``{"id": 7, "method": "users.info", "params": {...}}``
* reply ``{"id": 7, "code": 200, "data": ...}`` or ``{"id": 7, "code": 4xx, "msg": "..."}``
* push ``{"event": "accounts.onKicked", "data": {...}}``

Close codes: 4001 bad or expired token, 4002 kicked by a login elsewhere, 4003 logged out,
4029 too many sockets (of this user, from this address, or anonymous: core.gateway.limits).
"""
from __future__ import annotations

import asyncio
import logging
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from accounts import presence
from core import contract, degrade, fanout, jsonwire, logs, metrics, realtime, resync
from core.channel_layer import Forwarded
from core.degrade import REDIS_ERRORS
from core.exceptions import BUSY_MSG, UNAVAILABLE_MSG, ApplicationError, database_unavailable
from core.gateway import batching, departures, limits, registry, threads
from core.gateway.ratelimit import TokenBucket
from core.gateway.threads import run_sync
from core.realtime import user_group

log = logging.getLogger(__name__)

CLOSE_BAD_TOKEN = 4001
CLOSE_KICKED = 4002
CLOSE_LOGGED_OUT = 4003
CLOSE_TOO_MANY_SOCKETS = 4029
CLOSE_UNAVAILABLE = 4503  # the database is away, or the server overloaded: reconnect with a back-off
CLOSE_RESYNC = 1012  # "service restart": too much to re-deliver; reconnect and sync


dumps = jsonwire.dumps


def _client_ip(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _forget_headers(scope: dict[str, Any]) -> None:
    """Empty the handshake's header list once the socket is open: nothing reads it afterwards
    (the origin check and the token come before), and it is the same list the server and the
    routing layers' scopes hold for the socket's life (~1 KiB a socket)."""
    headers = scope.get("headers")
    if isinstance(headers, list):
        headers.clear()


def _authenticate(token: str) -> Any:
    from accounts.selectors import session_authenticate

    return session_authenticate(token)


def _open(token: str, channel: str, address: str | None) -> tuple[Any, str | None]:
    """The session of ``token`` (None: bad token) and, for a good one, which socket cap refuses
    this socket (None: admitted and counted). One thread hop for both."""
    session = _authenticate(token)
    if session is None:
        return None, None
    return session, limits.socket_open(channel=channel, user_id=session.user_id, address=address)


class GatewayConsumer(AsyncWebsocketConsumer):
    """Authenticates on connect, joins ``user.<id>``, dispatches methods from the registry."""

    # Without a token the socket is anonymous (public methods only); False: closed with 4001.
    anonymous_allowed = True
    user: Any = None
    session_id: int | None = None
    session_expires: float = 0.0
    joined_at: float = 0.0
    seen_at: float = 0.0
    counted: bool = False  # holds a place under the socket caps (given back on disconnect)
    user_bucket: TokenBucket | None = None
    rejoin: asyncio.Task[None] | None = None  # retries the join while Redis is away
    joined_wall: float = 0.0  # when the logged-in socket opened (wall time; core.resync)
    seen: array[int] | None = None  # ring of the last resync.SEEN_IDS message ids it received
    seen_next: int = 0
    metrics_protocol = "native"  # the protocol label of this socket's metrics
    metered: bool = False  # counted in the open sockets metric

    inbox: asyncio.Queue[Any] | None = None  # the frames the server has not handed over yet

    forwarder: Any = None  # the channel's stand-in queue while its messages come to the inbox

    inflight: deque[asyncio.Task[None]] | None = None  # pipelined calls not answered yet, oldest first

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # daphne hands frames over from a queue per socket (``receive`` is its ``get``); its
        # length tells how long this socket's frames wait behind each other (overload).
        inbox = getattr(receive, "__self__", None)
        self.inbox = inbox if isinstance(inbox, asyncio.Queue) else None
        layer = get_channel_layer(self.channel_layer_alias)
        if self.inbox is None or not hasattr(layer, "attach"):
            await super().__call__(scope, receive, send)
            return
        # channels' own loop waits on the client and on the channel layer in two tasks joined by
        # asyncio.wait, the layer's messages in a queue of the socket's channel. Here the layer
        # puts them into daphne's inbox instead: one queue, awaited by this task, messages
        # dispatched one at a time in the order they arrived, as before (core.channel_layer).
        self.scope, self.channel_layer, self.base_send = scope, layer, send
        self.channel_name = await layer.new_channel()
        self.forwarder = layer.attach(self.channel_name, self.inbox)
        try:
            for _ in range(10**15):  # bounded; ends with the socket (StopConsumer)
                message = await receive()
                if isinstance(message, Forwarded):
                    message = layer.unwrap(self.forwarder, message)
                    if message is None:
                        continue
                await self.dispatch(message)
        except StopConsumer:
            pass
        finally:
            await layer.detach(self.channel_name)

    def backlog(self) -> int:
        """The client's frames waiting in the inbox (not the pushes waiting there too)."""
        if self.inbox is None:
            return 0
        return self.inbox.qsize() - (self.forwarder.pending if self.forwarder is not None else 0)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first awaits aclose_old_connections(), a hop to ONE shared
        # thread for every frame and every push of every socket in the process: under load
        # all sockets queue there (measured: pushes seconds late). This consumer does no
        # database work on the event loop; run_sync closes stale connections in its own
        # thread, so the hop buys nothing here.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        # The socket's log records carry its id (the consumer's handlers share this context).
        logs.current_id.set(logs.new_id("ws-"))
        loop = asyncio.get_running_loop()
        realtime.bind_loop(loop)
        departures.bind_loop(loop)
        resync.start(loop)
        fanout.start(loop)
        threads.watch(loop)
        self.bucket = TokenBucket(settings.WS_RATE_PER_SECOND, settings.WS_RATE_BURST)
        token = (parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
        address = _client_ip(self.scope)
        if token or not self.anonymous_allowed:
            if threads.busy():  # overloaded: the client reconnects after a back-off
                await self.accept()
                await self.close(code=CLOSE_UNAVAILABLE)
                return
            try:
                session, refused = await run_sync(_open)(token, self.channel_name, address)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                log.warning("socket refused: database unavailable: %s", exc)
                await self.accept()
                await self.close(code=CLOSE_UNAVAILABLE)
                return
            if session is None:
                # Accept first: a close code can only be sent on an open socket.
                await self.accept()
                await self.close(code=CLOSE_BAD_TOKEN)
                return
        elif limits.shared():
            refused = await run_sync(limits.socket_open)(channel=self.channel_name, user_id=None, address=address)
        else:
            refused = limits.socket_open(channel=self.channel_name, user_id=None, address=address)
        if refused is not None:
            log.info("socket refused: too many %s sockets (%s)", refused, address)
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.counted = True
        if token or not self.anonymous_allowed:
            self.user = session.user
            self.session_id = session.pk
            self.session_expires = session.expires_at.timestamp()
            self.user_bucket = limits.user_bucket(self.user.pk)
            self.joined_wall = time.time()
            # Join before accepting: once the client sees the socket open, no push is missed.
            await self._join()
            resync.register(self)
            fanout.register(self, self.user.pk)
            await fanout.listening(settings.REDIS_RETRY_SECONDS)  # the first socket of a process
        # Without a token the socket is anonymous: public methods only, the rest answer 401.
        await self.accept()
        self.metered = True
        metrics.SOCKETS.labels(self.metrics_protocol).inc()
        _forget_headers(self.scope)

    async def _join(self) -> None:
        """Join the user's group and register presence. While Redis is away the socket stays
        open (requests that only need the database keep working) and a background retry
        joins as soon as Redis answers again."""
        if not await self._try_join():
            self._start_rejoin(wait=True)

    def _start_rejoin(self, *, wait: bool) -> None:
        if self.rejoin is None or self.rejoin.done():
            self.rejoin = asyncio.get_running_loop().create_task(self._rejoin(wait))

    async def _try_join(self) -> bool:
        """True when joined (or nothing is left to join: the login ended meanwhile)."""
        user = self.user
        if user is None:
            return True
        self.joined_at = self.seen_at = time.monotonic()
        if degrade.skipping():
            return False
        try:
            await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        except REDIS_ERRORS as exc:
            degrade.degraded("socket groups", exc)
            return False
        return bool(await run_sync(presence.socket_connected)(user_id=user.pk, socket=self.channel_name))

    async def _rejoin(self, wait: bool) -> None:
        for _ in range(100_000):  # bounded; ends with the socket or its login
            if wait:
                await asyncio.sleep(settings.REDIS_RETRY_SECONDS)
            wait = True
            if await self._try_join():
                return

    async def disconnect(self, code: int) -> None:
        # Returns at once: the group, presence and the shared socket counts are settled in
        # batches (core.gateway.departures), so a mass disconnect is not cut short.
        if self.rejoin is not None:
            self.rejoin.cancel()
        if self.metered:
            self.metered = False
            metrics.SOCKETS.labels(self.metrics_protocol).dec()
        resync.forget(self)
        fanout.forget(self)
        user_id = self.user.pk if self.user is not None else None
        release = anonymous = False
        if self.counted:
            self.counted = False
            anonymous = self.user_bucket is None
            if limits.shared():
                release = True
            else:  # no I/O: give the place back now, a reconnect may follow at once
                limits.socket_close(channel=self.channel_name, anonymous=anonymous)
        if user_id is not None or release:
            departures.leave(departures.Departure(self.channel_name, user_id, release, anonymous))

    def _leave(self, user_id: int) -> None:
        resync.forget(self)
        fanout.forget(self)
        departures.leave(departures.Departure(self.channel_name, user_id, release=False, anonymous=False))

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    def _saw(self, message_id: int) -> None:
        if self.seen is None:
            self.seen = array("q", bytes(8 * resync.SEEN_IDS))
        self.seen[self.seen_next % resync.SEEN_IDS] = message_id
        self.seen_next += 1

    async def replay(self, pushes: list[tuple[int, str]], cap: int, complete: bool) -> int:
        """Re-deliver pushes that may have been lost, but none this socket already received;
        how many it sent. Owed more than ``cap``: closed, the client reconnects and syncs."""
        seen = set(self.seen or ())
        unseen = [(message_id, text) for message_id, text in pushes if message_id not in seen]
        if self.user is None or self._expired():
            return 0
        if len(unseen) > cap or not complete:
            await self._end_session(CLOSE_RESYNC)
            return 0
        for sent, (message_id, text) in enumerate(unseen):
            if self.user is None:
                return sent
            self._saw(message_id)
            await self._deliver(text)
        return len(unseen)

    # --- inbound frames --------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        admitted = await self._admit(text_data)
        if admitted is None:
            return
        frame, allowed = admitted
        rid = frame.get("id")
        if isinstance(rid, bool) or (rid is not None and not isinstance(rid, (int, str))):
            await self._refuse(None, allowed, 400, "id must be an integer or a string")
            return
        if not allowed:
            await self._reply_error(rid, 429, "rate limit exceeded; slow down")
            return
        name = frame.get("method")
        method = registry.get(name) if isinstance(name, str) else None
        if method is None:
            await self._reply_error(rid, 404, f"unknown method {name!r}" if name else "method is required")
            return
        if method.auth:
            if self.user is None:
                await self._reply_error(rid, 401, "not logged in")
                return
            if self._expired():
                await self._reply_error(rid, 401, "session expired; log in again")
                await self._end_session(CLOSE_BAD_TOKEN)
                return
        await self._keep_alive()
        await self._dispatch(rid, method, frame.get("params"))

    async def _admit(self, text_data: str | None) -> tuple[dict[str, Any], bool] | None:
        """The frame as a JSON object and whether the rate limit allows it; None when refused
        (binary, too large, malformed: answered here through ``_reply_error``)."""
        metrics.frames_in(self.metrics_protocol).inc()
        # Every frame, well-formed or not, spends a token of the socket and of its user (over
        # all of the user's sockets in this process): a flood of junk is limited too.
        allowed = self.bucket.take() and (self.user_bucket is None or self.user_bucket.take())
        limit = settings.WS_MAX_FRAME_BYTES
        if text_data is None:
            await self._refuse(None, allowed, 400, "binary frames are not supported; send JSON text")
            return None
        if len(text_data) > limit or (len(text_data) * 4 > limit and len(text_data.encode()) > limit):
            await self._refuse(None, allowed, 413, f"frame larger than {limit} bytes refused")
            return None
        try:
            frame = jsonwire.loads(text_data)
        except jsonwire.JSONLimitError as exc:
            await self._refuse(None, allowed, 400, f"malformed JSON: {exc}")
            return None
        except ValueError:
            await self._refuse(None, allowed, 400, "malformed JSON")
            return None
        if not isinstance(frame, dict):
            await self._refuse(None, allowed, 400, "a frame must be a JSON object")
            return None
        return frame, allowed

    def _expired(self) -> bool:
        return time.time() >= self.session_expires

    async def _keep_alive(self) -> None:
        """A logged-in socket that is heard from stays in its group and counted online."""
        if self.user is None:
            return
        now = time.monotonic()
        if now - self.joined_at > settings.WS_GROUP_REFRESH_SECONDS:
            # Keep the group membership from expiring on a long-lived socket, off the request's
            # path (a hung Redis must not delay the reply).
            self.joined_at = now
            self._start_rejoin(wait=False)
        elif now - self.seen_at > settings.PRESENCE_TOUCH_SECONDS:
            self.seen_at = now
            await run_sync(presence.socket_seen)(user_id=self.user.pk, socket=self.channel_name)

    async def _refuse(self, rid: Any, allowed: bool, code: int, msg: str) -> None:
        if allowed:
            await self._reply_error(rid, code, msg)
        else:
            await self._reply_error(rid, 429, "rate limit exceeded; slow down")

    async def _dispatch(self, rid: Any, method: registry.RpcMethod, params: Any) -> None:
        ctx = registry.RpcContext(
            user=self.user, session_id=self.session_id, channel_name=self.channel_name,
            ip=_client_ip(self.scope),
        )
        if self.inflight and not method.pipelined:
            await self._drain()  # any other call comes after the socket's pipelined ones, as sent
        if method.is_async:
            await self._answer(rid, method, lambda: method.handler(ctx, method.admit(ctx, params)))
            return
        if threads.busy(self.backlog()) or (method.fast is not None and batching.overdue()):
            await self._reply_error(rid, 503, BUSY_MSG)  # refused before anything is done: retrying is safe
            return
        depth = settings.WS_PIPELINE_DEPTH
        if method.pipelined and depth > 1:
            await self._pipeline(rid, method, ctx, params, depth)
            return
        await self._answer(rid, method, lambda: self._call(method, ctx, params))

    async def _call(self, method: registry.RpcMethod, ctx: registry.RpcContext, params: Any,
                    turn: Callable[[], Awaitable[None]] | None = None) -> Any:
        """The fast path if it answers, else the ordinary handler; a pipelined call (``turn``)
        goes the ordinary way only once the socket's earlier calls are done."""
        result = None
        if method.fast is not None:
            result = await (method.fast(ctx, params) if turn is None else method.fast(ctx, params, turn=turn))
        if result is None:
            if turn is not None:
                await turn()
            result = await run_sync(method.invoke_sync)(ctx, params)
        return result

    async def _pipeline(self, rid: Any, method: registry.RpcMethod, ctx: registry.RpcContext, params: Any,
                        depth: int) -> None:
        """Start the call and go on reading the socket: consecutive sends join the same batches
        instead of one batch each. At most ``depth`` run at once; replies keep the calls' order."""
        if self.inflight is None:
            self.inflight = deque()
        while len(self.inflight) >= depth:
            await asyncio.wait({self.inflight[0]})
        earlier = self.inflight[-1] if self.inflight else None

        async def turn() -> None:
            if earlier is not None:
                await asyncio.wait({earlier})

        task = asyncio.get_running_loop().create_task(
            self._answer(rid, method, lambda: self._call(method, ctx, params, turn), after=turn))
        self.inflight.append(task)
        task.add_done_callback(self.inflight.remove)

    async def _drain(self) -> None:
        """Wait until the socket's pipelined calls are answered."""
        while self.inflight:
            await asyncio.wait({self.inflight[-1]})

    async def _answer(self, rid: Any, method: registry.RpcMethod, call: Callable[[], Awaitable[Any]],
                      after: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``call`` and answer the client with its result or error (once ``after`` returns)."""
        started = time.monotonic()
        error: tuple[int, str] | None = None
        try:
            result = await call()
            if settings.RPC_CHECK_REPLIES:  # the tests: a reply that breaks its schema is a 500
                contract.check_reply(method.name, result)
        except ApplicationError as refused:
            error = method.wire_code(refused), refused.message
        except Exception as exc:
            if database_unavailable(exc):  # down or restarting: answer at once, the client retries
                log.warning("socket method %s: database unavailable: %s", method.name, exc)
                error = 503, UNAVAILABLE_MSG
            else:
                log.exception("socket method %s failed", method.name)
                error = 500, "internal error"
        if after is not None:
            await after()
        metrics.observe_call(method.name, 200 if error is None else error[0], "ws", started)
        if error is not None:
            await self._reply_error(rid, *error)
            return
        for message_id in resync.message_ids(result):  # the sender has its own message
            self._saw(message_id)
        await self.send(text_data=dumps({"id": rid, "code": 200, "data": {} if result is None else result}))

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        if text_data is not None or bytes_data is not None:
            metrics.frames_out(self.metrics_protocol).inc()
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            # The client went away while a reply or push was on its way (daphne raises instead
            # of dropping it): nothing is left to tell it; the disconnect is handled as usual.
            log.debug("socket %s closed before a frame could be sent", self.channel_name)

    async def _reply_error(self, rid: Any, code: int, msg: str) -> None:
        await self.send(text_data=dumps({"id": rid, "code": code, "msg": msg}))

    # --- channel-layer messages ------------------------------------------------------
    async def realtime_event(self, message: dict[str, Any]) -> None:
        if self.user is None:
            return
        if self._expired():
            await self._end_session(CLOSE_BAD_TOKEN)  # an expired login receives nothing more
            return
        if message.get("exclude") == self.channel_name:
            return
        if message.get("mid") is not None:
            self._saw(message["mid"])
        await self._deliver(message["text"])

    async def _deliver(self, text: str) -> None:
        """Send a push (``{"event", "data"}`` as JSON text); other protocols translate it."""
        await self.send(text_data=text)

    async def session_end(self, message: dict[str, Any]) -> None:
        if self.session_id is None or self.session_id not in message["sessions"]:
            return
        if message.get("event"):
            await self._deliver(dumps(message["event"]))
        await self._end_session(message["close_code"])

    async def _end_session(self, close_code: int) -> None:
        if self.rejoin is not None:
            self.rejoin.cancel()
        user = self.user
        self.user, self.session_id = None, None
        if user is not None:
            self._leave(user.pk)
        await self.close(code=close_code)
