"""Planning the exchange orders that protect a long position: which order type or OCO, prices
quantized toward safety, and Binance's price relations checked before anything is sent.

Spot is long-only, so protection always SELLs. One balance cannot back two separate sell orders,
so a stop-loss with a take-profit is one OCO (take-profit above, stop-loss below); either alone
is a single STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT. A Binance trailing stop (trailingDelta in BIPS)
is a STOP_LOSS leg without a stop price: it arms at the current price and trails the high.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.core.filters import floor_to_step
from engine.core.rules import SymbolRules
from engine.core.types import OrderType, Side, TimeInForce

HUNDRED = Decimal(100)
# Binance's TRAILING_DELTA filter bounds on every symbol seen so far (filters.md); the engine
# does not parse the filter, so these are the defaults a caller may override.
DEFAULT_TRAILING_BOUNDS = (10, 2000)


class PlanRefusal(ValueError):
    """The protection cannot be placed as asked; the message gives the numbers."""


@dataclass(frozen=True, slots=True)
class ProtectionRequest:
    """What the operator (or the auto rule) asks: prices as given, before any rounding."""

    symbol: str
    quantity: Decimal
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_delta_bips: int | None = None


@dataclass(frozen=True, slots=True)
class LegPlan:
    """One order to rest on the exchange; `role` is "stop_loss" or "take_profit"."""

    role: str
    type: OrderType
    price: Decimal | None
    stop_price: Decimal | None
    trailing_delta: int | None
    time_in_force: TimeInForce | None


@dataclass(frozen=True, slots=True)
class ProtectionPlan:
    """The orders to place: one leg alone, or two as an OCO (`above` then `below`)."""

    symbol: str
    side: Side
    quantity: Decimal
    legs: tuple[LegPlan, ...]
    adjusted: tuple[str, ...]

    @property
    def is_oco(self) -> bool:
        return len(self.legs) == 2

    def leg(self, role: str) -> LegPlan | None:
        return next((leg for leg in self.legs if leg.role == role), None)


def plan_protection(
    request: ProtectionRequest,
    rules: SymbolRules,
    last_price: Decimal,
    *,
    stop_limit_offset_pct: Decimal,
    trailing_bounds: tuple[int, int] = DEFAULT_TRAILING_BOUNDS,
) -> ProtectionPlan:
    """The plan for `request` at `last_price`, or PlanRefusal saying which rule fails and why."""
    sl, tp, delta = request.stop_loss, request.take_profit, request.trailing_delta_bips
    if sl is None and tp is None and delta is None:
        raise PlanRefusal("give a stop-loss, a take-profit or a trailing delta")
    if sl is not None and delta is not None:
        raise PlanRefusal("give a stop-loss price or a trailing delta, not both")
    if last_price <= 0:
        raise PlanRefusal(f"no usable last price for {request.symbol} ({_fmt(last_price)})")
    adjusted: list[str] = []
    legs: list[LegPlan] = []
    if tp is not None:
        legs.append(_take_profit_leg(tp, rules, last_price, adjusted))
    if sl is not None:
        legs.append(_stop_loss_leg(sl, rules, last_price, stop_limit_offset_pct, adjusted))
    if delta is not None:
        legs.append(_trailing_leg(delta, trailing_bounds))
    at_market = any(leg.type.executes_at_market for leg in legs)
    qty = rules.floor_qty(request.quantity, market=at_market)
    if qty != request.quantity:
        adjusted.append("quantity")
    if qty <= 0:
        raise PlanRefusal(
            f"quantity {_fmt(request.quantity)} rounds down to 0 at step {_fmt(rules.qty_step())}"
        )
    _check_relations(legs, last_price)
    _check_filters(legs, rules, qty, last_price)
    return ProtectionPlan(request.symbol, Side.SELL, qty, tuple(legs), tuple(adjusted))


def _take_profit_leg(
    tp: Decimal, rules: SymbolRules, last: Decimal, adjusted: list[str]
) -> LegPlan:
    """TAKE_PROFIT_LIMIT SELL: triggers at `tp` (snapped toward the market) and sells at it."""
    trigger = rules.round_stop_price(tp, Side.SELL, OrderType.TAKE_PROFIT_LIMIT)
    if trigger != tp:
        adjusted.append("take_profit")
    return LegPlan(
        "take_profit", OrderType.TAKE_PROFIT_LIMIT, trigger, trigger, None, TimeInForce.GTC
    )


def _stop_loss_leg(
    sl: Decimal, rules: SymbolRules, last: Decimal, offset_pct: Decimal, adjusted: list[str]
) -> LegPlan:
    """STOP_LOSS_LIMIT SELL: triggers at `sl` (snapped up: no later) and sells down to
    `offset_pct` below it (floored to the tick), so a fast market still fills it."""
    trigger = rules.round_stop_price(sl, Side.SELL, OrderType.STOP_LOSS_LIMIT)
    if trigger != sl:
        adjusted.append("stop_loss")
    limit = floor_to_step(trigger * (1 - offset_pct / HUNDRED), rules.tick_size)
    if limit <= 0:
        raise PlanRefusal(
            f"the stop-loss limit price {_fmt(limit)} ({_fmt(offset_pct)}% below "
            f"{_fmt(trigger)}) is not positive"
        )
    return LegPlan("stop_loss", OrderType.STOP_LOSS_LIMIT, limit, trigger, None, TimeInForce.GTC)


def _trailing_leg(delta: int, bounds: tuple[int, int]) -> LegPlan:
    """STOP_LOSS SELL with trailingDelta: arms now and sells at market once the price falls
    `delta` BIPS from the highest price since."""
    low, high = bounds
    if not low <= delta <= high:
        raise PlanRefusal(
            f"trailing delta {delta} BIPS is outside the symbol's TRAILING_DELTA range "
            f"[{low}, {high}] (100 BIPS = 1%)"
        )
    return LegPlan("stop_loss", OrderType.STOP_LOSS, None, None, delta, None)


def _check_relations(legs: list[LegPlan], last: Decimal) -> None:
    """Binance's SELL relations: take-profit prices above the last price, stop below it (a
    stop at or above would trigger at once); for an OCO, limit > last > stop."""
    tp = next((leg for leg in legs if leg.role == "take_profit"), None)
    sl = next((leg for leg in legs if leg.role == "stop_loss"), None)
    if tp is not None and sl is not None and sl.stop_price is not None:
        assert tp.price is not None
        if not tp.price > last > sl.stop_price:
            raise PlanRefusal(
                "a SELL OCO needs take-profit > last price > stop-loss: got take-profit "
                f"{_fmt(tp.price)}, last price {_fmt(last)}, stop-loss {_fmt(sl.stop_price)}"
            )
    if tp is not None and tp.stop_price is not None and tp.stop_price <= last:
        raise PlanRefusal(
            f"take-profit {_fmt(tp.stop_price)} is not above the last price {_fmt(last)}: it would "
            "trigger immediately"
        )
    if sl is not None and sl.stop_price is not None and sl.stop_price >= last:
        raise PlanRefusal(
            f"stop-loss {_fmt(sl.stop_price)} is not below the last price {_fmt(last)}: it would "
            "trigger immediately"
        )


def _check_filters(legs: list[LegPlan], rules: SymbolRules, qty: Decimal, last: Decimal) -> None:
    """Every exchange filter each leg would fail, with the numbers."""
    problems: list[str] = []
    for leg in legs:
        for violation in rules.check(
            Side.SELL, leg.type, qty, leg.price, last, stop_price=leg.stop_price
        ):
            if leg.trailing_delta is not None and violation.field == "stopPrice":
                continue  # a trailing stop needs no stop price
            problems.append(f"{leg.role} {leg.type}: {violation.filter}: {violation.message}")
    if problems:
        raise PlanRefusal("refused before sending: " + "; ".join(problems))


def _fmt(value: Decimal) -> str:
    """A decimal as plain digits without trailing zeros, for messages."""
    return format(value.normalize(), "f")
