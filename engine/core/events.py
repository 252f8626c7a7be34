"""Events: immutable, past-tense facts the order book and the ledger report after each change.

Order events carry the order's record after the change. Alarm events (`is_alarm`) mean the
desk saw something it did not expect and the operator must be told.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport, FillReport, OrderStatusReport


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""

    is_alarm: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, slots=True)
class OrderEvent(Event):
    order: Order


@dataclass(frozen=True, slots=True)
class OrderSubmitted(OrderEvent):
    """An intent entered the book (PENDING_NEW)."""


@dataclass(frozen=True, slots=True)
class OrderAccepted(OrderEvent):
    """The venue has the order."""


@dataclass(frozen=True, slots=True)
class OrderPartiallyFilled(OrderEvent):
    """A new fill was booked and the order is not complete."""

    fill: FillReport


@dataclass(frozen=True, slots=True)
class OrderFilled(OrderEvent):
    """The fill that completed the order was booked."""

    fill: FillReport


@dataclass(frozen=True, slots=True)
class OrderUpdated(OrderEvent):
    """State or executed quantity moved without a fill in hand (e.g. a query said FILLED)."""


@dataclass(frozen=True, slots=True)
class OrderCanceled(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderExpired(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderRejected(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderStateUnknown(OrderEvent):
    """A request's outcome is unknown; the order waits for a query to settle it (R2, R3)."""


@dataclass(frozen=True, slots=True)
class OrderCancelRequested(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderCancelRejected(OrderEvent):
    """The venue refused a cancel (the order may have filled meanwhile)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ExternalOrderDetected(OrderEvent):
    """An order placed outside the desk; the desk shows it and never touches it on its own."""


@dataclass(frozen=True, slots=True)
class OrderAdopted(OrderEvent):
    """An order with our id prefix that the book did not know (journal loss, another desk)."""

    is_alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ReportUnmatched(Event):
    """A report the book could not attribute to an order; nothing was applied."""

    is_alarm: ClassVar[bool] = True
    reason: str
    status: OrderStatusReport | None = None
    fills: tuple[FillReport, ...] = ()


@dataclass(frozen=True, slots=True)
class BalanceChanged(Event):
    """An asset's free or locked amount changed."""

    balance: BalanceReport
    previous: BalanceReport | None


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """A position's quantity, cost or PnL changed; `fill` is the cause when there is one."""

    position: Position
    fill: FillReport | None = None


@dataclass(frozen=True, slots=True)
class PositionOversold(Event):
    """A sell took more than the position held; the quantity stopped at zero."""

    is_alarm: ClassVar[bool] = True
    position: Position
    excess_qty: Decimal
    fill: FillReport
