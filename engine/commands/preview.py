"""An order's preview before confirmation: rounded toward safety with the symbol's filters.

The filters come from the engine's snapshot (`symbols`), so nothing reaches the engine before the
operator confirms; the engine rounds again on arrival (a no-op on these values) and runs the
real risk checks. Rounding never goes against the operator: quantities down to the step, a buy
price down and a sell price up to the tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.core.rules import ceil_to_step, floor_to_step

MARKET = "market"


@dataclass(frozen=True)
class OrderWanted:
    """An order as typed on the command line, validated but not rounded."""

    symbol: str
    side: str  # BUY or SELL
    kind: str  # market, limit or limit_maker (the engine's names)
    qty: Decimal | None
    quote_qty: Decimal | None
    price: Decimal | None
    time_in_force: str | None

    def args(self) -> dict[str, Any]:
        """The SubmitOrder arguments for exactly these values."""
        found = {
            "symbol": self.symbol,
            "side": self.side,
            "type": self.kind,
            "quantity": _text(self.qty),
            "quote_quantity": _text(self.quote_qty),
            "price": _text(self.price),
            "time_in_force": self.time_in_force,
        }
        return {key: value for key, value in found.items() if value is not None}


class PreviewRefused(Exception):
    """The order cannot go out as asked; `usage` when the input itself is wrong."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Preview:
    """The rounded order and the lines that show it."""

    order: OrderWanted
    text: str


def preview(wanted: OrderWanted, snapshot: Mapping[str, Any]) -> Preview:
    """Round `wanted` with the snapshot's filters for its symbol and describe the result."""
    rules = _symbol_rules(snapshot, wanted.symbol)
    base, quote = str(rules["base_asset"]), str(rules["quote_asset"])
    if rules.get("status") not in (None, "TRADING"):
        raise PreviewRefused(f"{wanted.symbol} is {rules['status']}, not TRADING")
    step, tick = _decimal(rules.get("step_size")), _decimal(rules.get("tick_size"))
    qty = None if wanted.qty is None else floor_to_step(wanted.qty, step)
    price = None
    if wanted.price is not None:
        rounding = floor_to_step if wanted.side == "BUY" else ceil_to_step
        price = rounding(wanted.price, tick)
    if qty is not None and qty <= 0:
        raise PreviewRefused(
            f"the quantity rounds down to 0 at {wanted.symbol}'s step {_plain(step)}"
        )
    if price is not None and price <= 0:
        raise PreviewRefused(f"the price rounds to 0 at {wanted.symbol}'s tick {_plain(tick)}")
    rounded = OrderWanted(
        wanted.symbol, wanted.side, wanted.kind, qty, wanted.quote_qty, price, wanted.time_in_force
    )
    verb = f"buy {base}, pay {quote}" if wanted.side == "BUY" else f"sell {base}, get {quote}"
    kind = wanted.kind.upper() + (f", {wanted.time_in_force}" if wanted.time_in_force else "")
    lines = [
        f"Order preview: {str(snapshot.get('mode', '?')).upper()}, "
        f"account {snapshot.get('account', '?')}",
        f"  side      {wanted.side}: {verb}",
        f"  symbol    {wanted.symbol}",
        f"  type      {kind}",
    ]
    if qty is not None:
        lines.append(f"  quantity  {qty} {base}{_asked(wanted.qty, qty, 'step', step)}")
    else:
        lines.append(f"  quantity  for {wanted.quote_qty} {quote}")
    mark = _mark(snapshot, wanted.symbol)
    if price is not None:
        lines.append(f"  price     {price} {quote}{_asked(wanted.price, price, 'tick', tick)}")
    else:
        shown = "unknown" if mark is None else _plain(mark)
        lines.append(f"  price     market (mark {shown})")
    lines.append(f"  notional  {_notional(rounded, mark, quote)}")
    if snapshot.get("trading_state") == "HALTED":
        lines.append(f"  warning   trading is HALTED ({snapshot.get('halt_reason')}): refused")
    return Preview(rounded, "\n".join(lines))


def risk_lines(data: Mapping[str, Any]) -> list[str]:
    """The engine's dry run shown: its rounded order, then every risk check, pass or fail."""
    risk = data.get("risk")
    if not isinstance(risk, Mapping):
        return []
    lines = ["Risk checks (the engine's preview; nothing sent):"]
    order = risk.get("order")
    if isinstance(order, Mapping):
        qty = order.get("qty") or f"for {order.get('quote_qty')} (quote)"
        price = order.get("price") or "market"
        lines.append(f"  engine    {order.get('side')} {qty} {order.get('symbol')} at {price}")
    for check in risk.get("checks") or []:
        if not isinstance(check, Mapping):
            continue
        mark = "ok  " if check.get("passed") else "FAIL"
        if check.get("passed") and check.get("level") == "warning":
            mark = "warn"
        rule = str(check.get("rule", "?")).lower()
        lines.append(f"  {mark}  {rule:<17} {check.get('message')}")
    if risk.get("needs_confirmation"):
        lines.append("  above the soft notional limit: confirming (or --yes) is the yes it needs")
    return lines


def _symbol_rules(snapshot: Mapping[str, Any], symbol: str) -> Mapping[str, Any]:
    known = [s for s in snapshot.get("symbols", []) if isinstance(s, Mapping)]
    for rules in known:
        if rules.get("symbol") == symbol:
            return rules
    names = ", ".join(sorted(str(s.get("symbol")) for s in known)[:12]) or "none"
    raise PreviewRefused(f"unknown symbol {symbol}; the engine knows: {names}", usage=True)


def _notional(order: OrderWanted, mark: Decimal | None, quote: str) -> str:
    if order.quote_qty is not None:
        return f"{_plain(order.quote_qty)} {quote}"
    assert order.qty is not None
    if order.price is not None:
        return f"{_plain(order.qty * order.price)} {quote}"
    if mark is None:
        return "unknown (no fresh mark)"
    return f"about {_plain(order.qty * mark)} {quote} at the mark"


def _plain(value: Decimal) -> str:
    """Without trailing zeros and never in exponent form (100, not 1E+2)."""
    return format(value.normalize(), "f")


def _mark(snapshot: Mapping[str, Any], symbol: str) -> Decimal | None:
    for mark in snapshot.get("marks", []):
        if isinstance(mark, Mapping) and mark.get("symbol") == symbol:
            bid, ask = _decimal(mark.get("bid")), _decimal(mark.get("ask"))
            if bid > 0 and ask > 0:
                return (bid + ask) / 2
            last = _decimal(mark.get("last"))
            return last if last > 0 else None
    return None


def _asked(asked: Decimal | None, rounded: Decimal, unit: str, size: Decimal) -> str:
    return "" if asked == rounded else f" (asked {asked}, {unit} {_plain(size)})"


def _decimal(raw: Any) -> Decimal:
    """A decimal string from the snapshot; 0 when absent (no rounding, no mark)."""
    try:
        return Decimal(str(raw)) if raw is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
