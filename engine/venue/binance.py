"""The Binance Spot venue: REST calls returning reports, errors sorted by the taxonomy, streams.

Every request goes through `_request`: admitted by the one rate budget (refused during a 429 pause
or a 418 ban, held back by the throttle unless essential; see budget.py), sent once, and any
failure turned into a `VenueError` (errors.py). The one retry is -1021 (timestamp outside
recvWindow): Binance rejects it before the matching engine, so the clock is re-synced and the
request sent once more with a fresh timestamp; a second -1021 surfaces as Rejected. Nothing else is
ever resent here: an Unknown create is settled by querying (R3), a NotSent one is the engine's to
retry. Cancelling a call while it runs leaves its outcome unknown, like a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from engine.core.ids import validate_client_order_id
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.rules import SymbolRules
from engine.core.times import ms_from_utc, utc_from_ms
from engine.core.wire import (
    MalformedPayload,
    decimal_field,
    int_field,
    require_mapping,
    text_field,
)
from engine.venue import parse
from engine.venue.budget import DEFAULT_THROTTLE_FRACTION, RateBudget, Weight
from engine.venue.client import RECV_WINDOW_MS, VenueClient, build_client
from engine.venue.endpoints import Credentials, Endpoints
from engine.venue.errors import TIMESTAMP_CODE, Rejected, Unknown, VenueError, classify
from engine.venue.health import StreamGap, StreamStatus
from engine.venue.marketdata import Mark, MarketStreamSupervisor, MarkStore
from engine.venue.parse import OrderResponse
from engine.venue.results import (
    AccountSnapshot,
    ApiRestrictions,
    ExchangeInfo,
    OrderListResult,
    rate_limit_rules,
)
from engine.venue.supervisor import StreamSupervisor, SupervisorConfig
from engine.venue.timing import Clock
from engine.venue.userstream import UserStreamSupervisor

log = logging.getLogger(__name__)

T = TypeVar("T")
_SYMBOL = re.compile(r"[A-Z0-9]{1,20}")
_RESPONSE_TYPES = frozenset({"ACK", "RESULT", "FULL"})


@dataclass(frozen=True)
class VenueOptions:
    """request_timeout_s: python-binance's per-request timeout; close_timeout_s bounds close();
    session_params go to aiohttp.ClientSession (e.g. trace_configs for the benchmark);
    weight_throttle_fraction: above this share of the request-weight limit non-essential
    requests wait for the next minute window (E4)."""

    request_timeout_s: float = 10.0
    close_timeout_s: float = 5.0
    session_params: Mapping[str, Any] | None = None
    weight_throttle_fraction: float = DEFAULT_THROTTLE_FRACTION


@dataclass(frozen=True)
class OcoLeg:
    """One leg of an OCO: `order_type` is LIMIT_MAKER / TAKE_PROFIT(_LIMIT) above, STOP_LOSS(_LIMIT)
    below (for a SELL; the reverse for a BUY)."""

    order_type: str
    client_order_id: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None
    time_in_force: str | None = None


class BinanceVenue:
    """The adapter over python-binance 1.0.37; the only way the engine reaches an exchange."""

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials,
        *,
        clock: Clock,
        options: VenueOptions = VenueOptions(),
    ) -> None:
        self.endpoints = endpoints
        self._credentials = credentials
        self._clock = clock
        self._options = options
        self.budget = RateBudget(
            clock,
            throttle_fraction=options.weight_throttle_fraction,
            server_time_ms=self.server_now_ms,
        )
        self._client: VenueClient | None = None
        self._supervisors: list[StreamSupervisor[Any]] = []

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the client in the running loop and sync the clock with the server."""
        if self._client is not None:
            raise RuntimeError("venue already started")
        params = dict(self._options.session_params or {})
        self._client = build_client(
            self.endpoints,
            self._credentials,
            self.budget,
            request_timeout=self._options.request_timeout_s,
            session_params=params or None,
        )
        try:
            await self.sync_time()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop the streams and close every connection, within `close_timeout_s` each."""
        supervisors, self._supervisors = self._supervisors, []
        for supervisor in supervisors:
            await supervisor.stop()
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close_connection(), self._options.close_timeout_s)
            except Exception as exc:
                log.warning("closing the venue client failed: %s", classify(exc))

    @property
    def client(self) -> VenueClient:
        if self._client is None:
            raise RuntimeError("venue not started")
        return self._client

    async def sync_time(self) -> int:
        """Set python-binance's timestamp offset from the server's time; returns it in ms."""
        client = self.client
        # python-binance stamps requests with time.time() plus this offset, so the offset is
        # measured against the same wall clock, at the midpoint of the round trip.
        before_ms = time.time() * 1000
        body = await self._request(
            client.get_server_time, weight=Weight.TIME, essential=True, retry_timestamp=False
        )
        after_ms = time.time() * 1000
        server_ms = int_field(require_mapping(body, "time"), "serverTime", "time")
        offset = server_ms - round((before_ms + after_ms) / 2)
        client.timestamp_offset = offset
        return offset

    # -- orders --------------------------------------------------------------------------------

    async def create_order(
        self,
        *,
        symbol: str,
        side: str,
        order_type: str,
        client_order_id: str,
        quantity: Decimal | None = None,
        quote_quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: str | None = None,
        trailing_delta: int | None = None,
        self_trade_prevention_mode: str | None = None,
        response_type: str = "FULL",
    ) -> OrderResponse:
        """POST /api/v3/order with our client id and Decimal strings."""
        if response_type not in _RESPONSE_TYPES:
            raise ValueError(f"response_type must be one of {sorted(_RESPONSE_TYPES)}")
        params: dict[str, str] = {
            "symbol": _symbol(symbol),
            "side": str(side),
            "type": str(order_type),
            "newClientOrderId": validate_client_order_id(client_order_id),
            "newOrderRespType": response_type,
        }
        _put_decimal(params, "quantity", quantity)
        _put_decimal(params, "quoteOrderQty", quote_quantity)
        _put_decimal(params, "price", price)
        _put_decimal(params, "stopPrice", stop_price)
        if time_in_force is not None:
            params["timeInForce"] = str(time_in_force)
        if trailing_delta is not None:
            params["trailingDelta"] = str(int(trailing_delta))
        if self_trade_prevention_mode is not None:
            params["selfTradePreventionMode"] = str(self_trade_prevention_mode)
        client = self.client
        body = await self._request(
            lambda: client.create_order(**params), weight=Weight.ORDER, places_order=True
        )
        return parse.parse_order_response(body)

    async def cancel_order(
        self, symbol: str, client_order_id: str, *, cancel_client_order_id: str | None = None
    ) -> OrderStatusReport:
        """DELETE /api/v3/order by our client id (-2011 when unknown or already final)."""
        params = {
            "symbol": _symbol(symbol),
            "origClientOrderId": validate_client_order_id(client_order_id),
        }
        if cancel_client_order_id is not None:
            params["newClientOrderId"] = validate_client_order_id(cancel_client_order_id)
        client = self.client
        body = await self._request(
            lambda: client.cancel_order(**params), weight=Weight.CANCEL, essential=True
        )
        return parse.parse_order(body)

    async def get_order(self, symbol: str, client_order_id: str) -> OrderStatusReport:
        """GET /api/v3/order by our client id (-2013 when not found: not proof of absence)."""
        params = {
            "symbol": _symbol(symbol),
            "origClientOrderId": validate_client_order_id(client_order_id),
        }
        client = self.client
        body = await self._request(lambda: client.get_order(**params), weight=Weight.GET_ORDER)
        return parse.parse_order(body)

    async def open_orders(self, symbol: str | None = None) -> list[OrderStatusReport]:
        """GET /api/v3/openOrders for one symbol (weight 6) or all (weight 80)."""
        params = {} if symbol is None else {"symbol": _symbol(symbol)}
        client = self.client
        weight = Weight.OPEN_ORDERS_ALL if symbol is None else Weight.OPEN_ORDERS_SYMBOL
        body = await self._request(lambda: client.get_open_orders(**params), weight=weight)
        return [parse.parse_order(row) for row in _rows(body, "openOrders")]

    async def all_orders(
        self,
        symbol: str,
        *,
        order_id: int | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        limit: int | None = None,
    ) -> list[OrderStatusReport]:
        """GET /api/v3/allOrders: orders from `order_id` on, or within a time window."""
        params = {"symbol": _symbol(symbol)}
        _put_int(params, "orderId", order_id)
        _put_time(params, "startTime", start_time)
        _put_time(params, "endTime", end_time)
        _put_int(params, "limit", limit)
        client = self.client
        body = await self._request(
            lambda: client.get_all_orders(**params), weight=Weight.ALL_ORDERS
        )
        return [parse.parse_order(row) for row in _rows(body, "allOrders")]

    async def my_trades(
        self,
        symbol: str,
        *,
        from_id: int | None = None,
        order_id: int | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        limit: int | None = None,
    ) -> list[FillReport]:
        """GET /api/v3/myTrades: trades from trade id `from_id` on, or of one order."""
        params = {"symbol": _symbol(symbol)}
        _put_int(params, "fromId", from_id)
        _put_int(params, "orderId", order_id)
        _put_time(params, "startTime", start_time)
        _put_time(params, "endTime", end_time)
        _put_int(params, "limit", limit)
        client = self.client
        weight = Weight.MY_TRADES if order_id is None else Weight.MY_TRADES_ORDER
        body = await self._request(lambda: client.get_my_trades(**params), weight=weight)
        return [parse.parse_my_trade(row) for row in _rows(body, "myTrades")]

    async def cancel_all(self, symbol: str) -> list[OrderStatusReport]:
        """DELETE /api/v3/openOrders: every open order of the symbol, order-list legs included."""
        params = {"symbol": _symbol(symbol)}
        client = self.client
        body = await self._request(
            lambda: client.cancel_all_open_orders(**params), weight=Weight.CANCEL, essential=True
        )
        reports: list[OrderStatusReport] = []
        for row in _rows(body, "openOrders"):
            if isinstance(row, dict) and "orderReports" in row:
                reports.extend(leg.status for leg in _order_list(row).legs)
            else:
                reports.append(parse.parse_order(row))
        return reports

    async def create_oco(
        self,
        *,
        symbol: str,
        side: str,
        quantity: Decimal,
        list_client_order_id: str,
        above: OcoLeg,
        below: OcoLeg,
        response_type: str = "FULL",
    ) -> OrderListResult:
        """POST /api/v3/orderList/oco with our list id and both legs' ids."""
        if response_type not in _RESPONSE_TYPES:
            raise ValueError(f"response_type must be one of {sorted(_RESPONSE_TYPES)}")
        params: dict[str, str] = {
            "symbol": _symbol(symbol),
            "side": str(side),
            "listClientOrderId": validate_client_order_id(list_client_order_id),
            "newOrderRespType": response_type,
        }
        _put_decimal(params, "quantity", quantity)
        for prefix, leg in (("above", above), ("below", below)):
            params[f"{prefix}Type"] = str(leg.order_type)
            params[f"{prefix}ClientOrderId"] = validate_client_order_id(leg.client_order_id)
            _put_decimal(params, f"{prefix}Price", leg.price)
            _put_decimal(params, f"{prefix}StopPrice", leg.stop_price)
            if leg.trailing_delta is not None:
                params[f"{prefix}TrailingDelta"] = str(int(leg.trailing_delta))
            if leg.time_in_force is not None:
                params[f"{prefix}TimeInForce"] = str(leg.time_in_force)
        client = self.client
        body = await self._request(
            lambda: client.create_oco_order(**params), weight=Weight.ORDER, places_order=True
        )
        return _order_list(body)

    async def cancel_order_list(self, symbol: str, list_client_order_id: str) -> OrderListResult:
        """DELETE /api/v3/orderList by our list id (python-binance has no method for it)."""
        params = {
            "symbol": _symbol(symbol),
            "listClientOrderId": validate_client_order_id(list_client_order_id),
        }
        client = self.client
        body = await self._request(
            lambda: client._delete("orderList", True, data=dict(params)),
            weight=Weight.CANCEL,
            essential=True,
        )
        return _order_list(body)

    # -- account and market --------------------------------------------------------------------

    async def account(self) -> AccountSnapshot:
        """GET /api/v3/account: balances of every asset listed, and canTrade."""
        client = self.client
        body = require_mapping(
            await self._request(client.get_account, weight=Weight.ACCOUNT), "account"
        )
        balances = parse.parse_account(body)
        return AccountSnapshot(
            balances=tuple(balances),
            can_trade=bool(body.get("canTrade", False)),
            update_time=utc_from_ms(int_field(body, "updateTime", "account")),
        )

    async def exchange_info(self) -> ExchangeInfo:
        """GET /api/v3/exchangeInfo (weight 20): rules of every symbol, and the rate limits,
        whose REQUEST_WEIGHT per minute becomes the budget's limit."""
        client = self.client
        body = require_mapping(
            await self._request(client.get_exchange_info, weight=Weight.EXCHANGE_INFO),
            "exchangeInfo",
        )
        rules: dict[str, SymbolRules] = {}
        for raw in _rows(body.get("symbols"), "exchangeInfo.symbols"):
            symbol_rules = SymbolRules.from_exchange_info(raw)
            rules[symbol_rules.symbol] = symbol_rules
        info = ExchangeInfo(
            symbols=rules,
            rate_limits=rate_limit_rules(body.get("rateLimits", [])),
            server_time=utc_from_ms(int_field(body, "serverTime", "exchangeInfo")),
        )
        weight_limit = info.weight_limit_per_minute()
        if weight_limit:
            self.budget.weight_limit_1m = weight_limit
        return info

    async def api_restrictions(self) -> ApiRestrictions | None:
        """GET /sapi/v1/account/apiRestrictions; None where the venue has no sapi (testnet)."""
        if self.endpoints.sapi_url is None:
            return None
        client = self.client
        return ApiRestrictions.from_json(
            await self._request(client.get_account_api_permissions, weight=Weight.SAPI)
        )

    async def server_time(self) -> datetime:
        """GET /api/v3/time."""
        client = self.client
        body = require_mapping(
            await self._request(client.get_server_time, weight=Weight.TIME), "time"
        )
        return utc_from_ms(int_field(body, "serverTime", "time"))

    async def ticker_prices(self, symbol: str | None = None) -> dict[str, Decimal]:
        """GET /api/v3/ticker/price: last price of one symbol, or of every symbol."""
        params = {} if symbol is None else {"symbol": _symbol(symbol)}
        client = self.client
        weight = Weight.TICKER_ALL if symbol is None else Weight.TICKER_SYMBOL
        body = await self._request(lambda: client.get_symbol_ticker(**params), weight=weight)
        rows = [body] if isinstance(body, dict) else _rows(body, "ticker/price")
        return {
            text_field(row, "symbol", "ticker"): _price(row, "price")
            for row in (require_mapping(r, "ticker/price") for r in rows)
        }

    async def book_tickers(self, symbol: str | None = None) -> dict[str, tuple[Decimal, Decimal]]:
        """GET /api/v3/ticker/bookTicker: (best bid, best ask) of one symbol or every symbol."""
        params = {} if symbol is None else {"symbol": _symbol(symbol)}
        client = self.client
        weight = Weight.TICKER_ALL if symbol is None else Weight.TICKER_SYMBOL
        body = await self._request(lambda: client.get_orderbook_ticker(**params), weight=weight)
        rows = [body] if isinstance(body, dict) else _rows(body, "ticker/bookTicker")
        return {
            text_field(row, "symbol", "bookTicker"): (
                _price(row, "bidPrice"),
                _price(row, "askPrice"),
            )
            for row in (require_mapping(r, "ticker/bookTicker") for r in rows)
        }

    # -- streams -------------------------------------------------------------------------------

    def user_stream(
        self,
        on_event: Callable[[dict[str, Any]], None],
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_gap: Callable[[StreamGap], None] | None = None,
        config: SupervisorConfig | None = None,
        probe_timeout_s: float | None = None,
    ) -> UserStreamSupervisor:
        """The user data stream supervisor (not started); `close()` stops it. Events are the raw
        Binance dicts (see userstream.py for why)."""
        supervisor = UserStreamSupervisor(
            self.client,
            on_event=on_event,
            clock=self._clock,
            rng=rng,
            config=config,
            on_status=on_status,
            on_gap=on_gap,
            probe_timeout_s=probe_timeout_s,
        )
        self._supervisors.append(supervisor)
        return supervisor

    def market_stream(
        self,
        symbols: Iterable[str],
        store: MarkStore,
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_mark: Callable[[Mark], None] | None = None,
        config: SupervisorConfig | None = None,
    ) -> MarketStreamSupervisor:
        """The mark stream supervisor (not started); `close()` stops it."""
        supervisor = MarketStreamSupervisor(
            self.endpoints.stream_url,
            symbols,
            store,
            clock=self._clock,
            rng=rng,
            config=config,
            on_status=on_status,
            on_mark=on_mark,
        )
        self._supervisors.append(supervisor)
        return supervisor

    # -- the one way a request is made ---------------------------------------------------------

    async def _request(
        self,
        send: Callable[[], Awaitable[T]],
        *,
        weight: int,
        essential: bool = False,
        places_order: bool = False,
        retry_timestamp: bool = True,
    ) -> T:
        """Send once (twice after a -1021), turning every failure into a VenueError; the budget
        admits each send. Placing orders passes the throttle: Binance charges no weight for it."""
        essential = essential or places_order
        await self.budget.acquire(weight, essential=essential, places_order=places_order)
        try:
            return await send()
        except Exception as exc:
            error = self._classify(exc)
        if not (retry_timestamp and isinstance(error, Rejected) and error.code == TIMESTAMP_CODE):
            raise error
        try:
            await self.sync_time()
        except VenueError as sync_error:
            raise Rejected(
                f"{error.message} (clock re-sync failed: {sync_error})",
                code=TIMESTAMP_CODE,
                http_status=error.http_status,
            ) from None
        await self.budget.acquire(weight, essential=essential, places_order=places_order)
        try:
            return await send()
        except Exception as exc:
            raise self._classify(exc) from None

    def _classify(self, exc: Exception) -> VenueError:
        error = classify(exc)
        if isinstance(error, Unknown):
            error.server_time_ms = self.server_now_ms()
            error.recv_window_ms = RECV_WINDOW_MS
        return error

    def server_now_ms(self) -> int:
        """The exchange's clock as estimated here (wall clock plus the synced offset), in ms;
        the wall clock alone before the first sync."""
        client = self._client
        offset = int(client.timestamp_offset) if client is not None else 0
        return int(time.time() * 1000) + offset


def _order_list(raw: Any) -> OrderListResult:
    body = require_mapping(raw, "orderList")
    what = "orderList"
    legs = tuple(parse.parse_order_response(row) for row in _rows(body.get("orderReports"), what))
    return OrderListResult(
        symbol=text_field(body, "symbol", what),
        order_list_id=int_field(body, "orderListId", what),
        list_client_order_id=text_field(body, "listClientOrderId", what),
        contingency_type=text_field(body, "contingencyType", what),
        list_status_type=text_field(body, "listStatusType", what),
        list_order_status=text_field(body, "listOrderStatus", what),
        legs=legs,
    )


def _price(row: Mapping[str, Any], key: str) -> Decimal:
    return decimal_field(row, key, "ticker")


def _rows(raw: Any, what: str) -> list[Any]:
    if not isinstance(raw, list):
        raise MalformedPayload(f"{what}: expected a list, got {type(raw).__name__}")
    return raw


def _symbol(symbol: str) -> str:
    if not _SYMBOL.fullmatch(symbol):
        raise ValueError(f"symbol {symbol!r:.30} must be 1-20 characters of A-Z and 0-9")
    return symbol


def _put_decimal(params: dict[str, str], key: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{key} must be a positive finite Decimal, got {value!r:.40}")
    # Fixed-point text: str() would give "1E-8", which Binance refuses.
    params[key] = format(value, "f")


def _put_int(params: dict[str, str], key: str, value: int | None) -> None:
    if value is not None:
        params[key] = str(int(value))


def _put_time(params: dict[str, str], key: str, value: datetime | None) -> None:
    if value is not None:
        params[key] = str(ms_from_utc(value))
