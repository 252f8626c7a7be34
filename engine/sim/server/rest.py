"""REST endpoints /api/v3/* and /sapi/v1/*: weights, authentication, limits, faults, JSON."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from engine.sim.core.errors import SimError
from engine.sim.server.auth import Authorized
from engine.sim.server.context import SimContext
from engine.sim.server.faults import RestFault, RestFaultKind
from engine.sim.server.params import RequestParams, parse_request

log = logging.getLogger(__name__)

Params = Mapping[str, str]
Call = Callable[[SimContext, Authorized, Params], Any]
PublicCall = Callable[[SimContext, Params], Any]

MSG_UNKNOWN = "An unknown error occurred while processing the request."


@dataclass(frozen=True)
class Endpoint:
    """One route: its weight and the facade call that answers it.

    Signed endpoints have `call` and `permission`, the facade method whose permission the
    exchange checks (`Exchange.authorize`); public ones have `public_call`.
    `free_on_success`: Binance charges no weight for a successful order or cancel (2026-04-02).
    `new_orders`: how many orders a success adds to the unfilled order count.
    """

    weight: Callable[[Params], int]
    call: Call | None = None
    permission: str = ""
    public_call: PublicCall | None = None
    free_on_success: bool = False
    new_orders: int = 0


def _fixed(weight: int) -> Callable[[Params], int]:
    return lambda params: weight


def _per_symbol(with_symbol: int, without: int) -> Callable[[Params], int]:
    return lambda params: with_symbol if params.get("symbol") else without


def _public(weight: Callable[[Params], int], call: PublicCall) -> Endpoint:
    return Endpoint(weight, public_call=call)


def _signed(weight: Callable[[Params], int], method: str, **extra: Any) -> Endpoint:
    """An endpoint answered by the facade method of that name: (account_id, params)."""

    def call(ctx: SimContext, auth: Authorized, params: Params) -> Any:
        return getattr(ctx.exchange, method)(auth.account_id, params)

    return Endpoint(weight, call, method, **extra)


def _trade(method: str, new_orders: int = 0) -> Endpoint:
    return _signed(_fixed(1), method, free_on_success=True, new_orders=new_orders)


def _exchange_info(ctx: SimContext, params: Params) -> dict[str, Any]:
    info = ctx.exchange.exchange_info(params)
    ordered: dict[str, Any] = {}
    for name, value in info.items():  # Binance lists rateLimits right after serverTime
        if name == "exchangeFilters" and "rateLimits" not in ordered:
            ordered["rateLimits"] = ctx.limiter.exchange_rate_limits()
        ordered[name] = value
    ordered.setdefault("rateLimits", ctx.limiter.exchange_rate_limits())
    return ordered


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): _public(_fixed(1), lambda ctx, p: {}),
    ("GET", "/api/v3/time"): _public(_fixed(1), lambda ctx, p: {"serverTime": ctx.clock.now_ms()}),
    ("GET", "/api/v3/exchangeInfo"): _public(_fixed(20), _exchange_info),
    ("GET", "/api/v3/ticker/price"): _public(
        _per_symbol(2, 4), lambda ctx, p: ctx.exchange.ticker_price(p)
    ),
    ("GET", "/api/v3/ticker/bookTicker"): _public(
        _per_symbol(2, 4), lambda ctx, p: ctx.exchange.book_ticker(p)
    ),
    ("GET", "/api/v3/avgPrice"): _public(_fixed(2), lambda ctx, p: ctx.exchange.avg_price(p)),
    ("GET", "/api/v3/account"): _signed(_fixed(20), "account"),
    ("POST", "/api/v3/order"): _trade("new_order", new_orders=1),
    ("POST", "/api/v3/order/test"): Endpoint(
        lambda p: 20 if p.get("computeCommissionRates", "").lower() == "true" else 1,
        lambda ctx, auth, p: ctx.exchange.new_order(auth.account_id, p, test=True),
        "new_order",
    ),
    ("GET", "/api/v3/order"): _signed(_fixed(4), "get_order"),
    ("DELETE", "/api/v3/order"): _trade("cancel_order"),
    ("GET", "/api/v3/openOrders"): _signed(_per_symbol(6, 80), "open_orders"),
    ("DELETE", "/api/v3/openOrders"): _trade("cancel_open_orders"),
    ("GET", "/api/v3/allOrders"): _signed(_fixed(20), "all_orders"),
    ("GET", "/api/v3/myTrades"): _signed(lambda p: 5 if p.get("orderId") else 20, "my_trades"),
    ("POST", "/api/v3/orderList/oco"): _trade("new_oco", new_orders=2),
    ("GET", "/api/v3/orderList"): _signed(_fixed(4), "get_order_list"),
    ("DELETE", "/api/v3/orderList"): _trade("cancel_order_list"),
    ("GET", "/api/v3/openOrderList"): _signed(_fixed(6), "open_order_lists"),
    ("POST", "/api/v3/order/cancelReplace"): _trade("cancel_replace", new_orders=1),
    ("GET", "/api/v3/rateLimit/order"): Endpoint(
        _fixed(40), lambda ctx, auth, p: ctx.limiter.order_rate_limits(auth.account_id), "account"
    ),
    ("GET", "/sapi/v1/account/apiRestrictions"): Endpoint(
        _fixed(1),
        lambda ctx, auth, p: ctx.exchange.api_restrictions(auth.account_id, auth.api_key),
        "api_restrictions",
    ),
}

# The listenKey endpoints were retired for spot on 2026-02-20; old clients get 410 Gone.
RETIRED = {"/api/v3/userDataStream"}
KNOWN_PATHS = {path for _, path in ENDPOINTS} | RETIRED


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=dict(headers or {}),
    )


@dataclass
class Outcome:
    """The answer the exchange decided on, before any fault replaces it."""

    status: int
    body: Any
    headers: dict[str, str]

    def response(self) -> web.Response:
        return json_response(self.status, self.body, self.headers)


def drop_connection(request: web.Request) -> web.Response:
    """Close the TCP connection without an answer; aiohttp discards the returned response."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


class RestApi:
    """The aiohttp handler for every REST route."""

    def __init__(self, ctx: SimContext) -> None:
        self._ctx = ctx

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        endpoint = ENDPOINTS.get((method, path))
        if endpoint is None:
            return self._unknown(method, path)
        ip = request.remote or "unknown"
        body = await request.read()
        fault = self._ctx.faults.take(method, path)
        if fault is not None:
            early = self._answer_before(fault, request, ip)
            if early is not None:
                return early
        pause = fault.seconds if fault is not None and fault.execute_after_delay else 0.0
        outcome = await self._process(endpoint, request, body, ip, pause)
        if fault is None:
            return outcome.response()
        return await self._answer_after(fault, request, outcome)

    def _unknown(self, method: str, path: str) -> web.Response:
        if path in RETIRED:
            return json_response(410, {"code": -1020, "msg": "This operation is not supported."})
        if path in KNOWN_PATHS:
            return json_response(405, {"code": -1020, "msg": f"{method} is not supported here."})
        return json_response(404, {"code": -1099, "msg": "Not found, authenticated, or authorized"})

    def _answer_before(
        self, fault: RestFault, request: web.Request, ip: str
    ) -> web.StreamResponse | None:
        """The answer of a fault that stops the request before it is executed, if any."""
        if fault.kind is RestFaultKind.DROP:
            return drop_connection(request)
        if fault.kind in (RestFaultKind.STATUS_429, RestFaultKind.STATUS_418):
            limiter = self._ctx.limiter
            error = (
                limiter.weight_exceeded(fault.retry_after_s)
                if fault.kind is RestFaultKind.STATUS_429
                else limiter.ban(ip, fault.retry_after_s * 1000)
            )
            return json_response(error.http_status, error.body(), error.headers)
        if fault.kind in (RestFaultKind.HTTP_5XX, RestFaultKind.ERROR_CODE) and not fault.execute:
            return self._fault_body(fault)
        return None

    async def _answer_after(
        self, fault: RestFault, request: web.Request, outcome: Outcome
    ) -> web.StreamResponse:
        if fault.kind is RestFaultKind.LOSE_RESPONSE:
            return drop_connection(request)
        if fault.kind is RestFaultKind.DELAY and not fault.execute_after_delay:
            await asyncio.sleep(fault.seconds)
        if fault.kind in (RestFaultKind.HTTP_5XX, RestFaultKind.ERROR_CODE):
            return self._fault_body(fault)
        return outcome.response()

    @staticmethod
    def _fault_body(fault: RestFault) -> web.Response:
        content_type, text = fault.body()
        return web.Response(status=fault.status, text=text, content_type=content_type)

    async def _process(
        self, endpoint: Endpoint, request: web.Request, body: bytes, ip: str, pause: float
    ) -> Outcome:
        ctx = self._ctx
        headers: dict[str, str] = {}
        try:
            parsed: RequestParams | None = None
            parse_error: SimError | None = None
            try:
                parsed = parse_request(request.rel_url.raw_query_string, body)
            except SimError as error:
                parse_error = error
            params: Params = parsed.params if parsed is not None else {}
            weight = endpoint.weight(params)
            ctx.limiter.admit(ip, weight)
            if parse_error is not None:
                raise parse_error
            assert parsed is not None
            authorized = self._authorize(endpoint, request, parsed)
            if pause:
                await asyncio.sleep(pause)
                if authorized is not None:
                    ctx.auth.recheck_timing(authorized)
            result, headers = run_endpoint(ctx, endpoint, authorized, params, ip, weight)
            outcome = Outcome(200, result, headers)
        except SimError as error:
            outcome = Outcome(error.http_status, error.body(), {**headers, **error.headers})
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            outcome = Outcome(500, {"code": -1000, "msg": MSG_UNKNOWN}, headers)
        finally:
            if request.method != "GET":
                ctx.mark_dirty()
        used = str(ctx.limiter.used_weight(ip))
        outcome.headers["X-MBX-USED-WEIGHT"] = used
        outcome.headers["X-MBX-USED-WEIGHT-1M"] = used
        return outcome

    def _authorize(
        self, endpoint: Endpoint, request: web.Request, parsed: RequestParams
    ) -> Authorized | None:
        if endpoint.call is None:
            return None
        return authorize(
            self._ctx,
            endpoint,
            request.headers.get("X-MBX-APIKEY"),
            parsed.params,
            parsed.payload,
            parsed.signature,
        )


def authorize(
    ctx: SimContext,
    endpoint: Endpoint,
    api_key: str | None,
    params: Params,
    payload: bytes,
    signature: str | None,
) -> Authorized:
    """Check a signed request (key, timing, signature) and the key's permission for it."""
    authorized = ctx.auth.authenticate(api_key, params, payload, signature)
    ctx.exchange.authorize(authorized.api_key, endpoint.permission)
    return authorized


def run_endpoint(
    ctx: SimContext,
    endpoint: Endpoint,
    authorized: Authorized | None,
    params: Params,
    ip: str,
    weight: int,
) -> tuple[Any, dict[str, str]]:
    """Execute an admitted, authorized request; REST and the WebSocket API share it.

    Applies the unfilled order count, calls the facade, gives back the weight Binance does
    not charge for a success, and returns the result with the order-count headers.
    """
    headers: dict[str, str] = {}
    if authorized is None:
        assert endpoint.public_call is not None
        return endpoint.public_call(ctx, params), headers
    assert endpoint.call is not None
    account_id = authorized.account_id
    if endpoint.new_orders:
        ctx.limiter.check_orders(account_id, endpoint.new_orders)
    result = endpoint.call(ctx, authorized, params)
    if endpoint.new_orders:
        ctx.limiter.add_orders(account_id, endpoint.new_orders)
        ten_seconds, day = ctx.limiter.order_counts(account_id)
        headers["X-MBX-ORDER-COUNT-10S"] = str(ten_seconds)
        headers["X-MBX-ORDER-COUNT-1D"] = str(day)
    if endpoint.free_on_success:
        ctx.limiter.refund(ip, weight)
    return result, headers
