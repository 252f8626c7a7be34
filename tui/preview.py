"""The order ticket's local checks: symbol against the snapshot, amounts rounded toward safety.

The engine's dry run is the real preview; these checks catch typos before anything is asked of
the engine, and make every rounding visible (F3: never rounded silently).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

ORDER_TYPES = ("market", "limit", "limit_maker")
SIDES = ("BUY", "SELL")


@dataclass(frozen=True)
class TicketForm:
    """What the operator typed, as text."""

    symbol: str
    side: str
    order_type: str
    quantity: str = ""
    quote_quantity: str = ""
    price: str = ""


@dataclass(frozen=True)
class LocalCheck:
    """The SubmitOrder arguments after local rounding, the roundings made, or why not."""

    args: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    error: str | None = None


def _number(text: str, name: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive number")
    return value


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=rounding) * step


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def local_check(form: TicketForm, symbols: Mapping[str, Mapping[str, Any]]) -> LocalCheck:
    """Validate and round `form`; quantities round down, a buy's price down, a sell's up."""
    symbol = form.symbol.strip().upper()
    info = symbols.get(symbol)
    if info is None:
        known = ", ".join(sorted(symbols)) or "none"
        return LocalCheck(error=f"unknown symbol (this engine trades: {known})")
    if info.get("status") not in (None, "TRADING"):
        return LocalCheck(error=f"{symbol} is {info.get('status')}, not TRADING")
    side = form.side.upper()
    if side not in SIDES or form.order_type not in ORDER_TYPES:
        return LocalCheck(error="choose a side and a type")
    try:
        qty = _number(form.quantity, "quantity")
        quote = _number(form.quote_quantity, "quote quantity")
        price = _number(form.price, "price")
    except ValueError as error:
        return LocalCheck(error=str(error))
    if (qty is None) == (quote is None):
        return LocalCheck(error="give a quantity or a quote quantity (exactly one)")
    if quote is not None and form.order_type != "market":
        return LocalCheck(error="a quote quantity is for market orders only")
    if form.order_type == "market" and price is not None:
        return LocalCheck(error="a market order takes no price")
    if form.order_type != "market" and price is None:
        return LocalCheck(error=f"a {form.order_type} order needs a price")
    notes: list[str] = []
    args: dict[str, Any] = {"symbol": symbol, "side": side, "type": form.order_type}
    if qty is not None:
        step = Decimal(str(info.get("step_size") or 0))
        rounded = _to_step(qty, step, ROUND_FLOOR)
        if rounded != qty:
            notes.append(
                f"quantity {_plain(qty)} rounded down to {_plain(rounded)} (step {_plain(step)})"
            )
        min_qty = Decimal(str(info.get("min_qty") or 0))
        if rounded <= 0 or rounded < min_qty:
            return LocalCheck(
                error=f"quantity below the minimum {_plain(min_qty)}", notes=tuple(notes)
            )
        args["quantity"] = _plain(rounded)
        qty = rounded
    else:
        args["quote_quantity"] = _plain(quote or Decimal(0))
    if price is not None:
        tick = Decimal(str(info.get("tick_size") or 0))
        rounding = ROUND_FLOOR if side == "BUY" else ROUND_CEILING
        rounded_price = _to_step(price, tick, rounding)
        if rounded_price != price:
            way = "down" if side == "BUY" else "up"
            notes.append(
                f"price {_plain(price)} rounded {way} to {_plain(rounded_price)}"
                f" (tick {_plain(tick)})"
            )
        args["price"] = _plain(rounded_price)
        min_notional = Decimal(str(info.get("min_notional") or 0))
        if qty is not None and qty * rounded_price < min_notional:
            return LocalCheck(
                error=f"order value {_plain(qty * rounded_price)} is below the minimum "
                f"{_plain(min_notional)}",
                notes=tuple(notes),
            )
    return LocalCheck(args=args, notes=tuple(notes))


def base_quote_words(info: Mapping[str, Any], side: str) -> str:
    """ "BUY BTC with USDT" / "SELL BTC for USDT": the symbol in words (F4, F5)."""
    base, quote = info.get("base_asset", "?"), info.get("quote_asset", "?")
    return f"{side} {base} with {quote}" if side == "BUY" else f"{side} {base} for {quote}"
