"""The order ticket's words: the form read into SubmitOrder arguments, and the engine's dry run
read back into lines for the operator.

The desk never rounds or sizes by itself: the engine's dry run does both with the exchange's
filters, and the ticket shows its numbers (what was asked, what it rounded to, the sizing, the
value, the fee, every risk check). What is checked here only catches typos before the engine is
asked: an unknown symbol, a missing or doubled size, levels on the wrong side of the price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tui.format import amount

ORDER_TYPES = ("market", "limit", "limit_maker")
SIDES = ("BUY", "SELL")
SIZE_FIELDS = ("quantity", "quote_quantity", "size_from_stop")
PROTECTION_FIELDS = ("stop_loss", "take_profit")


@dataclass(frozen=True)
class TicketForm:
    """What the operator typed, as text."""

    symbol: str
    side: str
    order_type: str
    quantity: str = ""
    quote_quantity: str = ""
    risk_stop: str = ""
    price: str = ""
    stop_loss: str = ""
    take_profit: str = ""


@dataclass(frozen=True)
class FormCheck:
    """The SubmitOrder arguments the form asks for (unrounded), or why it cannot be sent."""

    args: dict[str, str] | None = None
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


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or an exponent."""
    return format(value.normalize(), "f") if value else "0"


def form_args(
    form: TicketForm, symbols: Mapping[str, Mapping[str, Any]], mark: Decimal | None = None
) -> FormCheck:
    """Read the form; `mark` is the symbol's price, to place SL/TP and a risk stop against."""
    symbol = form.symbol.strip().upper()
    info = symbols.get(symbol)
    if info is None:
        known = ", ".join(sorted(symbols)) or "none"
        return FormCheck(error=f"unknown symbol (this engine trades: {known})")
    if info.get("status") not in (None, "TRADING"):
        return FormCheck(error=f"{symbol} is {info.get('status')}, not TRADING")
    side = form.side.upper()
    if side not in SIDES or form.order_type not in ORDER_TYPES:
        return FormCheck(error="choose a side and a type")
    try:
        sizes = {
            "quantity": _number(form.quantity, "quantity"),
            "quote_quantity": _number(form.quote_quantity, "quote quantity"),
            "size_from_stop": _number(form.risk_stop, "risk stop"),
        }
        price = _number(form.price, "price")
        levels = {
            "stop_loss": _number(form.stop_loss, "stop-loss"),
            "take_profit": _number(form.take_profit, "take-profit"),
        }
    except ValueError as error:
        return FormCheck(error=str(error))
    given = {name: value for name, value in sizes.items() if value is not None}
    if len(given) != 1:
        return FormCheck(error="give one of quantity, quote quantity or risk stop")
    if "quote_quantity" in given and form.order_type != "market":
        return FormCheck(error="a quote quantity is for market orders only")
    if form.order_type == "market" and price is not None:
        return FormCheck(error="a market order takes no price")
    if form.order_type != "market" and price is None:
        return FormCheck(error=f"a {form.order_type.replace('_', ' ')} order needs a price")
    wanted = {name: value for name, value in levels.items() if value is not None}
    if side == "SELL" and ("size_from_stop" in given or wanted):
        return FormCheck(error="a risk stop, stop-loss and take-profit are for a BUY")
    entry = price if price is not None else mark
    for name, stop in (
        ("risk stop", given.get("size_from_stop")),
        ("stop-loss", wanted.get("stop_loss")),
    ):
        if entry is not None and stop is not None and stop >= entry:
            return FormCheck(
                error=f"the {name} {plain(stop)} must be below the entry {plain(entry)}"
            )
    target = wanted.get("take_profit")
    if entry is not None and target is not None and target <= entry:
        return FormCheck(
            error=f"the take-profit {plain(target)} must be above the entry {plain(entry)}"
        )
    args = {"symbol": symbol, "side": side, "type": form.order_type}
    args.update({name: plain(value) for name, value in {**given, **wanted}.items()})
    if price is not None:
        args["price"] = plain(price)
    return FormCheck(args=args)


def send_args(asked: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """The order exactly as the engine previewed it: its rounded quantity and price, and a risk
    stop's sized quantity with the stop as the stop-loss (unless one was given)."""
    args: dict[str, Any] = {k: v for k, v in asked.items() if k != "size_from_stop"}
    for key in ("quantity", "price"):
        if data.get(key) is not None:
            args[key] = str(data[key])
    if "size_from_stop" in asked:
        args.setdefault("stop_loss", asked["size_from_stop"])
    return args


def base_quote_words(info: Mapping[str, Any], side: str) -> str:
    """ "BUY BTC with USDT" / "SELL BTC for USDT": the symbol in words (F4, F5)."""
    base, quote = info.get("base_asset", "?"), info.get("quote_asset", "?")
    return f"{side} {base} with {quote}" if side == "BUY" else f"{side} {base} for {quote}"


def _fee(risk: Mapping[str, Any]) -> tuple[str, str] | None:
    """The estimated fee and its asset, from the engine's balance check (buys carry it)."""
    for check in risk.get("checks") or ():
        values = check.get("values") or {}
        if check.get("rule") == "BALANCE" and values.get("fee") is not None:
            return amount(values["fee"]), str(values.get("asset", ""))
    return None


def _rounded(asked: Any, rounded: Any, what: str, unit: str) -> str | None:
    if asked is None or rounded is None or Decimal(str(asked)) == Decimal(str(rounded)):
        return None
    way = "down" if Decimal(str(rounded)) < Decimal(str(asked)) else "up"
    return f"{what} {amount(asked)} rounded {way} to {amount(rounded)} ({unit})"


def describe(
    data: Mapping[str, Any], asked: Mapping[str, str], info: Mapping[str, Any]
) -> list[str]:
    """The engine's dry run in words: the order, roundings, sizing, value, fee and protection."""
    side = str(data.get("side") or asked["side"])
    base, quote = info.get("base_asset", ""), info.get("quote_asset", "")
    order = f"{base_quote_words(info, side)}: "
    if data.get("quantity"):
        order += f"{amount(data['quantity'])} {base}"
    elif asked.get("quote_quantity"):
        order += f"{amount(asked['quote_quantity'])} {quote} worth"
    else:
        order += f"? {base}"
    order += f" {str(data.get('type') or asked['type']).lower().replace('_', ' ')}"
    if data.get("price"):
        order += f" at {amount(data['price'])}"
    risk = data.get("risk") or {}
    if risk.get("notional"):
        order += f", value {amount(risk['notional'])} {quote}"
    fee = _fee(risk)
    if fee is not None:
        order += f", fee about {fee[0]} {fee[1]}"
    lines = [order]
    step, tick = f"step {amount(info.get('step_size'))}", f"tick {amount(info.get('tick_size'))}"
    for line in (
        _rounded(data.get("requested_quantity"), data.get("quantity"), "quantity", step),
        _rounded(data.get("requested_price"), data.get("price"), "price", tick),
    ):
        if line is not None:
            lines.append(line)
    sizing = data.get("sizing")
    if isinstance(sizing, Mapping):
        lines.append(
            f"sized from the stop {amount(sizing.get('stop'))}: "
            f"{percent(sizing.get('risk_per_trade'))} of equity {amount(sizing.get('equity'))}"
            f" = {amount(sizing.get('risk_amount'))} {quote} at risk over "
            f"{amount(sizing.get('stop_distance'))} per {base}"
        )
        if sizing.get("cap_reason"):
            lines.append(f"capped by {sizing.get('capped_by')}: {sizing['cap_reason']}")
    protect = [
        f"{label} {amount(asked[key])}"
        for key, label in (("stop_loss", "stop-loss"), ("take_profit", "take-profit"))
        if asked.get(key)
    ]
    if "size_from_stop" in asked and not asked.get("stop_loss"):
        protect.insert(0, f"stop-loss {amount(asked['size_from_stop'])}")
    if protect:
        lines.append(f"once filled, rests on the exchange: {', '.join(protect)}")
    return lines


def percent(share: Any) -> str:
    """ "0.01" as "1%"."""
    try:
        return f"{plain(Decimal(str(share)) * 100)}%"
    except InvalidOperation:
        return "?"


def check_lines(risk: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every risk check as `(text, level)`: FAIL, warn or ok, the rule and its numbers; failures
    first, then warnings (in the engine's order within each), so a small screen shows them."""
    lines = []
    checks = list(risk.get("checks") or ())
    checks.sort(
        key=lambda check: 0 if not check.get("passed") else 1 if check.get("level") != "ok" else 2
    )
    for check in checks:
        level = str(check.get("level", "ok"))
        passed = bool(check.get("passed"))
        mark = "ok" if passed and level == "ok" else "warn" if passed else "FAIL"
        rule = str(check.get("rule", "?")).lower().replace("_", " ")
        lines.append((f"{mark:<4} {rule:<16} {check.get('message', '')}", level))
    return lines
