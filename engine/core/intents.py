"""An order the desk means to place: what the journal commits before a byte goes out (R1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.ids import validate_client_order_id
from engine.core.types import OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A new order with our client order id, already quantized to the symbol's rules."""

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal | None  # None only for a MARKET order by quote quantity
    created_at: datetime
    price: Decimal | None = None
    stop_price: Decimal | None = None
    quote_qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    order_list_id: int | None = None

    def __post_init__(self) -> None:
        validate_client_order_id(self.client_order_id)
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if (self.qty is None) == (self.quote_qty is None):
            raise ValueError("an intent has a quantity or a quote quantity, not both or neither")
