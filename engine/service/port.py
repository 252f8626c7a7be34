"""The venue as the engine uses it: the calls it makes, so tests can stand in a fake venue.

`engine.venue.binance.BinanceVenue` implements it over python-binance; nothing else in the
engine reaches an exchange.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from engine.core.reports import FillReport, OrderStatusReport
from engine.venue.binance import OcoLeg
from engine.venue.budget import RateBudget
from engine.venue.health import StreamGap, StreamStatus
from engine.venue.marketdata import Mark, MarkStore
from engine.venue.parse import OrderResponse
from engine.venue.results import AccountSnapshot, ExchangeInfo, OrderListResult
from engine.venue.supervisor import SupervisorConfig


class StreamHandle(Protocol):
    """A stream supervisor: started once, stopped by the venue's `close()`."""

    last_event_at: datetime | None

    def start(self) -> None: ...

    @property
    def status(self) -> StreamStatus: ...


class VenuePort(Protocol):
    budget: RateBudget

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def sync_time(self) -> int: ...

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
    ) -> OrderResponse: ...

    async def create_oco(
        self,
        *,
        symbol: str,
        side: str,
        quantity: Decimal,
        list_client_order_id: str,
        above: OcoLeg,
        below: OcoLeg,
    ) -> OrderListResult: ...

    async def cancel_order_list(
        self, symbol: str, list_client_order_id: str
    ) -> OrderListResult: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderStatusReport: ...

    async def get_order(self, symbol: str, client_order_id: str) -> OrderStatusReport: ...

    async def open_orders(self, symbol: str | None = None) -> list[OrderStatusReport]: ...

    async def all_orders(
        self, symbol: str, *, order_id: int | None = None, limit: int | None = None
    ) -> list[OrderStatusReport]: ...

    async def my_trades(
        self,
        symbol: str,
        *,
        from_id: int | None = None,
        order_id: int | None = None,
        limit: int | None = None,
    ) -> list[FillReport]: ...

    async def cancel_all(self, symbol: str) -> list[OrderStatusReport]: ...

    async def account(self) -> AccountSnapshot: ...

    async def exchange_info(self) -> ExchangeInfo: ...

    async def ticker_prices(self, symbol: str | None = None) -> dict[str, Decimal]: ...

    def user_stream(
        self,
        on_event: Callable[[dict[str, Any]], None],
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_gap: Callable[[StreamGap], None] | None = None,
        config: SupervisorConfig | None = None,
    ) -> StreamHandle: ...

    def market_stream(
        self,
        symbols: Iterable[str],
        store: MarkStore,
        *,
        rng: random.Random,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_mark: Callable[[Mark], None] | None = None,
        config: SupervisorConfig | None = None,
    ) -> StreamHandle: ...


def clock_offset_ms(venue: object) -> int | None:
    """python-binance's server-time offset, when the venue exposes its client."""
    try:
        offset = venue.client.timestamp_offset  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None
    return offset if isinstance(offset, int) else None
