"""Holdings that existed before the desk become positions, priced from the trade history.

The history explains a holding when some run of its newest trades, replayed from flat with the
ledger's own cost-basis method, ends with exactly the quantity held and never sells more than it
holds. The longest such run is used (it reaches back to the last time the position was built up
from flat). Otherwise (deposits, transfers, a history cut short in the middle) the entry is
unknown. Commissions in a third asset are not part of a cost basis, so a replay leaves them out.
Only the quantity and the cost basis are kept: PnL before the desk is not the desk's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from engine.core.position import ZERO, Position
from engine.core.reports import FillReport
from engine.core.types import Side
from engine.ledger.costbasis import apply_fill, split_fee


def _qty_change(flat: Position, trade: FillReport) -> Decimal:
    fee = split_fee(flat, trade)
    if trade.side is Side.BUY:
        return trade.qty - fee.base
    return -(trade.qty + fee.base)


def _replay(flat: Position, trades: Sequence[FillReport]) -> Position | None:
    position = flat
    for trade in trades:
        effect = apply_fill(position, trade, None)
        if effect.excess_qty > 0:
            return None
        position = effect.position
    return position


def adopt_holding(
    flat: Position, holding: Decimal, trades: Sequence[FillReport], time: datetime
) -> Position:
    """A position of `holding` units; `trades` is the symbol's history, newest last."""
    relevant = [trade for trade in trades if trade.symbol == flat.symbol]
    starts: list[int] = []
    needed = holding
    for index in range(len(relevant) - 1, -1, -1):
        needed -= _qty_change(flat, relevant[index])
        if needed == 0:
            starts.append(index)
    for start in reversed(starts):  # oldest start first: the longest explaining run
        replayed = _replay(flat, relevant[start:])
        if replayed is not None:
            return Position(
                symbol=flat.symbol,
                base_asset=flat.base_asset,
                quote_asset=flat.quote_asset,
                qty=holding,
                cost_basis=replayed.cost_basis,
                adopted=True,
                updated_at=time,
            )
    return Position(
        symbol=flat.symbol,
        base_asset=flat.base_asset,
        quote_asset=flat.quote_asset,
        qty=holding,
        cost_basis=None if holding > 0 else ZERO,
        adopted=True,
        updated_at=time,
    )
