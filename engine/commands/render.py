"""The engine's snapshot for a person: trading state, health, balances, positions, open orders.

The snapshot's format (`status --json` prints it unchanged) is documented and versioned in
`engine/service/snapshot.py`; this module only reads it. Numbers are shown exactly as the
engine sent them (decimal strings), never re-formatted through floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, `-` for missing values."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    lines = [indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    for row in cells:
        lines.append(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return [line.rstrip() for line in lines]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def amount(value: Any) -> Any:
    """A decimal string shown positionally: Decimal's own str() writes a zero of 8 places as
    0E-8; the same value is shown as 0.00000000. Anything unreadable is shown as it came."""
    if not isinstance(value, str):
        return value
    try:
        return format(Decimal(value), "f")
    except InvalidOperation:
        return value


def render_status(snapshot: Mapping[str, Any]) -> str:
    """A screenful: who and where, whether orders may go out and why not, then the books."""
    mode = str(snapshot.get("mode", "?")).upper()
    state = snapshot.get("trading_state", "?")
    lines = [
        f"spotdesk {mode}, account {snapshot.get('account', '?')}: trading {state}, "
        f"event seq {snapshot.get('seq')}"
    ]
    if snapshot.get("halt_reason"):
        lines.append(f"  halted: {snapshot['halt_reason']}")
    risk = snapshot.get("risk") or {}
    if state == "REDUCING":
        lines.append(f"  reducing (sells only): {(risk.get('trading') or {}).get('reason')}")
    gauges = [g for g in risk.get("gauges") or [] if isinstance(g, Mapping)]
    if gauges:
        shown = ", ".join(
            f"{g.get('name')} {amount(g.get('value'))}/{amount(g.get('limit'))} ({g.get('level')})"
            for g in gauges
        )
        lines.append(f"  risk: {shown}")
    if snapshot.get("reconciled") is False:
        reason = (snapshot.get("reconcile") or {}).get("reason") or "not yet"
        lines.append(f"  not reconciled, no new orders: {reason}")
    health = snapshot.get("health") or {}
    if health:
        parts = [
            f"{label} {(health.get(key) or {}).get('state', '?')}"
            for key, label in (
                ("rest", "rest"),
                ("user_stream", "user stream"),
                ("market", "market"),
                ("journal", "journal"),
            )
        ]
        lines.append("  health: " + ", ".join(parts))
    balances = [b for b in snapshot.get("balances", []) if _nonzero(b.get("total"))]
    lines.append("balances:")
    lines += _section(
        ("ASSET", "FREE", "LOCKED", "TOTAL"),
        [
            (b.get("asset"), amount(b.get("free")), amount(b.get("locked")), amount(b.get("total")))
            for b in balances
        ],
    )
    positions = [p for p in snapshot.get("positions", []) if _nonzero(p.get("qty"))]
    lines.append("positions:")
    lines += _section(
        ("SYMBOL", "QTY", "AVG ENTRY", "MARK", "UNREALIZED", "REALIZED"),
        [
            (
                p.get("symbol"),
                amount(p.get("qty")),
                amount(p.get("avg_entry")),
                amount(p.get("mark")),
                amount(p.get("unrealized_pnl")),
                amount(p.get("realized_pnl")),
            )
            for p in positions
        ],
    )
    orders = (snapshot.get("orders") or {}).get("open", [])
    lines.append("open orders:")
    lines += _section(
        ("CLIENT ORDER ID", "SYMBOL", "SIDE", "TYPE", "QTY", "PRICE", "FILLED", "STATE"),
        [
            (
                o.get("client_order_id"),
                o.get("symbol"),
                o.get("side"),
                o.get("type"),
                amount(o.get("qty") or o.get("quote_qty")),
                amount(o.get("price")),
                amount(o.get("cum_qty")),
                f"{o.get('state')}{' (cancel requested)' if o.get('cancel_requested') else ''}",
            )
            for o in orders
        ],
    )
    watch = snapshot.get("watch_list", [])
    if watch:
        lines.append("unanswered orders being settled (never resent):")
        lines += table(
            ("CLIENT ORDER ID", "SINCE", "STATUS"),
            [(w["client_order_id"], w["since"], _watch_status(w)) for w in watch],
        )
    return "\n".join(lines)


def _watch_status(entry: Mapping[str, Any]) -> str:
    """A watched create: presumed absent (never resent), or how often it was not found yet."""
    if entry.get("presumed_absent"):
        return "presumed absent: place it again only as a new order"
    return f"checking ({entry.get('not_found', 0)} x not found)"


def _section(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return table(headers, rows) if rows else ["  (none)"]


def _nonzero(amount: Any) -> bool:
    """Whether a decimal string is other than zero (read as a Decimal, never a float)."""
    try:
        return amount is not None and Decimal(str(amount)) != 0
    except InvalidOperation:
        return True  # show what cannot be read rather than hide it
