"""The engine's own events: trading state, stream health, reconciliation, alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from engine.core.events import Event
from engine.risk.state import TradingState


@dataclass(frozen=True, slots=True)
class TradingStateChanged(Event):
    state: TradingState
    previous: TradingState
    reason: str


@dataclass(frozen=True, slots=True)
class StreamHealthChanged(Event):
    """A stream ("user" or "market") changed health; a dead feed must look dead."""

    stream: str
    health: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReconcileFinished(Event):
    """A reconciliation ran: `clean` when every venue query answered."""

    trigger: str
    clean: bool
    summary: str


@dataclass(frozen=True, slots=True)
class EngineAlarm(Event):
    """Something the operator must know: a malformed venue message, a fill journaled twice,
    an order on the watch list..."""

    is_alarm: ClassVar[bool] = True
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class WatchListChanged(Event):
    """An unanswered create's entry on the watch list changed (see `absence.py`): `status` is
    watching, presumed_absent or settled (it left the list)."""

    client_order_id: str
    symbol: str
    status: str
    not_found: int
    note: str
