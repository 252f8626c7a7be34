"""A `VenuePort` over the embedded exchange's core in this process: no sockets, seeded faults.

REST calls go straight to `engine.sim.core.exchange.Exchange` with the parameters BinanceVenue
would send, after a fault decision and a virtual latency each way; the core's errors and the
injected ones are sorted by the venue's own taxonomy (`engine.venue.errors.classify`), so the
engine sees exactly the exception kinds the real adapter raises. The user stream delivers the
core's events through the callbacks the real supervisor uses (`on_event`, `on_status`,
`on_gap`), late, twice, swapped or not at all as the faults say; a stall loses events until it
is noticed and the stream comes back with a gap.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from binance.exceptions import BinanceAPIException
from swarm_faults import Faults, RestFault
from swarm_loop import VirtualClock

from engine.core.reports import FillReport, OrderStatusReport
from engine.core.rules import SymbolRules
from engine.core.times import utc_from_ms
from engine.sim.core.errors import MSG_TIMEOUT, MSG_UNEXPECTED_RESP, SimError
from engine.sim.core.exchange import Exchange
from engine.venue import parse
from engine.venue.binance import OcoLeg
from engine.venue.budget import RateBudget
from engine.venue.client import RECV_WINDOW_MS
from engine.venue.errors import NotSent, Rejected, Unknown, VenueError, classify
from engine.venue.health import StreamGap, StreamHealth, StreamStatus
from engine.venue.marketdata import Mark, MarkStore
from engine.venue.parse import OrderResponse
from engine.venue.results import AccountSnapshot, ExchangeInfo, OrderListResult
from engine.venue.supervisor import SupervisorConfig

# How the fake user stream notices trouble and comes back (virtual seconds).
STALL_NOTICED_S = 5.0
RECONNECT_S = 0.5


@dataclass
class SendLog:
    """What reached the exchange side, for the invariants the engine cannot see: I6 (the
    `on_create` hook judges each create) and R3 (a create id sent again after one went out)."""

    on_create: Callable[[str], None] | None = None
    went_out: set[str] = field(default_factory=set)
    resent: list[str] = field(default_factory=list)
    requests: int = 0


@dataclass
class _Reply:
    """What BinanceAPIException reads off a response."""

    headers: dict[str, str]
    text: str


class SimPort:
    """One engine instance's venue; a restart makes a new one over the same core."""

    def __init__(
        self,
        core: Exchange,
        account_id: int,
        *,
        clock: VirtualClock,
        faults: Faults,
        sends: SendLog,
    ) -> None:
        self._core = core
        self._account = account_id
        self._clock = clock
        self._faults = faults
        self._sends = sends
        self.budget = RateBudget(clock)
        self._streams: list[SimUserStream | QuietStream] = []
        self._closed = False

    @property
    def user(self) -> SimUserStream | None:
        """The user stream, once the engine asked for it."""
        return next((s for s in self._streams if isinstance(s, SimUserStream)), None)

    async def start(self) -> None:
        pass

    async def sync_time(self) -> int:
        """GET /api/v3/time: the engine's clock is the exchange's here, so the offset is 0."""
        await self._run(lambda: {"serverTime": self._clock.now_ms()})
        return 0

    async def close(self) -> None:
        self._closed = True
        streams, self._streams = self._streams, []
        for stream in streams:
            stream.stop()

    # -- the one way a request is made ---------------------------------------------------------

    async def _call(self, execute: Callable[[], Any], *, places_order: bool = False) -> Any:
        if self._closed:
            raise NotSent("the venue is closed")
        self.budget.check(places_order=places_order)
        self._sends.requests += 1
        fault = self._faults.rest()
        await self._sleep(self._faults.latency())
        if fault is RestFault.NOT_SENT:
            raise NotSent("ClientConnectorError: connection refused (injected)")
        if fault is RestFault.RATE_429:
            retry = f"{self._faults.profile.retry_after_s:g}"
            self.budget.record(429, {"Retry-After": retry}, -1003)
            raise self._api_error(
                SimError(-1003, "Too many requests.", 429), {"Retry-After": retry}
            )
        if fault is RestFault.DROP:
            raise self._unknown("ServerDisconnectedError after the request was sent (injected)")
        if fault is RestFault.HANG_BEFORE:
            await self._sleep(self._faults.profile.hang_s)
            raise self._unknown("no reply in time (TimeoutError, injected)")
        if fault is RestFault.E5XX_BEFORE:
            raise self._api_error(SimError(0, "", 503))
        if fault is RestFault.E1007_BEFORE:
            raise self._api_error(SimError(-1007, MSG_TIMEOUT, 503))
        await self._through_clog(execute)
        try:
            body = execute()
        except SimError as error:
            if fault.executes and fault is not RestFault.NONE:
                raise self._after(fault) from None
            await self._sleep(self._faults.latency())
            raise self._api_error(error) from None
        if fault is not RestFault.NONE:
            raise self._after(fault)
        await self._sleep(self._faults.latency())
        return body

    async def _through_clog(self, execute: Callable[[], Any]) -> None:
        """While the link is clogged a request waits in the pipe. Freed before the client's
        timeout it goes on as usual; otherwise the client gives up (Unknown) and the request,
        unless lost, reaches the exchange when the clog clears, where it is executed if it is
        still inside its recvWindow (Binance checks it again before the matching engine)."""
        loop = asyncio.get_running_loop()
        wait = self._faults.clogged_until - loop.time()
        if wait <= 0 or not self._faults.active:
            return
        hang_s = self._faults.profile.hang_s
        if wait <= hang_s:
            await self._sleep(wait)
            return
        sent_ms = self._clock.now_ms()
        if self._faults.arrives_late():

            def arrive() -> None:
                if self._clock.now_ms() - sent_ms <= RECV_WINDOW_MS:
                    with contextlib.suppress(SimError):
                        execute()

            loop.call_at(self._faults.clogged_until, arrive)
        await self._sleep(hang_s)
        raise self._unknown("no reply in time (TimeoutError, injected: the link is clogged)")

    def _after(self, fault: RestFault) -> Exception:
        """The error of a fault that struck once the request was executed."""
        if fault is RestFault.E5XX_AFTER:
            return self._api_error(SimError(0, "", 502))
        if fault is RestFault.E1007_AFTER:
            return self._api_error(SimError(-1007, MSG_TIMEOUT, 503))
        if fault is RestFault.E1006_AFTER:
            return self._api_error(SimError(-1006, MSG_UNEXPECTED_RESP, 503))
        if fault is RestFault.HANG_AFTER:
            return _Deferred(self._faults.profile.hang_s)
        return self._unknown("ServerDisconnectedError: the answer was lost (injected)")

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _api_error(self, error: SimError, headers: dict[str, str] | None = None) -> VenueError:
        """The error python-binance would raise for this answer, sorted by the taxonomy."""
        text = json.dumps(error.body()) if error.code else "<html>503 Service Unavailable</html>"
        reply = _Reply(headers or {}, text)
        return self._stamped(classify(BinanceAPIException(reply, error.http_status, text)))

    def _unknown(self, message: str) -> Unknown:
        error = self._stamped(Unknown(message))
        assert isinstance(error, Unknown)
        return error

    def _stamped(self, error: VenueError) -> VenueError:
        if isinstance(error, Unknown):
            error.server_time_ms = self._clock.now_ms()
            error.recv_window_ms = RECV_WINDOW_MS
        return error

    async def _run(self, execute: Callable[[], Any], *, places_order: bool = False) -> Any:
        try:
            return await self._call(execute, places_order=places_order)
        except _Deferred as deferred:
            await self._sleep(deferred.delay_s)
            raise self._unknown("no reply in time (TimeoutError, injected)") from None

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
    ) -> OrderResponse:
        params = {
            "symbol": symbol,
            "side": side,
            "type": order_type,
            "newClientOrderId": client_order_id,
            "newOrderRespType": "FULL",
        }
        for key, value in (
            ("quantity", quantity),
            ("quoteOrderQty", quote_quantity),
            ("price", price),
            ("stopPrice", stop_price),
        ):
            if value is not None:
                params[key] = format(value, "f")
        if time_in_force is not None:
            params["timeInForce"] = time_in_force
        if trailing_delta is not None:
            params["trailingDelta"] = str(trailing_delta)
        sends = self._sends
        if sends.on_create is not None:
            sends.on_create(client_order_id)

        def place() -> Any:
            return self._core.new_order(self._account, params)

        try:
            body = await self._run(place, places_order=True)
        except NotSent:
            raise
        except VenueError as error:
            self._went_out(client_order_id, error)
            raise
        self._went_out(client_order_id, None)
        return parse.parse_order_response(body)

    def _went_out(self, client_order_id: str, error: VenueError | None) -> None:
        if error is not None and getattr(error, "http_status", None) == 429:
            return  # refused before the matching engine: the same id may go again
        if client_order_id in self._sends.went_out:
            self._sends.resent.append(client_order_id)
        self._sends.went_out.add(client_order_id)

    async def create_oco(
        self,
        *,
        symbol: str,
        side: str,
        quantity: Decimal,
        list_client_order_id: str,
        above: OcoLeg,
        below: OcoLeg,
    ) -> OrderListResult:
        raise Rejected("order lists are not part of the swarm's workload", code=-1100)

    async def cancel_order_list(self, symbol: str, list_client_order_id: str) -> OrderListResult:
        raise Rejected("order lists are not part of the swarm's workload", code=-1100)

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderStatusReport:
        params = {"symbol": symbol, "origClientOrderId": client_order_id}
        body = await self._run(lambda: self._core.cancel_order(self._account, params))
        return parse.parse_order(body)

    async def get_order(self, symbol: str, client_order_id: str) -> OrderStatusReport:
        params = {"symbol": symbol, "origClientOrderId": client_order_id}
        body = await self._run(lambda: self._core.get_order(self._account, params))
        return parse.parse_order(body)

    async def open_orders(self, symbol: str | None = None) -> list[OrderStatusReport]:
        params = {} if symbol is None else {"symbol": symbol}
        rows = await self._run(lambda: self._core.open_orders(self._account, params))
        return [parse.parse_order(row) for row in rows]

    async def all_orders(
        self, symbol: str, *, order_id: int | None = None, limit: int | None = None
    ) -> list[OrderStatusReport]:
        params = _with_ints({"symbol": symbol}, orderId=order_id, limit=limit)
        rows = await self._run(lambda: self._core.all_orders(self._account, params))
        return [parse.parse_order(row) for row in rows]

    async def my_trades(
        self,
        symbol: str,
        *,
        from_id: int | None = None,
        order_id: int | None = None,
        limit: int | None = None,
    ) -> list[FillReport]:
        params = _with_ints({"symbol": symbol}, fromId=from_id, orderId=order_id, limit=limit)
        rows = await self._run(lambda: self._core.my_trades(self._account, params))
        return [parse.parse_my_trade(row) for row in rows]

    async def cancel_all(self, symbol: str) -> list[OrderStatusReport]:
        params = {"symbol": symbol}
        rows = await self._run(lambda: self._core.cancel_open_orders(self._account, params))
        reports: list[OrderStatusReport] = []
        for row in rows:
            if "orderReports" in row:
                reports.extend(
                    parse.parse_order_response(leg).status for leg in row["orderReports"]
                )
            else:
                reports.append(parse.parse_order(row))
        return reports

    # -- account and market --------------------------------------------------------------------

    async def account(self) -> AccountSnapshot:
        body = await self._run(lambda: self._core.account(self._account, {}))
        return AccountSnapshot(
            balances=tuple(parse.parse_account(body)),
            can_trade=bool(body.get("canTrade", False)),
            update_time=utc_from_ms(int(body["updateTime"])),
        )

    async def exchange_info(self) -> ExchangeInfo:
        body = await self._run(lambda: self._core.exchange_info({}))
        rules = {}
        for raw in body["symbols"]:
            symbol_rules = SymbolRules.from_exchange_info(raw)
            rules[symbol_rules.symbol] = symbol_rules
        return ExchangeInfo(
            symbols=rules, rate_limits=(), server_time=utc_from_ms(int(body["serverTime"]))
        )

    async def ticker_prices(self, symbol: str | None = None) -> dict[str, Decimal]:
        params = {} if symbol is None else {"symbol": symbol}
        body = await self._run(lambda: self._core.ticker_price(params))
        rows = [body] if isinstance(body, dict) else body
        return {row["symbol"]: Decimal(row["price"]) for row in rows}

    # -- streams -------------------------------------------------------------------------------

    def user_stream(
        self,
        on_event: Callable[[dict[str, Any]], None],
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_gap: Callable[[StreamGap], None] | None = None,
        config: SupervisorConfig | None = None,
    ) -> SimUserStream:
        stream = SimUserStream(
            self._core,
            self._account,
            clock=self._clock,
            faults=self._faults,
            on_event=on_event,
            on_status=on_status,
            on_gap=on_gap,
        )
        self._streams.append(stream)
        return stream

    def market_stream(
        self,
        symbols: Iterable[str],
        store: MarkStore,
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_mark: Callable[[Mark], None] | None = None,
        config: SupervisorConfig | None = None,
    ) -> QuietStream:
        stream = QuietStream("market", self._clock, on_status)
        self._streams.append(stream)
        return stream


class _Deferred(Exception):
    """An executed request whose answer never comes: the client gives up after `delay_s`."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(f"no answer within {delay_s:g} s")
        self.delay_s = delay_s


def _with_ints(params: dict[str, str], **values: int | None) -> dict[str, str]:
    for key, value in values.items():
        if value is not None:
            params[key] = str(value)
    return params


class QuietStream:
    """A stream that connects and then says nothing (marks are not part of the workload)."""

    def __init__(
        self, name: str, clock: VirtualClock, on_status: Callable[[StreamStatus], None] | None
    ) -> None:
        self._name = name
        self._clock = clock
        self._on_status = on_status
        self._status = StreamStatus(name, StreamHealth.DOWN, "not started", clock.now(), None)
        self.last_event_at: datetime | None = None

    @property
    def status(self) -> StreamStatus:
        return self._status

    def start(self) -> None:
        self._set(StreamHealth.CONNECTED, "connected")

    def stop(self) -> None:
        self._set(StreamHealth.DOWN, "stopped")

    def _set(self, health: StreamHealth, reason: str) -> None:
        if health is self._status.health:
            return
        self._status = StreamStatus(
            self._name, health, reason, self._clock.now(), self.last_event_at
        )
        if self._on_status is not None:
            self._on_status(self._status)


class SimUserStream(QuietStream):
    """The account's user data stream over the core's listener, with the run's stream faults.

    Each connection has a generation: events still travelling when it ends are lost with it.
    `stall()` keeps the connection but loses every event until the stall is noticed
    (DEGRADED), then reconnects and reports the gap; `disconnect()` does the same at once.
    """

    def __init__(
        self,
        core: Exchange,
        account_id: int,
        *,
        clock: VirtualClock,
        faults: Faults,
        on_event: Callable[[dict[str, Any]], None],
        on_status: Callable[[StreamStatus], None] | None,
        on_gap: Callable[[StreamGap], None] | None,
    ) -> None:
        super().__init__("user", clock, on_status)
        self._core = core
        self._account = account_id
        self._faults = faults
        self._on_event = on_event
        self._on_gap = on_gap
        self._token: int | None = None
        self._generation = 0
        self._live = False  # events flow on the current connection
        self._stopped = False
        self._opened_at: datetime | None = None
        self._gap: tuple[datetime, str] | None = None
        self._held: dict[str, Any] | None = None  # an event swapped behind the next one
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._last_at = 0.0
        self.delivered = 0

    def start(self) -> None:
        asyncio.get_running_loop().call_soon(self._open)

    def stop(self) -> None:
        self._stopped = True
        self._close()
        super().stop()

    @property
    def stalled(self) -> bool:
        return self._token is not None and not self._live

    def _open(self) -> None:
        if self._stopped or self._token is not None:
            return
        self._generation += 1
        self._token = self._core.add_user_listener(self._account, self._heard)
        self._live = True
        now = self._clock.now()
        self._opened_at = now
        self._set(StreamHealth.CONNECTED, "connected")
        if self._gap is not None and self._on_gap is not None:
            since, reason = self._gap
            self._gap = None
            self._on_gap(StreamGap("user", since, now, reason))

    def _close(self) -> None:
        if self._token is not None:
            self._core.remove_user_listener(self._token)
            self._token = None
        self._live = False
        self._held = None
        self._queue.clear()

    def stall(self) -> None:
        """Go silent; noticed after STALL_NOTICED_S, then replaced (a gap)."""
        if not self._live or self._stopped:
            return
        self._live = False
        generation = self._generation
        asyncio.get_running_loop().call_later(STALL_NOTICED_S, self._lost, generation, "stall")

    def disconnect(self) -> None:
        """The connection drops now (read failed): replaced after a short backoff."""
        if self._token is None or self._stopped:
            return
        self._lost(self._generation, "read failed: ConnectionClosedError")

    def _lost(self, generation: int, reason: str) -> None:
        if generation != self._generation or self._stopped or self._token is None:
            return
        last, opened = self.last_event_at, self._opened_at
        assert opened is not None
        since = last if last is not None and last > opened else opened
        self._gap = (since, reason)
        self._close()
        self._set(StreamHealth.DEGRADED, reason)
        asyncio.get_running_loop().call_later(RECONNECT_S, self._open)

    def release(self) -> None:
        """Quiesce: a stalled connection is noticed now instead of later."""
        if self.stalled:
            self._lost(self._generation, "stall")

    def _heard(self, event: dict[str, Any]) -> None:
        """The core's listener: called inside the core's operation, before the REST reply."""
        if not self._live:
            return  # a silent connection loses what is sent meanwhile
        faults = self._faults
        copy = json.loads(json.dumps(event))  # what crosses the wire is a fresh object
        if faults.drop_event():
            return
        copies = [copy, json.loads(json.dumps(event))] if faults.duplicate_event() else [copy]
        for item in copies:
            if self._held is None and faults.swap_event():
                self._held = item
                continue
            self._schedule(item)
            if self._held is not None:
                held, self._held = self._held, None
                self._schedule(held)

    def flush_held(self) -> None:
        """Quiesce: an event held back for a swap goes out now."""
        if self._held is not None:
            held, self._held = self._held, None
            self._schedule(held)

    def _schedule(self, event: dict[str, Any]) -> None:
        """Queue an event on the connection: first in, first out (one connection never reorders;
        `swap` is the exchange's own reordering), each after its own travel time."""
        loop = asyncio.get_running_loop()
        at = max(loop.time() + self._faults.event_delay(), self._last_at)
        self._last_at = at
        self._queue.append(event)
        loop.call_at(at, self._deliver, self._generation)

    def _deliver(self, generation: int) -> None:
        if generation != self._generation or not self._queue or not self._live:
            return  # the connection it travelled on is gone, and the event with it
        event = self._queue.popleft()
        self.last_event_at = self._clock.now()
        self.delivered += 1
        self._on_event(event)
