"""Binance's symbol filters (filters.md), each able to say why it would refuse a number.

A failure of any of them is what Binance rejects as -1013 "Filter failure: <FILTER>"; a
Violation names the filter, the field and the numbers, so the operator sees why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.core.types import Side
from engine.core.wire import bool_field, decimal_field, int_field


def _display_quantum(step: Decimal) -> Decimal:
    """The quantum to show a multiple of `step` with: 0.00100000 -> 0.001, 10 -> 1."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(1).scaleb(min(exponent, 0))


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value` (>= 0); `value` itself when step is 0."""
    if step == 0:
        return value
    return (value - value % step).quantize(_display_quantum(step))


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `value` (>= 0); `value` itself when step is 0."""
    if step == 0:
        return value
    remainder = value % step
    return (value if remainder == 0 else value - remainder + step).quantize(_display_quantum(step))


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step == 0 or value % step == 0


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason the venue would refuse an order, with the numbers involved."""

    filter: str  # the Binance filter (LOT_SIZE, NOTIONAL, ...) or STATUS / ORDER_TYPES / ...
    field: str  # quantity, price, stopPrice, notional, quoteOrderQty, status, type, openOrders
    message: str
    value: Decimal | None = None
    limit: Decimal | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class PriceFilter:
    """PRICE_FILTER; each part is disabled when zero. Applies to price and stopPrice."""

    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal

    @classmethod
    def from_json(cls, item: Mapping[str, Any], where: str) -> PriceFilter:
        return cls(
            decimal_field(item, "minPrice", where),
            decimal_field(item, "maxPrice", where),
            decimal_field(item, "tickSize", where),
        )

    def violations(self, value: Decimal, name: str) -> list[Violation]:
        found: list[Violation] = []
        if self.min_price > 0 and value < self.min_price:
            message = f"{name} {value} is below minPrice {self.min_price}"
            found.append(Violation("PRICE_FILTER", name, message, value, self.min_price))
        if self.max_price > 0 and value > self.max_price:
            message = f"{name} {value} is above maxPrice {self.max_price}"
            found.append(Violation("PRICE_FILTER", name, message, value, self.max_price))
        if not is_multiple(value, self.tick_size):
            message = f"{name} {value} is not a multiple of tickSize {self.tick_size}"
            found.append(Violation("PRICE_FILTER", name, message, value, self.tick_size))
        return found


@dataclass(frozen=True, slots=True)
class LotSize:
    """LOT_SIZE or MARKET_LOT_SIZE (named by `filter_type`)."""

    filter_type: str
    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal

    @classmethod
    def from_json(cls, item: Mapping[str, Any], where: str) -> LotSize:
        return cls(
            str(item["filterType"]),
            decimal_field(item, "minQty", where),
            decimal_field(item, "maxQty", where),
            decimal_field(item, "stepSize", where),
        )

    def violations(self, qty: Decimal) -> list[Violation]:
        found: list[Violation] = []
        kind = self.filter_type
        if qty < self.min_qty:
            message = f"quantity {qty} is below {kind} minQty {self.min_qty}"
            found.append(Violation(kind, "quantity", message, qty, self.min_qty))
        if self.max_qty > 0 and qty > self.max_qty:
            message = f"quantity {qty} is above {kind} maxQty {self.max_qty}"
            found.append(Violation(kind, "quantity", message, qty, self.max_qty))
        if not is_multiple(qty, self.step_size):
            message = f"quantity {qty} is not a multiple of {kind} stepSize {self.step_size}"
            found.append(Violation(kind, "quantity", message, qty, self.step_size))
        return found


@dataclass(frozen=True, slots=True)
class NotionalFilter:
    """NOTIONAL, or the legacy MIN_NOTIONAL (no maximum, one applyToMarket flag)."""

    filter_type: str
    min_notional: Decimal
    max_notional: Decimal | None
    apply_min_to_market: bool
    apply_max_to_market: bool
    avg_price_mins: int

    @classmethod
    def from_json(cls, item: Mapping[str, Any], where: str) -> NotionalFilter:
        if item["filterType"] == "MIN_NOTIONAL":
            return cls(
                "MIN_NOTIONAL",
                decimal_field(item, "minNotional", where),
                None,
                bool_field(item, "applyToMarket", where),
                False,
                int_field(item, "avgPriceMins", where),
            )
        return cls(
            "NOTIONAL",
            decimal_field(item, "minNotional", where),
            decimal_field(item, "maxNotional", where),
            bool_field(item, "applyMinToMarket", where),
            bool_field(item, "applyMaxToMarket", where),
            int_field(item, "avgPriceMins", where),
        )

    def violations(self, notional: Decimal, *, market: bool) -> list[Violation]:
        found: list[Violation] = []
        kind = self.filter_type
        if (not market or self.apply_min_to_market) and notional < self.min_notional:
            message = f"notional {notional} is below minNotional {self.min_notional}"
            found.append(Violation(kind, "notional", message, notional, self.min_notional))
        maximum = self.max_notional
        if maximum is not None and (not market or self.apply_max_to_market) and notional > maximum:
            message = f"notional {notional} is above maxNotional {maximum}"
            found.append(Violation(kind, "notional", message, notional, maximum))
        return found


@dataclass(frozen=True, slots=True)
class PercentPrice:
    """PERCENT_PRICE_BY_SIDE, or PERCENT_PRICE with the same band on both sides."""

    filter_type: str
    bid_up: Decimal
    bid_down: Decimal
    ask_up: Decimal
    ask_down: Decimal
    avg_price_mins: int

    @classmethod
    def from_json(cls, item: Mapping[str, Any], where: str) -> PercentPrice:
        minutes = int_field(item, "avgPriceMins", where)
        if item["filterType"] == "PERCENT_PRICE":
            up = decimal_field(item, "multiplierUp", where)
            down = decimal_field(item, "multiplierDown", where)
            return cls("PERCENT_PRICE", up, down, up, down, minutes)
        return cls(
            "PERCENT_PRICE_BY_SIDE",
            decimal_field(item, "bidMultiplierUp", where),
            decimal_field(item, "bidMultiplierDown", where),
            decimal_field(item, "askMultiplierUp", where),
            decimal_field(item, "askMultiplierDown", where),
            minutes,
        )

    def violations(self, side: Side, price: Decimal, ref_price: Decimal) -> list[Violation]:
        up, down = (
            (self.bid_up, self.bid_down) if side is Side.BUY else (self.ask_up, self.ask_down)
        )
        high, low = ref_price * up, ref_price * down
        found: list[Violation] = []
        if price > high:
            message = f"{side} price {price} is above {high} ({up} x average {ref_price})"
            found.append(Violation(self.filter_type, "price", message, price, high))
        if price < low:
            message = f"{side} price {price} is below {low} ({down} x average {ref_price})"
            found.append(Violation(self.filter_type, "price", message, price, low))
        return found
