"""Reading command arguments: JSON values in, typed values out, or a usage error saying why.

Amounts arrive as decimal strings (or Decimal in-process); a float is refused, because a float
in a money path has already lost digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.core.types import OrderType, Side, TimeInForce

ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "limit_maker": OrderType.LIMIT_MAKER,
    "limit-maker": OrderType.LIMIT_MAKER,
}


class UsageError(ValueError):
    """A malformed command: missing field, bad number, unknown choice."""


@dataclass(frozen=True)
class OrderRequest:
    """A SubmitOrder command as typed values, before quantization."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce | None
    quantity: Decimal | None
    quote_quantity: Decimal | None
    price: Decimal | None
    size_from_stop: Decimal | None = None  # the stop to size a BUY from, instead of quantity


def text(args: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise UsageError(f"missing {key}")
        return None
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string")
    return value


def required_text(args: Mapping[str, Any], key: str) -> str:
    value = text(args, key)
    assert value is not None
    return value


def amount(args: Mapping[str, Any], key: str) -> Decimal | None:
    """A positive decimal from a string, an int or a Decimal; None when absent."""
    value = args.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise UsageError(f"{key} must be a decimal string, not {type(value).__name__}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise UsageError(f"{key} is not a number: {str(value)[:40]!r}") from None
    if not number.is_finite() or number <= 0:
        raise UsageError(f"{key} must be a positive number, not {number}")
    return number


def symbol_arg(args: Mapping[str, Any], *, required: bool = True) -> str | None:
    value = text(args, "symbol", required=required)
    if value is None:
        return None
    symbol = value.strip().upper()
    if not symbol.isalnum() or len(symbol) > 20:
        raise UsageError(f"symbol {value[:30]!r} is not a symbol name")
    return symbol


def order_request(args: Mapping[str, Any]) -> OrderRequest:
    symbol = symbol_arg(args)
    assert symbol is not None
    side_text = required_text(args, "side").upper()
    try:
        side = Side(side_text)
    except ValueError:
        raise UsageError(f"side must be buy or sell, not {side_text[:20]!r}") from None
    type_text = (text(args, "type", required=False) or "market").lower()
    order_type = ORDER_TYPES.get(type_text)
    if order_type is None:
        raise UsageError(f"type must be market, limit or limit_maker, not {type_text[:20]!r}")
    tif_text = text(args, "time_in_force", required=False)
    time_in_force: TimeInForce | None = None
    if order_type is OrderType.LIMIT:
        try:
            time_in_force = TimeInForce((tif_text or "GTC").upper())
        except ValueError:
            raise UsageError(f"time_in_force must be GTC, IOC or FOK, not {tif_text!r}") from None
    elif tif_text is not None:
        raise UsageError(f"{order_type} orders take no time_in_force")
    quantity = amount(args, "quantity")
    quote_quantity = amount(args, "quote_quantity")
    stop = amount(args, "size_from_stop")
    if [quantity, quote_quantity, stop].count(None) != 2:
        raise UsageError("give quantity or quote_quantity or, for a BUY, size_from_stop (one)")
    if stop is not None and side is not Side.BUY:
        raise UsageError("size_from_stop sizes a BUY (spot is long-only)")
    if quote_quantity is not None and order_type is not OrderType.MARKET:
        raise UsageError("quote_quantity is for market orders only")
    price = amount(args, "price")
    if order_type.has_limit_price and price is None:
        raise UsageError(f"{type_text} orders need a price")
    if not order_type.has_limit_price and price is not None:
        raise UsageError("market orders take no price")
    return OrderRequest(
        symbol, side, order_type, time_in_force, quantity, quote_quantity, price, stop
    )


def with_sizing_stop(args: Mapping[str, Any]) -> Mapping[str, Any]:
    """SubmitOrder arguments where a BUY's `size_from_stop` is also its `stop_loss` protection,
    unless a stop (or a trailing stop) was given: the size assumes that stop will be there."""
    side = args.get("side")
    if (
        args.get("size_from_stop") in (None, "")
        or not isinstance(side, str)
        or side.upper() != Side.BUY.value
        or args.get("stop_loss") not in (None, "")
        or args.get("trailing_delta_bips") is not None
    ):
        return args
    return {**args, "stop_loss": args["size_from_stop"]}
