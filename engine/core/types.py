"""The enums every part of the engine shares: sides, order types, states and origins."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Binance's order side."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Binance Spot's order types (enums.md `orderTypes`)."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"

    @property
    def has_limit_price(self) -> bool:
        """Whether the order carries a limit `price`."""
        return self in _PRICED

    @property
    def has_stop_price(self) -> bool:
        """Whether the order is triggered by a `stopPrice` (Binance's "algo" orders)."""
        return self in _TRIGGERED

    @property
    def executes_at_market(self) -> bool:
        """Whether the order (once triggered) executes as a MARKET order."""
        return self in _AT_MARKET


_PRICED = frozenset(
    {
        OrderType.LIMIT,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.LIMIT_MAKER,
    }
)
_TRIGGERED = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
_AT_MARKET = frozenset({OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT})


class TimeInForce(StrEnum):
    """How long an order stays working (MARKET orders report GTC)."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderState(StrEnum):
    """The life of one order as the desk knows it.

    PENDING_NEW is "sent or about to be sent, the venue has not confirmed it yet" (Binance also
    uses it for an order-list leg that is not working yet). UNKNOWN means the outcome of a request
    is not known and must be settled by a query (R2, R3); it sits outside the forward order.
    """

    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """A terminal order never changes state again (its late fills are still booked)."""
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """Whether the order may still be (or become) working at the venue."""
        return not self.is_terminal

    @property
    def rank(self) -> int:
        """Position on the forward path; a report may only move an order to a higher rank.

        All terminal states share the top rank: the first terminal state reported wins. UNKNOWN
        has no rank of its own; an UNKNOWN order keeps the rank of the state it was in.
        """
        if self is OrderState.UNKNOWN:
            raise ValueError("UNKNOWN has no rank; use the order's last known state")
        return _RANK[self]


_TERMINAL = frozenset(
    {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.EXPIRED}
)
_RANK = {
    OrderState.PENDING_NEW: 0,
    OrderState.NEW: 1,
    OrderState.PARTIALLY_FILLED: 2,
    OrderState.FILLED: 3,
    OrderState.CANCELED: 3,
    OrderState.REJECTED: 3,
    OrderState.EXPIRED: 3,
}


class Origin(StrEnum):
    """Where an order in the book came from."""

    DESK = "DESK"  # placed by this desk from an intent in the journal
    EXTERNAL = "EXTERNAL"  # placed outside the desk (web, app, another program); never touched
    ADOPTED = "ADOPTED"  # carries our id prefix but the book did not know it: an alarm
