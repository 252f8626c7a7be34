"""The desk's view model: the engine's snapshot and event stream folded into one immutable value.

Widgets only ever read a `DeskState`; the feed builds a new one per frame. Nothing here does I/O
or knows Textual, so it is tested without an app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tui.format import amount

LOG_LIMIT = 500
LEVELS = ("info", "warning", "alarm")
UNRESOLVED_STATES = frozenset({"UNKNOWN"})
UNRESOLVED_ORIGINS = frozenset({"EXTERNAL"})


@dataclass(frozen=True)
class LogLine:
    """One event as the log shows it."""

    seq: int
    ts: str
    kind: str
    level: str  # info | warning | alarm
    symbol: str | None
    text: str


@dataclass(frozen=True)
class DeskState:
    """What the desk knows: the last snapshot, the recent events, and whether the feed is alive.

    `stale_reason` is set while the engine does not answer: every pane keeps its last data but
    must say that it is stale. `heard_at` is the desk's clock when the engine last answered.
    """

    snapshot: Mapping[str, Any] | None = None
    event_seq: int = 0
    log: tuple[LogLine, ...] = ()
    heard_at: datetime | None = None
    stale_reason: str | None = "connecting to the engine"

    # -- folding ---------------------------------------------------------------------------------

    def with_snapshot(self, snapshot: Mapping[str, Any], now: datetime) -> DeskState:
        return replace(self, snapshot=snapshot, heard_at=now, stale_reason=None)

    def with_events(self, events: Sequence[Mapping[str, Any]], now: datetime) -> DeskState:
        fresh = [e for e in events if int(e.get("seq", 0)) > self.event_seq]
        if not fresh:
            return self
        # Only the last LOG_LIMIT can stay in the log: a flood is not worded line by line.
        lines = tuple(log_line(e) for e in fresh[-LOG_LIMIT:])
        log = (self.log + lines)[-LOG_LIMIT:]
        seq = max(self.event_seq, int(fresh[-1].get("seq", 0)))
        return replace(self, log=log, event_seq=seq, heard_at=now)

    def resumed_from(self, seq: int) -> DeskState:
        """Events up to `seq` count as seen (the first connect replays only recent history)."""
        return replace(self, event_seq=max(self.event_seq, seq))

    def skipped_to(self, seq: int, now: datetime) -> DeskState:
        """Events up to `seq` are passed over (the desk fell behind a flood); the log says so."""
        skipped = seq - self.event_seq
        if skipped <= 0:
            return self
        note = LogLine(
            seq=seq,
            ts=now.isoformat(),
            kind="DeskSkipped",
            level="warning",
            symbol=None,
            text=f"The desk skipped {skipped} events to keep up; the panes show the current state",
        )
        return replace(self, log=(*self.log, note)[-LOG_LIMIT:], event_seq=seq, heard_at=now)

    def with_stale(self, reason: str) -> DeskState:
        return replace(self, stale_reason=reason)

    # -- reading ---------------------------------------------------------------------------------

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    def _get(self, key: str, default: Any = None) -> Any:
        return default if self.snapshot is None else self.snapshot.get(key, default)

    @property
    def mode(self) -> str:
        return str(self._get("mode") or "?").upper()

    @property
    def account(self) -> str:
        return str(self._get("account") or "?")

    @property
    def trading_state(self) -> str:
        return str(self._get("trading_state") or "UNKNOWN")

    @property
    def halt_reason(self) -> str | None:
        reason = self._get("halt_reason")
        return None if reason is None else str(reason)

    @property
    def health(self) -> Mapping[str, Any]:
        return self._get("health") or {}

    @property
    def open_orders(self) -> list[Mapping[str, Any]]:
        return list((self._get("orders") or {}).get("open") or [])

    @property
    def recent_orders(self) -> list[Mapping[str, Any]]:
        return list((self._get("orders") or {}).get("recent") or [])

    @property
    def positions(self) -> list[Mapping[str, Any]]:
        return list(self._get("positions") or [])

    @property
    def balances(self) -> list[Mapping[str, Any]]:
        return list(self._get("balances") or [])

    @property
    def marks(self) -> list[Mapping[str, Any]]:
        return list(self._get("marks") or [])

    def mark_price(self, symbol: str) -> Decimal | None:
        """The symbol's mid price (or last trade) from the market watch; None when unknown."""
        mark = next((m for m in self.marks if m.get("symbol") == symbol), None)
        if mark is None:
            return None
        bid, ask, last = (_positive(mark.get(key)) for key in ("bid", "ask", "last"))
        return (bid + ask) / 2 if bid is not None and ask is not None else last

    @property
    def symbols(self) -> dict[str, Mapping[str, Any]]:
        return {str(s["symbol"]): s for s in self._get("symbols") or []}

    @property
    def gauges(self) -> list[Mapping[str, Any]] | None:
        """The risk gauges, or None when this engine's snapshot has none (the pane hides)."""
        risk = self._get("risk") or {}
        gauges = risk.get("gauges")
        return None if gauges is None else list(gauges)

    @property
    def unresolved(self) -> list[Mapping[str, Any]]:
        """Orders the engine cannot account for yet: unknown outcomes, external orders, and
        creates on the lost-order watch list (since when it has been watching them)."""
        watched = {str(e.get("client_order_id")): e for e in self._get("watch_list") or []}
        found: list[Mapping[str, Any]] = []
        for order in self.open_orders:
            if order.get("state") in UNRESOLVED_STATES or order.get("origin") in UNRESOLVED_ORIGINS:
                entry = watched.pop(str(order.get("client_order_id")), None)
                found.append(order if entry is None else {**order, "since": entry.get("since")})
        for entry in watched.values():
            state = "PRESUMED ABSENT" if entry.get("presumed_absent") else "WATCHED"
            found.append({**entry, "state": state})
        return found

    def log_since(self, seq: int, kinds: Iterable[str]) -> list[LogLine]:
        wanted = set(kinds)
        return [line for line in self.log if line.seq > seq and line.kind in wanted]


def _positive(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() and value > 0 else None


# -- events as log lines -------------------------------------------------------------------------


def _symbol_of(event: Mapping[str, Any]) -> str | None:
    for key in ("order", "fill", "position"):
        inner = event.get(key)
        if isinstance(inner, Mapping) and inner.get("symbol"):
            return str(inner["symbol"])
    symbol = event.get("symbol")
    return None if symbol is None else str(symbol)


def _order_text(kind: str, order: Mapping[str, Any]) -> str:
    qty = amount(order.get("qty")) if order.get("qty") else f"{amount(order.get('quote_qty'))}q"
    words = [kind, str(order.get("side", "")), qty]
    words += [str(order.get("symbol", "")), str(order.get("type", ""))]
    if order.get("price"):
        words.append(f"@ {amount(order['price'])}")
    words.append(f"[{order.get('state', '?')}] {order.get('client_order_id', '')}")
    reason = order.get("reject_reason") or order.get("expiry_reason")
    if reason:
        words.append(f"({reason})")
    return " ".join(w for w in words if w)


def _text(kind: str, event: Mapping[str, Any]) -> str:
    if isinstance(event.get("fill"), Mapping):
        fill = event["fill"]
        return (
            f"Fill {fill.get('side')} {amount(fill.get('qty'))} {fill.get('symbol')}"
            f" @ {amount(fill.get('price'))}"
            f" fee {amount(fill.get('commission'))} {fill.get('commission_asset')}"
        )
    if isinstance(event.get("order"), Mapping):
        return _order_text(kind, event["order"])
    if kind == "TradingStateChanged":
        return f"Trading {event.get('previous')} -> {event.get('state')}: {event.get('reason')}"
    if kind == "StreamHealthChanged":
        return f"{event.get('stream')} stream {event.get('health')}: {event.get('reason')}"
    if kind == "ReconcileFinished":
        clean = "clean" if event.get("clean") else "NOT clean"
        return f"Reconcile ({event.get('trigger')}) {clean}: {event.get('summary')}"
    if kind == "EmergencyStopPhase":
        return (
            f"Emergency stop {event.get('phase')} ({event.get('attempt')}): {event.get('detail')}"
        )
    if isinstance(event.get("balance"), Mapping):
        balance = event["balance"]
        free, locked = amount(balance.get("free")), amount(balance.get("locked"))
        return f"Balance {balance.get('asset')} free {free} locked {locked}"
    if isinstance(event.get("position"), Mapping):
        position = event["position"]
        return f"Position {position.get('symbol')} qty {amount(position.get('qty'))}"
    if "message" in event:
        return f"{kind}: {event.get('kind', '')} {event['message']}".strip()
    return kind


def _level(kind: str, event: Mapping[str, Any]) -> str:
    if event.get("alarm"):
        return "alarm"
    if kind == "TradingStateChanged":
        return "info" if event.get("state") == "ACTIVE" else "warning"
    if kind == "StreamHealthChanged" and event.get("health") != "CONNECTED":
        return "warning"
    if kind == "ReconcileFinished" and not event.get("clean"):
        return "warning"
    if kind == "EmergencyStopPhase":
        return "warning"
    order = event.get("order")
    if isinstance(order, Mapping) and order.get("state") in ("REJECTED", "UNKNOWN"):
        return "warning"
    return "info"


def log_line(event: Mapping[str, Any]) -> LogLine:
    """One engine event (as the client interface delivers it) as a log line."""
    kind = str(event.get("event") or event.get("kind") or "Event")
    return LogLine(
        seq=int(event.get("seq", 0)),
        ts=str(event.get("ts", "")),
        kind=kind,
        level=_level(kind, event),
        symbol=_symbol_of(event),
        text=_text(kind, event),
    )


@dataclass(frozen=True)
class LogFilter:
    """Which log lines the operator wants: a minimum level and, optionally, one symbol."""

    min_level: str = "info"
    symbol: str = ""
    _order: tuple[str, ...] = field(default=LEVELS, repr=False)

    def accepts(self, line: LogLine) -> bool:
        if self._order.index(line.level) < self._order.index(self.min_level):
            return False
        return not self.symbol or (line.symbol or "").upper().startswith(self.symbol.upper())

    def next_level(self) -> LogFilter:
        index = (self._order.index(self.min_level) + 1) % len(self._order)
        return replace(self, min_level=self._order[index])
