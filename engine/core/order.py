"""One order as the desk knows it: an immutable record the order book replaces on every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Order:
    """An order keyed by its client order id.

    `cum_qty` is the venue's executed quantity (the highest seen in any report, never less than
    what was booked); `filled_qty` is the sum of the unique fills booked. When they differ,
    fills are missing and reconciliation fetches them (myTrades). `last_known_state` equals
    `state` except while the state is UNKNOWN, when it holds the state before it.
    """

    client_order_id: str
    symbol: str
    origin: Origin
    state: OrderState
    last_known_state: OrderState
    side: Side | None = None
    type: OrderType | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    quote_qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    order_id: int | None = None
    order_list_id: int | None = None
    cum_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    filled_qty: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fill_count: int = 0
    cancel_requested: bool = False
    cancel_client_order_id: str | None = None
    reject_reason: str | None = None
    expiry_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def rank(self) -> int:
        """How far along the forward path the order is; never decreases."""
        return self.last_known_state.rank

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    @property
    def is_open(self) -> bool:
        return not self.state.is_terminal

    @property
    def missing_fill_qty(self) -> Decimal:
        """Executed at the venue but not booked yet: fills to fetch."""
        return self.cum_qty - self.filled_qty

    @property
    def remaining_qty(self) -> Decimal | None:
        """What may still execute; zero once terminal, None when the quantity is not known."""
        if self.is_terminal:
            return ZERO
        if self.qty is None:
            return None
        return max(self.qty - self.cum_qty, ZERO)

    @property
    def average_fill_price(self) -> Decimal | None:
        """Average price over the booked fills (None before any fill)."""
        if self.filled_qty == 0:
            return None
        return self.filled_quote / self.filled_qty
