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


def _order_row(order: Mapping[str, Any]) -> tuple[str, ...]:
    qty = amount(order.get("qty")) if order.get("qty") else f"{amount(order.get('quote_qty'))}q"
    state = str(order.get("state", "?"))
    if order.get("cancel_requested") and state in ("NEW", "PARTIALLY_FILLED"):
        state += " (cancelling)"
    return (
        str(order.get("client_order_id", "")),
        str(order.get("symbol", "")),
        str(order.get("side", "")),
        str(order.get("type", "")),
        qty,
        amount(order.get("cum_qty")),
        amount(order.get("price")),
        amount(order.get("avg_price")),
        state,
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


def _protection(position: Mapping[str, Any]) -> str:
    protection = position.get("protection")
    if not isinstance(protection, Mapping):
        return "-"
    parts = []
    for key, label in (("stop_loss", "SL"), ("take_profit", "TP"), ("trailing", "TR")):
        value = protection.get(key)
        if isinstance(value, Mapping):
            value = value.get("price") or value.get("stop_price") or value.get("trigger")
        if value:
            parts.append(f"{label} {amount(value)}")
    return " ".join(parts) or "-"


def position_rows(state: DeskState) -> Rows:
    rows: Rows = {}
    for p in state.positions:
        entry = amount(p.get("avg_entry")) if p.get("entry_known", True) else "unknown"
        rows[str(p["symbol"])] = (
            str(p["symbol"]),
            amount(p.get("qty")),
            amount(p.get("sellable_qty")),
            entry,
            amount(p.get("mark")),
            amount(p.get("unrealized_pnl")),
            amount(p.get("realized_pnl")),
            _protection(p),
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
            str(o.get("since") or o.get("updated_at") or "-")[:19],
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
        ("filled", "Filled"),
        ("price", "Price"),
        ("avg", "Avg"),
        ("state", "State"),
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
        ("entry", "Avg entry"),
        ("mark", "Mark"),
        ("unrealized", "Unrealized"),
        ("realized", "Realized"),
        ("protection", "SL/TP"),
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
