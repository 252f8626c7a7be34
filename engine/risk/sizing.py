"""Position sizing from a stop: risk a fixed share of equity between entry and stop.

quantity = (equity x risk per trade) / (entry - stop), capped by the limits and the symbol's
filters, each floored to the step (divisions round down first), so the loss at the stop never
exceeds the risk asked for and no cap is ever exceeded. Spot is long-only: the stop must be
below the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from engine.core.rules import SymbolRules
from engine.risk.limits import RiskLimits
from engine.risk.numbers import FLOOR, WIDE, ZERO, fmt
from engine.risk.results import Rule


@dataclass(frozen=True, slots=True)
class SizingResult:
    """The size of a long entry; `qty` is zero when `refusal` says why none is possible."""

    qty: Decimal
    risk_amount: Decimal  # equity x risk per trade, in the quote asset
    stop_distance: Decimal  # entry - stop
    raw_qty: Decimal  # risk_amount / stop_distance, before caps and the step
    notional: Decimal  # qty x entry
    risk_at_stop: Decimal  # qty x stop_distance: never above risk_amount
    capped_by: str | None = None  # the limit or filter that made the size smaller
    cap_reason: str | None = None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class _Cap:
    name: str
    max_value: Decimal | None  # a cap on qty x entry
    max_qty: Decimal | None  # a cap on qty
    text: str


def _caps(
    equity: Decimal, entry: Decimal, rules: SymbolRules, limits: RiskLimits, market: bool
) -> list[_Cap]:
    q = limits.quote_asset
    share = limits.max_position_share
    caps = [
        _Cap(
            Rule.ORDER_VALUE,
            limits.max_order_value,
            None,
            f"the maximum order value {fmt(limits.max_order_value)} {q}",
        ),
        _Cap(
            Rule.POSITION_VALUE,
            limits.max_position_value,
            None,
            f"the maximum position value {fmt(limits.max_position_value)} {q}",
        ),
        _Cap(
            Rule.POSITION_SHARE,
            equity * share,
            None,
            f"the maximum position share {fmt(share)} of equity {fmt(equity)} {q}",
        ),
    ]
    for lot in (rules.lot_size, rules.market_lot_size if market else None):
        if lot is not None and lot.max_qty > 0:
            text = f"{lot.filter_type} maxQty {fmt(lot.max_qty)}"
            caps.append(_Cap(lot.filter_type, None, lot.max_qty, text))
    for notional in rules.notional_filters:
        applies = not market or notional.apply_max_to_market
        if notional.max_notional is not None and applies:
            text = f"{notional.filter_type} maxNotional {fmt(notional.max_notional)}"
            caps.append(_Cap(notional.filter_type, notional.max_notional, None, text))
    return caps


def _floored(amount: Decimal, unit: Decimal, rules: SymbolRules, market: bool) -> Decimal:
    """The most units of `unit` that `amount` pays for, floored to the step: never above."""
    return rules.floor_qty(FLOOR.divide(amount, unit), market=market)


def _cap_qty(cap: _Cap, entry: Decimal, rules: SymbolRules, market: bool) -> Decimal:
    if cap.max_qty is not None:
        return rules.floor_qty(cap.max_qty, market=market)
    assert cap.max_value is not None
    return _floored(cap.max_value, entry, rules, market)


def size_from_stop(
    equity: Decimal,
    risk_per_trade: Decimal,
    entry: Decimal,
    stop: Decimal,
    rules: SymbolRules,
    limits: RiskLimits,
    *,
    market: bool = False,
) -> SizingResult:
    """The quantity of a long entry at `entry` with its stop at `stop` (see the module)."""
    with localcontext(WIDE):
        risk = equity * risk_per_trade
        distance = entry - stop

        def refused(why: str, raw: Decimal = ZERO) -> SizingResult:
            return SizingResult(ZERO, risk, distance, raw, ZERO, ZERO, refusal=why)

        if entry <= 0 or stop <= 0:
            return refused(f"entry {fmt(entry)} and stop {fmt(stop)} must both be positive")
        if stop >= entry:
            return refused(
                f"the stop {fmt(stop)} is not below the entry {fmt(entry)}: a long position's "
                "stop must be below its entry"
            )
        if risk <= 0:
            return refused(f"nothing to risk: equity {fmt(equity)} x risk {fmt(risk_per_trade)}")
        raw = FLOOR.divide(risk, distance)
        qty, binding = _floored(risk, distance, rules, market), None
        for cap in _caps(equity, entry, rules, limits, market):
            cap_qty = _cap_qty(cap, entry, rules, market)
            if cap_qty < qty:
                qty, binding = cap_qty, cap
        notional = qty * entry
        refusal = _too_small(qty, notional, rules, limits, market)
        if refusal is not None:
            return refused(refusal, raw)
        reason = None
        if binding is not None:
            reason = f"capped at {fmt(qty)} by {binding.text} at entry {fmt(entry)}"
        return SizingResult(
            qty,
            risk,
            distance,
            raw,
            notional,
            qty * distance,
            None if binding is None else binding.name,
            reason,
        )


def _too_small(
    qty: Decimal, notional: Decimal, rules: SymbolRules, limits: RiskLimits, market: bool
) -> str | None:
    """Why a sized quantity cannot be placed, or None."""
    q = limits.quote_asset
    if qty <= 0:
        return f"the size rounds down to 0 with step {fmt(rules.qty_step(market=market))}"
    for lot in (rules.lot_size, rules.market_lot_size if market else None):
        if lot is not None and qty < lot.min_qty:
            return f"the size {fmt(qty)} is below {lot.filter_type} minQty {fmt(lot.min_qty)}"
    for rule in rules.notional_filters:
        if (not market or rule.apply_min_to_market) and notional < rule.min_notional:
            return (
                f"the size {fmt(qty)} is worth {fmt(notional)}, below {rule.filter_type} "
                f"minNotional {fmt(rule.min_notional)}"
            )
    if notional < limits.min_order_value:
        return (
            f"the size {fmt(qty)} is worth {fmt(notional)} {q}, below the minimum order value "
            f"{fmt(limits.min_order_value)} {q}"
        )
    return None
