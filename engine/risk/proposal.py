"""An order someone wants to place, as risk sees it before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.core.types import OrderType, Side


@dataclass(frozen=True, slots=True)
class ProposedOrder:
    """What the desk, the command line, protection or flattening asks to place.

    `confirmed` is the operator's explicit yes to an order above the soft notional limit (the
    desk's confirmation, the CLI's `--yes`); the engine sets it for its own protective orders.
    """

    symbol: str
    side: Side
    type: OrderType
    qty: Decimal | None = None
    quote_qty: Decimal | None = None  # MARKET orders by quote quantity only
    price: Decimal | None = None
    stop_price: Decimal | None = None
    confirmed: bool = False

    def __post_init__(self) -> None:
        if (self.qty is None) == (self.quote_qty is None):
            raise ValueError("an order has a quantity or a quote quantity, not both or neither")

    @property
    def reduces_position(self) -> bool:
        """Spot is long-only: every SELL reduces a position and every BUY may open or add one."""
        return self.side is Side.SELL
