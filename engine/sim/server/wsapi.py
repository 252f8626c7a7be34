"""The WebSocket API at /ws-api/v3: user data stream subscriptions, and REST's methods."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from engine.sim.core.errors import SimError
from engine.sim.server.auth import ws_signature_payload
from engine.sim.server.connection import FrameConnection
from engine.sim.server.context import SimContext
from engine.sim.server.rest import (
    ENDPOINTS,
    MSG_UNKNOWN,
    Endpoint,
    authorize,
    json_response,
    run_endpoint,
)
from engine.sim.server.userstream import Subscription

log = logging.getLogger(__name__)

# Binance pings every 20 s; aiohttp closes the socket if no pong comes back within half that.
PING_INTERVAL_S = 20.0
CONNECT_WEIGHT = 2

# WebSocket API methods that are REST endpoints under another name: same parameters, weights,
# permissions and answers.
REST_METHODS: dict[str, tuple[str, str]] = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.book": ("GET", "/api/v3/ticker/bookTicker"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "account.status": ("GET", "/api/v3/account"),
    "account.rateLimits.orders": ("GET", "/api/v3/rateLimit/order"),
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "order.cancelReplace": ("POST", "/api/v3/order/cancelReplace"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "allOrders": ("GET", "/api/v3/allOrders"),
    "myTrades": ("GET", "/api/v3/myTrades"),
    "orderList.place.oco": ("POST", "/api/v3/orderList/oco"),
    "orderList.status": ("GET", "/api/v3/orderList"),
    "orderList.cancel": ("DELETE", "/api/v3/orderList"),
    "openOrderLists.status": ("GET", "/api/v3/openOrderList"),
}


@dataclass(frozen=True)
class Answer:
    """A method's result, what to do once it is queued, and whose order counts to report."""

    result: Any
    after: Callable[[], None] | None = None
    account_id: int | None = None


def shutdown_frame(now_ms: int) -> str:
    """The serverShutdown event sent before a planned close."""
    return json.dumps({"event": {"e": "serverShutdown", "E": now_ms}})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _signed_params(params: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """A request's parameters as text, and its signature apart."""
    text_params = {name: _text(value) for name, value in params.items()}
    return text_params, text_params.pop("signature", None)


def _subscription_id(raw: Any) -> int:
    invalid = SimError(-1130, "Data sent for parameter 'subscriptionId' is not valid.")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise invalid
    try:
        return int(raw)
    except ValueError:
        raise invalid from None


def _invalid_json(what: str | None = None) -> SimError:
    if what is None:
        return SimError(-1135, "Invalid JSON Request")
    return SimError(-1135, f"JSON sent for parameter '{what}' is not valid")


class WsApiSession:
    """One WebSocket API connection: its requests, answers and user stream subscriptions."""

    def __init__(
        self, ctx: SimContext, conn: FrameConnection, ip: str, return_rate_limits: bool
    ) -> None:
        self._ctx = ctx
        self.conn = conn
        self._ip = ip
        self._return_rate_limits = return_rate_limits
        self._next_subscription = itertools.count()
        self.subscriptions: dict[int, Subscription] = {}
        self._methods: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "userDataStream.subscribe.signature": self._weighing(2, self._subscribe),
            "userDataStream.unsubscribe": self._weighing(2, self._unsubscribe),
            "session.subscriptions": self._weighing(2, self._list_subscriptions),
        }
        for name, route in REST_METHODS.items():
            self._methods[name] = self._rest_method(ENDPOINTS[route])

    def on_text(self, text: str) -> None:
        """Answer one request frame."""
        request_id: Any = None
        show = self._return_rate_limits
        try:
            try:
                request = json.loads(text)
            except ValueError:
                raise _invalid_json() from None
            if not isinstance(request, dict):
                raise _invalid_json()
            request_id = request.get("id")
            params = request.get("params", {})
            if not isinstance(params, dict):
                raise _invalid_json("params")
            show = bool(params.pop("returnRateLimits", show))
            method = request.get("method")
            if not isinstance(method, str) or not method:
                raise SimError(
                    -1102,
                    "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
                )
            call = self._methods.get(method.removeprefix("v3/"), self._unknown)
            answer = call(params)
        except SimError as error:
            self._send_error(request_id, error, show)
            return
        except Exception:
            log.exception("WebSocket API request failed")
            self._send_error(request_id, SimError(-1000, MSG_UNKNOWN, 500), show)
            return
        frame: dict[str, Any] = {"id": request_id, "status": 200, "result": answer.result}
        self._send(frame, show, answer.account_id)
        if answer.after is not None:
            answer.after()

    def _send_error(self, request_id: Any, error: SimError, show: bool) -> None:
        body = error.body()
        if error.http_status in (418, 429):
            now = self._ctx.clock.now_ms()
            retry_s = int(error.headers.get("Retry-After", "1"))
            body["data"] = {"serverTime": now, "retryAfter": now + retry_s * 1000}
        self._send({"id": request_id, "status": error.http_status, "error": body}, show)

    def _send(self, frame: dict[str, Any], show: bool, account_id: int | None = None) -> None:
        if show:
            frame["rateLimits"] = self._ctx.limiter.ws_rate_limits(self._ip, account_id)
        self.conn.send(json.dumps(frame, separators=(",", ":")))

    # methods -------------------------------------------------------------------------------

    def _weighing(
        self, weight: int, call: Callable[[dict[str, Any]], Answer]
    ) -> Callable[[dict[str, Any]], Answer]:
        def weighed(params: dict[str, Any]) -> Answer:
            self._ctx.limiter.admit(self._ip, weight)
            return call(params)

        return weighed

    def _unknown(self, params: dict[str, Any]) -> Answer:
        self._ctx.limiter.admit(self._ip, 1)
        raise SimError(-1020, "This operation is not supported.")

    def _rest_method(self, endpoint: Endpoint) -> Callable[[dict[str, Any]], Answer]:
        """A method answered like its REST endpoint; signed ones carry apiKey and signature."""

        def call(params: dict[str, Any]) -> Answer:
            text_params, signature = _signed_params(params)
            weight = endpoint.weight(text_params)
            self._ctx.limiter.admit(self._ip, weight)
            authorized = None
            if endpoint.call is not None:
                authorized = authorize(
                    self._ctx,
                    endpoint,
                    text_params.get("apiKey"),
                    text_params,
                    ws_signature_payload(text_params),
                    signature,
                )
            text_params.pop("apiKey", None)
            result, _ = run_endpoint(self._ctx, endpoint, authorized, text_params, self._ip, weight)
            if endpoint.new_orders or endpoint.free_on_success:
                self._ctx.mark_dirty()
            account_id = authorized.account_id if endpoint.new_orders and authorized else None
            return Answer(result, account_id=account_id)

        return call

    def _subscribe(self, params: dict[str, Any]) -> Answer:
        text_params, signature = _signed_params(params)
        authorized = self._ctx.auth.authenticate(
            text_params.get("apiKey"),
            text_params,
            ws_signature_payload(text_params),
            signature,
        )
        account_id = authorized.account_id
        if any(s.account_id == account_id for s in self.subscriptions.values()):
            raise SimError(-2035, "User Data Stream subscription already active.")
        sub = Subscription(account_id, self.conn, next(self._next_subscription))
        self.subscriptions[sub.subscription_id] = sub
        # Events start only after the answer is queued, so the client learns the id first.
        return Answer(
            {"subscriptionId": sub.subscription_id}, lambda: self._ctx.users.subscribe(sub)
        )

    def _unsubscribe(self, params: dict[str, Any]) -> Answer:
        raw_id = params.get("subscriptionId")
        if raw_id is None:
            ended = list(self.subscriptions.values())
        else:
            wanted = _subscription_id(raw_id)
            ended = [s for s in self.subscriptions.values() if s.subscription_id == wanted]
        for sub in ended:
            del self.subscriptions[sub.subscription_id]
            self._ctx.users.unsubscribe(sub)

        def terminate() -> None:
            for sub in ended:
                self.conn.send(self._ctx.users.terminated_frame(sub.subscription_id))

        return Answer({}, terminate)

    def _list_subscriptions(self, params: dict[str, Any]) -> Answer:
        return Answer([{"subscriptionId": s} for s in sorted(self.subscriptions)])

    def close(self) -> None:
        """Forget every subscription (the connection is gone)."""
        for sub in self.subscriptions.values():
            self._ctx.users.unsubscribe(sub)
        self.subscriptions.clear()


class WsApi:
    """The aiohttp handler of /ws-api/v3 and the registry of its live sessions."""

    def __init__(self, ctx: SimContext) -> None:
        self._ctx = ctx
        self.sessions: set[WsApiSession] = set()
        self._numbers = itertools.count(1)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ip = request.remote or "unknown"
        try:
            self._ctx.limiter.admit(ip, CONNECT_WEIGHT)
        except SimError as error:
            return json_response(error.http_status, error.body(), error.headers)
        ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S)
        await ws.prepare(request)
        conn = FrameConnection(ws, request.transport, name=f"ws-api-{next(self._numbers)}")
        conn.start()
        show = request.query.get("returnRateLimits", "true").lower() != "false"
        session = WsApiSession(self._ctx, conn, ip, show)
        self.sessions.add(session)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    session.on_text(message.data)
        finally:
            session.close()
            self.sessions.discard(session)
            await conn.finish()
        return ws

    def connections(self, account_id: int | None) -> set[FrameConnection]:
        """Connections subscribed to `account_id`, or every WebSocket API connection for None."""
        if account_id is None:
            return {s.conn for s in self.sessions}
        return self._ctx.users.connections(account_id)
