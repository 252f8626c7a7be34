"""What each table pane shows: its columns and its rows, read from a `DeskState`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.format import age, amount
from tui.state import DeskState

Rows = dict[str, tuple[str, ...]]
RECENT_ORDERS_SHOWN = 10


@dataclass(frozen=True)
class TableSpec:
    """A pane's title, its columns (key, label), and how to read its rows."""

    pane_id: str
    title: str
    columns: Sequence[tuple[str, str]]
    rows: Callable[[DeskState], Rows]
    hide_when_empty: bool = False


# Protective order types are long; the short forms keep the Orders table narrow.
TYPE_WORDS = {
    "TAKE_PROFIT_LIMIT": "TP LIMIT",
    "STOP_LOSS_LIMIT": "SL LIMIT",
    "TAKE_PROFIT": "TP",
    "STOP_LOSS": "SL",
    "LIMIT_MAKER": "LIMIT MKR",
}


def _order_row(order: Mapping[str, Any]) -> tuple[str, ...]:
    qty = amount(order.get("qty")) if order.get("qty") else f"{amount(order.get('quote_qty'))}q"
    state = str(order.get("state", "?"))
    if order.get("cancel_requested") and state in ("NEW", "PARTIALLY_FILLED"):
        state += " (cancelling)"
    return (
        str(order.get("client_order_id", "")),
        str(order.get("symbol", "")),
        str(order.get("side", "")),
        TYPE_WORDS.get(str(order.get("type", "")), str(order.get("type", ""))),
        qty,
        amount(order.get("price")),
        state,
        amount(order.get("cum_qty")),
        amount(order.get("avg_price")),
        str(order.get("origin", "")),
    )


def order_rows(state: DeskState) -> Rows:
    """Open orders first, then the most recent finished ones, newest last."""
    rows: Rows = {}
    for order in state.open_orders:
        rows[str(order["client_order_id"])] = _order_row(order)
    for order in state.recent_orders[-RECENT_ORDERS_SHOWN:]:
        rows.setdefault(str(order["client_order_id"]), _order_row(order))
    return rows


WORKING_PROTECTION = ("ACTIVE", "PARTIAL")


def protection_words(position: Mapping[str, Any]) -> str:
    """ "SL 92000 TP 101000", "TR 2%", "TR 100bp"; with its status unless it works; "-" when
    the position has none (or it was cleared)."""
    protection = position.get("protection")
    if not isinstance(protection, Mapping) or protection.get("status") in (None, "CLEARED"):
        return "-"
    parts = [
        f"{label} {amount(protection[key])}"
        for key, label in (("stop_loss", "SL"), ("take_profit", "TP"))
        if protection.get(key)
    ]
    if protection.get("trailing_percent"):
        parts.append(f"TR {amount(protection['trailing_percent'])}%")
    if protection.get("trailing_delta_bips"):
        parts.append(f"TR {protection['trailing_delta_bips']}bp")
    status = str(protection.get("status"))
    if status not in WORKING_PROTECTION:
        parts.append(status)
    return " ".join(parts) or "-"


def position_rows(state: DeskState) -> Rows:
    rows: Rows = {}
    for p in state.positions:
        entry = amount(p.get("avg_entry")) if p.get("entry_known", True) else "unknown"
        rows[str(p["symbol"])] = (
            str(p["symbol"]),
            amount(p.get("qty")),
            amount(p.get("sellable_qty")),
            amount(p.get("mark")),
            amount(p.get("unrealized_pnl")),
            protection_words(p),
            entry,
            amount(p.get("realized_pnl")),
        )
    return rows


def balance_rows(state: DeskState) -> Rows:
    """Assets with something in them (empty ones only clutter)."""
    rows: Rows = {}
    for b in state.balances:
        if amount(b.get("total")) == "0" and amount(b.get("locked")) == "0":
            continue
        rows[str(b["asset"])] = (
            str(b["asset"]),
            amount(b.get("free")),
            amount(b.get("locked")),
            amount(b.get("total")),
        )
    return rows


def market_rows(state: DeskState) -> Rows:
    return {
        str(m["symbol"]): (
            str(m["symbol"]),
            amount(m.get("bid")),
            amount(m.get("ask")),
            amount(m.get("last")),
            age(m.get("age_s")),
        )
        for m in state.marks
    }


def unresolved_rows(state: DeskState) -> Rows:
    return {
        str(o.get("client_order_id")): (
            str(o.get("client_order_id", "")),
            str(o.get("symbol") or "?"),
            str(o.get("state", "")),
            str(o.get("origin") or "-"),
            str(o.get("since") or o.get("updated_at") or "-")[:19].replace("T", " "),
        )
        for o in state.unresolved
    }


ORDERS = TableSpec(
    "orders",
    "Orders",
    [
        ("id", "Client id"),
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("type", "Type"),
        ("qty", "Qty"),
        ("price", "Price"),
        ("state", "State"),
        ("filled", "Filled"),
        ("avg", "Avg"),
        ("origin", "Origin"),
    ],
    order_rows,
)
POSITIONS = TableSpec(
    "positions",
    "Positions",
    [
        ("symbol", "Symbol"),
        ("qty", "Qty"),
        ("sellable", "Sellable"),
        ("mark", "Mark"),
        ("unrealized", "Unrealized"),
        ("protection", "SL/TP"),
        ("entry", "Avg entry"),
        ("realized", "Realized"),
    ],
    position_rows,
)
BALANCES = TableSpec(
    "balances",
    "Balances",
    [("asset", "Asset"), ("free", "Free"), ("locked", "Locked"), ("total", "Total")],
    balance_rows,
)
MARKET = TableSpec(
    "market",
    "Market",
    [("symbol", "Symbol"), ("bid", "Bid"), ("ask", "Ask"), ("last", "Last"), ("age", "Age")],
    market_rows,
)
UNRESOLVED = TableSpec(
    "unresolved",
    "Unresolved",
    [
        ("id", "Client id"),
        ("symbol", "Symbol"),
        ("state", "State"),
        ("origin", "Origin"),
        ("since", "Since"),
    ],
    unresolved_rows,
    hide_when_empty=True,
)
