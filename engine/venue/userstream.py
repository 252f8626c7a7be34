"""The user data stream over the WebSocket API, kept subscribed (python-binance is not).

python-binance 1.0.37 reconnects the WebSocket API after a drop but never subscribes again, so
events silently stop (BINANCE.md 3). This supervisor owns `client.ws_api`: for every connection it
installs a fresh `TrackedWebsocketAPI`, enters `bm.user_socket()` (which sends
`userDataStream.subscribe.signature`), hands each event to `on_event`, and on an error frame,
`eventStreamTerminated`, `serverShutdown`, a closed read loop, silence, or the connection's age,
throws the whole connection away and subscribes again on a new one. Every re-subscription is
reported as a StreamGap: events in between are lost and only REST reconciliation recovers them.

Events are handed over as the raw Binance dicts (`executionReport`, `outboundAccountPosition`,
`balanceUpdate`, `listStatus`, `externalLockUpdate`, ...), not parsed here: the engine parses them
with `engine.venue.parse` next to where it journals them, so a malformed event becomes an alarm in
the engine instead of a broken stream, and event kinds without a report type still reach it.
The first subscription is reported as CONNECTED without a gap: the engine's start-up
reconciliation must run after it.

The user stream has no heartbeat of its own, so silence past the stall bound is first answered by
a WebSocket API `ping` on the same connection (weight 1 per silent period): a reply keeps it, no
reply within `probe_timeout_s` is a stall (gap, reconnect).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from binance import BinanceSocketManager
from binance.ws.keepalive_websocket import KeepAliveWebsocket

from engine.venue.client import TrackedWebsocketAPI, VenueClient
from engine.venue.health import StreamGap, StreamStatus
from engine.venue.supervisor import Reconnect, StreamSupervisor, SupervisorConfig
from engine.venue.timing import Clock

log = logging.getLogger(__name__)

# Frames that end a subscription: python-binance's error dicts (drop, give-up), Binance's own.
_ENDING = {
    "error": "connection error",
    "eventStreamTerminated": "subscription terminated by the exchange",
    "serverShutdown": "server shutdown announced",
}


class UserStreamSupervisor(StreamSupervisor[KeepAliveWebsocket]):
    """Keeps the account's user data stream subscribed; see the module docstring."""

    stream_name = "user"

    def __init__(
        self,
        client: VenueClient,
        *,
        on_event: Callable[[dict[str, Any]], None],
        clock: Clock,
        rng: random.Random,
        config: SupervisorConfig | None = None,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_gap: Callable[[StreamGap], None] | None = None,
        probe_timeout_s: float | None = None,
    ) -> None:
        super().__init__(
            clock=clock,
            rng=rng,
            config=config or SupervisorConfig(),
            on_status=on_status,
            on_gap=on_gap,
        )
        self._client = client
        self._on_event = on_event
        self._probe_timeout_s = (
            self._config.probe_timeout_s if probe_timeout_s is None else probe_timeout_s
        )

    async def _open(self) -> KeepAliveWebsocket:
        api = TrackedWebsocketAPI(url=self._client.endpoints.ws_api_url)
        api.TIMEOUT = self._config.connect_timeout_s
        self._client.ws_api = api
        sock = BinanceSocketManager(self._client).user_socket()
        try:
            await sock.__aenter__()
        except BaseException:
            await self._close(sock, graceful=False)
            raise
        return sock

    async def _recv(self, handle: KeepAliveWebsocket) -> Any:
        return await handle.recv()

    def _handle_frame(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            log.warning("user stream: ignoring a non-object frame")
            return
        kind = frame.get("e")
        if kind in _ENDING:
            detail = frame.get("type") or frame.get("m") or ""
            raise Reconnect(f"{_ENDING[kind]} {detail}".strip(), planned=kind == "serverShutdown")
        self._mark_event()
        self._on_event(frame)

    async def _still_alive(self, handle: KeepAliveWebsocket) -> bool:
        """A quiet account sends nothing for hours: ask the same connection for a pong.

        The reply must come on the connection that carries the subscription (python-binance would
        otherwise connect a new, unsubscribed one to send the ping)."""
        api = self._client.ws_api
        conn = api.ws
        if conn is None:
            return False
        try:
            await asyncio.wait_for(self._client.ws_ping(), self._probe_timeout_s)
        except Exception:
            return False
        return self._client.ws_api is api and api.ws is conn

    async def _close(self, handle: KeepAliveWebsocket, *, graceful: bool) -> None:
        api = self._client.ws_api
        try:
            if not graceful:
                # The subscription died with its connection: do not send an unsubscribe, which
                # would make python-binance open a new connection just for it.
                await self._detach(handle)
            await handle.__aexit__(None, None, None)
        finally:
            if isinstance(api, TrackedWebsocketAPI):
                await api.aclose()

    async def _detach(self, sock: KeepAliveWebsocket) -> None:
        sid = sock._subscription_id
        if sid is not None:
            self._client.ws_api.unregister_subscription_queue(sid)
            sock._subscription_id = None
