"""The cost-basis method: average cost, fees where they were paid, exact Decimal arithmetic.

- A buy adds `qty x price` to the cost basis. A commission in the quote asset is added to the
  cost basis; one in the base asset means fewer units arrive (`qty - commission`) for the same
  cost. Either way buy fees raise the average entry price.
- A sell removes cost in proportion to the units that leave (`qty`, plus a base-asset
  commission); realized PnL is the proceeds (`qty x price`, less a quote-asset commission)
  minus that cost. Sell fees come out of the proceeds.
- A commission in a third asset (BNB) is valued in the quote asset at the price given for the
  fill and charged straight to realized PnL, on buys and sells alike; with no price it is kept
  as an unvalued fee and left out of PnL.
- A sell beyond the position never makes it negative: the units held leave, the excess is
  recorded (an alarm), and only the covered share of the proceeds is realized.

Sums and products run with 60 significant digits, so they are exact. The only division, the
share of cost (or of proceeds) a partial sell takes, is rounded to 12 decimals; what stays is
exactly the rest, so realized plus unrealized always equals the cash-flow PnL to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Context, Decimal, localcontext

from engine.core.position import ZERO, Position
from engine.core.reports import FillReport
from engine.core.types import Side

WIDE = Context(prec=60)
SHARE_QUANTUM = Decimal("1E-12")


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """`amount x part / whole`, rounded to 12 decimals (the rest stays with the position)."""
    return (amount * part / whole).quantize(SHARE_QUANTUM)


@dataclass(frozen=True, slots=True)
class FeeSplit:
    """One fill's commission, sorted by the asset it was charged in."""

    base: Decimal = ZERO  # units of the base asset
    quote: Decimal = ZERO  # units of the quote asset
    third_asset: str | None = None
    third: Decimal = ZERO  # units of the third asset


def split_fee(position: Position, fill: FillReport) -> FeeSplit:
    asset, amount = fill.commission_asset, fill.commission
    if asset is None or amount == 0:
        return FeeSplit()
    if asset == position.base_asset:
        return FeeSplit(base=amount)
    if asset == position.quote_asset:
        return FeeSplit(quote=amount)
    return FeeSplit(third_asset=asset, third=amount)


@dataclass(frozen=True, slots=True)
class FillEffect:
    position: Position
    excess_qty: Decimal  # sold beyond what the position held (zero on buys)


def _add_unvalued(
    fees: tuple[tuple[str, Decimal], ...], asset: str, amount: Decimal
) -> tuple[tuple[str, Decimal], ...]:
    totals = dict(fees)
    totals[asset] = totals.get(asset, ZERO) + amount
    return tuple(sorted(totals.items()))


def apply_fill(position: Position, fill: FillReport, fee_price: Decimal | None) -> FillEffect:
    """`position` after one fill; `fee_price` values a third-asset commission in the quote."""
    fee = split_fee(position, fill)
    with localcontext(WIDE):
        third_value = None
        if fee.third_asset is not None and fee_price is not None:
            third_value = fee.third * fee_price
        fees_paid = position.fees_paid + fee.base * fill.price + fee.quote + (third_value or ZERO)
        realized = position.realized_pnl - (third_value or ZERO)
        unvalued = position.unvalued_fees
        if fee.third_asset is not None and third_value is None:
            unvalued = _add_unvalued(unvalued, fee.third_asset, fee.third)
        if fill.side is Side.BUY:
            qty, cost = _buy(position, fill, fee)
            complete, excess = position.realized_complete, ZERO
        else:
            qty, cost, realized, complete, excess = _sell(position, fill, fee, realized)
        # One constructor call (not `replace` per step): this runs for every fill.
        moved = Position(
            symbol=position.symbol,
            base_asset=position.base_asset,
            quote_asset=position.quote_asset,
            qty=qty,
            cost_basis=cost,
            realized_pnl=realized,
            fees_paid=fees_paid,
            unvalued_fees=unvalued,
            oversold_qty=position.oversold_qty + excess,
            realized_complete=complete,
            adopted=position.adopted,
            updated_at=fill.time,
        )
        return FillEffect(moved, excess)


def _buy(position: Position, fill: FillReport, fee: FeeSplit) -> tuple[Decimal, Decimal | None]:
    """(quantity, cost basis) after a buy."""
    cost_added = fill.qty * fill.price + fee.quote
    if position.cost_basis is None:
        # Units of unknown cost are still held: the blend stays unknown until the position is flat.
        cost = None if position.qty > 0 else cost_added
    else:
        cost = position.cost_basis + cost_added
    return position.qty + fill.qty - fee.base, cost


def _sell(
    position: Position, fill: FillReport, fee: FeeSplit, realized: Decimal
) -> tuple[Decimal, Decimal | None, Decimal, bool, Decimal]:
    """(quantity, cost basis, realized PnL, realized complete, excess) after a sell;
    `realized` is the PnL before it (with any third-asset fee already charged)."""
    leaving = fill.qty + fee.base
    held = position.qty
    covered = min(leaving, held)
    excess = leaving - covered
    proceeds = fill.qty * fill.price - fee.quote
    if excess > 0:
        proceeds = _share(proceeds, covered, leaving)
    complete = position.realized_complete
    cost = position.cost_basis
    if covered > 0:
        if cost is None:
            complete = False  # units of unknown cost were sold: their PnL is unknown
        else:
            removed = cost if covered == held else _share(cost, covered, held)
            realized += proceeds - removed
            cost -= removed
    remaining = held - covered
    return remaining, ZERO if remaining == 0 else cost, realized, complete, excess


def dispose(position: Position, qty: Decimal, unit_value: Decimal | None) -> Position:
    """`position` after `qty` units left it without a trade (spent on fees elsewhere).

    With `unit_value` (in this position's quote asset) it is a disposal at that value; without,
    a disposal at cost (no PnL). Never below zero: at most the units held leave.
    """
    with localcontext(WIDE):
        held = position.qty
        leaving = min(qty, held)
        if leaving == 0:
            return position
        remaining = held - leaving
        if position.cost_basis is None:
            return replace(
                position,
                qty=remaining,
                cost_basis=ZERO if remaining == 0 else None,
                realized_complete=False,
            )
        removed = (
            position.cost_basis if leaving == held else _share(position.cost_basis, leaving, held)
        )
        value = removed if unit_value is None else leaving * unit_value
        return replace(
            position,
            qty=remaining,
            cost_basis=position.cost_basis - removed,
            realized_pnl=position.realized_pnl + value - removed,
        )
