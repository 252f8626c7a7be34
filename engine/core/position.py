"""One spot position as the ledger knows it: an immutable record replaced on every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    """Long-only inventory of a symbol's base asset, valued in its quote asset.

    Average cost: `cost_basis` is the quote paid for the units held, buy fees included; a sell
    removes cost in proportion to the quantity that leaves. `cost_basis` is None when the entry
    is unknown (holdings adopted without a trade history that explains them).
    """

    symbol: str
    base_asset: str
    quote_asset: str
    qty: Decimal = ZERO
    cost_basis: Decimal | None = ZERO
    realized_pnl: Decimal = ZERO  # net of every fee
    fees_paid: Decimal = ZERO  # in the quote asset, at the value the fees had when charged
    unvalued_fees: tuple[tuple[str, Decimal], ...] = ()  # third-asset fees with no price given
    oversold_qty: Decimal = ZERO  # sold beyond the position; the quantity was clamped at zero
    realized_complete: bool = True  # False once units of unknown cost were sold
    adopted: bool = False
    updated_at: datetime | None = None

    @property
    def is_flat(self) -> bool:
        return self.qty == 0

    @property
    def entry_known(self) -> bool:
        return self.cost_basis is not None

    @property
    def avg_entry_price(self) -> Decimal | None:
        """Cost per unit held, fees included; None when flat or unknown."""
        if self.cost_basis is None or self.qty == 0:
            return None
        return self.cost_basis / self.qty

    def unrealized_pnl(self, mark: Decimal) -> Decimal | None:
        """What selling everything at `mark` would gain over the cost basis (before sell fees)."""
        if self.cost_basis is None:
            return None
        return self.qty * mark - self.cost_basis
