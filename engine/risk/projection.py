"""An order's expected numbers: rounded toward safety, priced, and its effect on the account.

A buy is valued at the higher of its price and the mark, so every projected exposure is at
least what the account would show after the order fills at its price. Its fee is estimated on
that value, and paying above the mark counts as a loss the moment it fills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from engine.core.filters import ceil_to_step
from engine.core.rules import SymbolRules
from engine.core.types import Side
from engine.risk.context import RiskContext
from engine.risk.exposure import Exposure, SymbolExposure, measured
from engine.risk.limits import RiskLimits
from engine.risk.numbers import CEILING, WIDE, ZERO
from engine.risk.proposal import ProposedOrder

Amount = Decimal | None  # None: unknown (no mark or no conversion); the checks needing it fail


@dataclass(frozen=True, slots=True)
class Projection:
    """One order and what it would do. `*_value` amounts are in the limits' quote asset."""

    order: ProposedOrder  # rounded toward safety
    adjusted: tuple[str, ...]
    rules: SymbolRules | None
    mark: Amount
    price: Amount  # expected execution price, in the symbol's quote asset
    qty: Amount  # base quantity (estimated for an order by quote quantity)
    cost: Amount  # what the order spends or sells for, in the symbol's quote asset
    fee: Amount  # estimated, in the symbol's quote asset
    order_value: Amount  # `cost` in the limits' quote
    exposure: Exposure
    held: SymbolExposure
    # What a buy does once filled at its price (None for sells and when unknown):
    fee_value: Amount = None
    added_value: Amount = None  # the order at the higher of its price and the mark
    held_value: Amount = None  # what is held, valued like the order (never below the mark)
    adverse_value: Amount = None  # paid above the mark
    position_value: Amount = None  # held and resting buys at that valuation, plus the order
    total_exposure: Amount = None  # every other symbol as it is, plus `position_value`
    equity_after: Amount = None  # equity less the fee and what was paid above the mark

    @property
    def loss_added(self) -> Amount:
        """What a buy adds to today's loss once filled: its fee and what it paid above the mark."""
        if self.fee_value is None or self.adverse_value is None:
            return None
        return self.fee_value + self.adverse_value


def _rounded(
    order: ProposedOrder, rules: SymbolRules | None
) -> tuple[ProposedOrder, tuple[str, ...]]:
    if rules is None:
        return order, ()
    quantized = rules.quantize(order.side, order.type, order.qty, order.price, order.stop_price)
    rounded = replace(
        order, qty=quantized.qty, price=quantized.price, stop_price=quantized.stop_price
    )
    return rounded, quantized.adjusted


def _execution_price(order: ProposedOrder, mark: Amount) -> Amount:
    """The price the order is expected to fill at: its limit, its trigger, or the mark."""
    if order.type.has_limit_price:
        return order.price
    if order.type.has_stop_price and order.stop_price is not None:
        if order.side is Side.BUY and mark is not None:
            return max(order.stop_price, mark)
        return order.stop_price
    return mark


def _quantity(order: ProposedOrder, price: Amount, rules: SymbolRules | None) -> Amount:
    if order.qty is not None:
        return order.qty
    assert order.quote_qty is not None  # a ProposedOrder has one or the other
    if price is None or price <= 0:
        return None
    if order.side is Side.BUY:
        return WIDE.divide(order.quote_qty, price)
    # A sell by quote quantity may take up to the next step of base: count that much.
    qty = CEILING.divide(order.quote_qty, price)
    return qty if rules is None else ceil_to_step(qty, rules.qty_step(market=True))


def project(
    order: ProposedOrder,
    ctx: RiskContext,
    limits: RiskLimits,
    exposure: Exposure | None = None,
) -> Projection:
    """Round, price and project `order` against the account in `ctx`; `exposure` is
    `measured(ctx, limits)` when the caller has it already."""
    rules = ctx.rules.get(order.symbol)
    rounded, adjusted = _rounded(order, rules)
    if exposure is None:
        exposure = measured(ctx, limits)
    symbol_quote = rules.quote_asset if rules is not None else None
    held = exposure.of(order.symbol, symbol_quote or limits.quote_asset)
    mark = ctx.marks.get(order.symbol)
    price = _execution_price(rounded, mark)
    qty = _quantity(rounded, price, rules)
    if rounded.quote_qty is not None:
        cost: Amount = rounded.quote_qty
    else:
        cost = None if qty is None or price is None else qty * price

    def value(amount: Amount) -> Amount:
        if amount is None or symbol_quote is None:
            return None
        return ctx.convert(amount, symbol_quote, limits.quote_asset)

    valuation = price if mark is None or price is None else max(price, mark)
    added = None if qty is None or valuation is None else qty * valuation
    if rounded.quote_qty is not None and valuation == price:
        added = rounded.quote_qty  # exact: no division in the value of a quote-quantity order
    fee = None if added is None else added * ctx.fee_rate
    projection = Projection(
        order=rounded,
        adjusted=adjusted,
        rules=rules,
        mark=mark,
        price=price,
        qty=qty,
        cost=cost,
        fee=fee,
        order_value=value(cost),
        exposure=exposure,
        held=held,
    )
    if rounded.side is Side.SELL:
        return projection
    return _with_buy_effects(projection, ctx, value, valuation, added)


def _with_buy_effects(
    projection: Projection,
    ctx: RiskContext,
    value: Callable[[Amount], Amount],
    valuation: Amount,
    added: Amount,
) -> Projection:
    held = projection.held
    adverse: Amount = None
    if projection.cost is not None and projection.qty is not None:
        at_mark = projection.cost if projection.mark is None else projection.qty * projection.mark
        adverse = max(projection.cost - at_mark, ZERO)
    held_at_valuation: Amount = ZERO
    if held.held_qty > 0:
        # What is held has no value without a mark, whatever the order's own price.
        if projection.mark is None or valuation is None:
            held_at_valuation = None
        else:
            held_at_valuation = value(held.held_qty * valuation)
    position: Amount = None
    added_value, resting = value(added), held.resting_buy_value
    if None not in (added_value, held_at_valuation, resting):
        position = (added_value or ZERO) + (held_at_valuation or ZERO) + (resting or ZERO)
    others = projection.exposure.total_without(projection.order.symbol)
    fee_value, adverse_value = value(projection.fee), value(adverse)
    equity_after: Amount = None
    if fee_value is not None and adverse_value is not None:
        equity_after = ctx.equity - fee_value - adverse_value
    return replace(
        projection,
        fee_value=fee_value,
        added_value=added_value,
        held_value=held_at_valuation,
        adverse_value=adverse_value,
        position_value=position,
        total_exposure=None if others is None or position is None else others + position,
        equity_after=equity_after,
    )
