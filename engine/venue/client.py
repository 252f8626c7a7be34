"""python-binance 1.0.37 adapted to our needs: our endpoints, header capture, sockets we can close.

This is where secrets are unwrapped (DESIGN.md 4.5): `build_client` is the only caller of
`get_secret_value()` in the venue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

import aiohttp
from binance import AsyncClient
from binance.exceptions import BinanceAPIException, BinanceWebsocketUnableToConnect
from binance.ws.constants import WSListenerState
from binance.ws.reconnecting_websocket import ReconnectingWebsocket
from binance.ws.websocket_api import WebsocketAPI

from engine.core import failpoints
from engine.venue.budget import RateBudget
from engine.venue.endpoints import Credentials, Endpoints

log = logging.getLogger(__name__)

RECV_WINDOW_MS = 5000
# Events for a subscription whose queue is not registered yet (the reply to the subscribe and the
# first event can arrive in one read) wait here, bounded, until the queue is registered.
_PENDING_EVENTS_MAX = 1000


class VenueClient(AsyncClient):  # type: ignore[misc]  # python-binance has no type hints
    """AsyncClient pointed at `Endpoints` (BINANCE.md 1.1 recipe B), recording every response's
    rate-limit headers into a RateBudget."""

    REQUEST_RECVWINDOW = RECV_WINDOW_MS

    def __init__(
        self,
        endpoints: Endpoints,
        budget: RateBudget,
        *,
        api_key: str,
        api_secret: str | None,
        private_key: str | None,
        request_timeout: float,
        session_params: dict[str, Any] | None = None,
    ) -> None:
        # testnet/demo stay False: those flags override the URLs set below.
        super().__init__(
            api_key=api_key,
            api_secret=api_secret,
            private_key=private_key,
            session_params=session_params,
            verbose=False,
        )
        self.budget = budget
        self.endpoints = endpoints
        self.REQUEST_TIMEOUT = request_timeout
        self.API_URL = endpoints.rest_url
        # Without sapi (testnet) any sapi call would go to an unrelated default host: aim it at
        # the REST host, where it fails visibly.
        self.MARGIN_API_URL = endpoints.sapi_url or endpoints.rest_url
        self.ws_api = TrackedWebsocketAPI(url=endpoints.ws_api_url)

    def _init_session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession = super()._init_session()
        # aiohttp silently re-sends DELETE (and GET) once when a reused connection drops before
        # the reply; a resent cancel after a lost response turns a success into -2011 "Unknown
        # order sent". One request, one outcome: the venue classifies it as Unknown instead.
        session._retry_connection = False
        return session

    async def _handle_response(self, response: aiohttp.ClientResponse) -> Any:
        code: int | None = None
        if response.status in (418, 429):
            code = _error_code(await response.text())
        # This response's own headers: concurrent requests never race on `self.response`.
        self.budget.record(response.status, response.headers, code)
        return await super()._handle_response(response)

    async def close_connection(self) -> None:
        if self.session:
            await self.session.close()
        api = self.ws_api
        if isinstance(api, TrackedWebsocketAPI):
            await api.aclose()


def build_client(
    endpoints: Endpoints,
    credentials: Credentials,
    budget: RateBudget,
    *,
    request_timeout: float,
    session_params: dict[str, Any] | None = None,
) -> VenueClient:
    """Create the client; call inside the running event loop (its aiohttp session binds to it)."""
    asyncio.get_running_loop()
    secret = credentials.api_secret
    pem = credentials.private_key_pem
    client = VenueClient(
        endpoints,
        budget,
        api_key=credentials.api_key.get_secret_value(),
        api_secret=secret.get_secret_value() if secret is not None else None,
        private_key=pem.get_secret_value() if pem is not None else None,
        request_timeout=request_timeout,
        session_params=failpoints.session_params(session_params),  # crash tests' wire hooks
    )
    # Verbose mode logs request headers (the API key) and bodies: never allowed (S11).
    if client.verbose is not False:
        raise RuntimeError("python-binance must never run in verbose mode")
    return client


class _ReadLoopTracking:
    """Remembers the task running python-binance's read loop, so that closing can cancel it
    instead of waiting up to 10 s (or ~45 s mid-reconnect, BINANCE.md 3) for it to notice."""

    _read_task: asyncio.Task[Any] | None = None
    _aclosed = False

    async def _read_loop(self) -> None:
        self._read_task = asyncio.current_task()
        await super()._read_loop()  # type: ignore[misc]

    async def connect(self) -> None:
        # Once closed, never again: a late request must not resurrect an unsupervised socket.
        if self._aclosed:
            raise BinanceWebsocketUnableToConnect("Connection failed: closed by the venue")
        await super().connect()  # type: ignore[misc]

    async def _cancel_read_loop(self) -> bool:
        """Stop the read loop; False when the socket was already closed (close once)."""
        if self._aclosed:
            return False
        self._aclosed = True
        # The loop leaves at its next turn once EXITING (also if it has not started yet);
        # cancelling ends a wait in progress. On Python 3.11 a cancel landing just as an inner
        # `wait_for` completes is swallowed, hence the repeat.
        self.ws_state = WSListenerState.EXITING
        task = self._read_task
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.05)
        self._handle_read_loop = None
        return True


class TrackedWebsocketAPI(_ReadLoopTracking, WebsocketAPI):  # type: ignore[misc]
    """WebsocketAPI whose read loop survives frames python-binance would choke on, and which can
    be closed promptly.

    - events for a subscription not registered yet are held (bounded) until it is;
    - `{"event":{"e":"serverShutdown"}}` (no subscription id) goes to every subscription, so the
      supervisor can move before the server closes;
    - a late error reply to a request that already timed out is logged instead of ending the read
      loop (python-binance raises it inside the loop).
    Nothing reads the library's own queue, so nothing is put there (it would fill up and end the
    read loop at 100 items).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url=url)
        self._pending: deque[tuple[Any, dict[str, Any]]] = deque(maxlen=_PENDING_EVENTS_MAX)

    def register_subscription_queue(self, subscription_id: str, queue: asyncio.Queue[Any]) -> None:
        super().register_subscription_queue(subscription_id, queue)
        held = [event for sid, event in self._pending if sid == subscription_id]
        if held:
            kept = [(sid, ev) for sid, ev in self._pending if sid != subscription_id]
            self._pending.clear()
            self._pending.extend(kept)
            for event in held:
                queue.put_nowait(event)

    def _handle_message(self, msg: Any) -> None:
        parsed = ReconnectingWebsocket._handle_message(self, msg)
        if not isinstance(parsed, dict):
            return None
        event = parsed.get("event")
        if isinstance(event, dict) and "id" not in parsed:
            sid = parsed.get("subscriptionId")
            if sid is None:
                for queue in self._subscription_queues.values():
                    queue.put_nowait(event)
            elif sid in self._subscription_queues:
                self._subscription_queues[sid].put_nowait(event)
            else:
                self._pending.append((sid, event))
            return None
        try:
            super()._handle_message(msg)
        except BinanceAPIException as exc:
            log.warning("WebSocket API error reply to no pending request: code %s", exc.code)
        return None

    async def aclose(self) -> None:
        """Close now: cancel the read loop, fail pending requests, close the socket."""
        if await self._cancel_read_loop():
            await WebsocketAPI.__aexit__(self, None, None, None)


class StreamSocket(_ReadLoopTracking, ReconnectingWebsocket):  # type: ignore[misc]
    """A market-stream socket (`<stream_url>stream?streams=a/b`) that can be closed promptly."""

    async def aclose(self) -> None:
        if await self._cancel_read_loop():
            await ReconnectingWebsocket.__aexit__(self, None, None, None)


def _error_code(text: str) -> int | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
