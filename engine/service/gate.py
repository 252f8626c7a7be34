"""Whether new orders may go out: the operator's trading state, reconciliation, the journal.

Independent locks, each with the reason the operator is shown: the trading state (ACTIVE,
REDUCING or HALTED, from `engine.risk.TradingStateMachine`; HALTED by the operator or by the
engine failing closed), the journal (a journal that cannot write can never record an intent, so
nothing may be sent), the user stream (while it is not connected fills go unseen, so the desk
fails closed until it is back and a reconciliation has run) and reconciliation (no orders until
the venue's truth has been folded in, at start and after every stream gap). REDUCING does not
block here: the risk choke point lets only reducing orders through in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.journal.codec import PlainPayload
from engine.risk import DailyCounters, TradingState, TradingStateMachine

TRADING_KEY = "trading"


class TradingGate:
    """The trading state and the reasons that block new orders; `counters` are today's risk
    counters, journaled with the state in one record (set once the engine has started)."""

    def __init__(self) -> None:
        self.machine = TradingStateMachine()
        self.counters: DailyCounters | None = None
        self.stored_counters: Mapping[str, Any] | None = None  # as restored, until `counters`
        self.reconciled = False
        self.reconcile_reason = "start-up reconciliation has not run yet"
        self.journal_failure: str | None = None
        self.user_stream_problem: str | None = "the user stream is not connected yet"
        # Set while the exchange is in maintenance (engine.service.maintenance).
        self.maintenance: str | None = None

    @property
    def state(self) -> TradingState:
        return self.machine.state

    @property
    def halt_reason(self) -> str | None:
        return self.machine.reason if self.machine.state is TradingState.HALTED else None

    @property
    def reason(self) -> str:
        """Why the state is what it is (empty for a fresh ACTIVE)."""
        return self.machine.reason

    @property
    def changed_at(self) -> datetime | None:
        return self.machine.changed_at

    def restore(self, stored: Mapping[str, Any] | None) -> None:
        """The trading state and counters journaled by a previous run (a halt survives
        restarts; an unreadable record restores HALTED)."""
        self.machine = TradingStateMachine.from_json(stored)
        counters = stored.get("counters") if stored else None
        self.stored_counters = counters if isinstance(counters, Mapping) else None

    def stored(self) -> dict[str, Any]:
        """The journal record under TRADING_KEY: state, reason, time and today's counters.
        Written with every order, so it is marked plain: both halves are built of JSON types
        only (amounts and times as text), and the journal need not walk the window's times."""
        record = PlainPayload(self.machine.to_json())
        if self.counters is not None:
            record["counters"] = self.counters.to_json()
        elif self.stored_counters is not None:
            record["counters"] = dict(self.stored_counters)
        return record

    def mark_reconciled(self) -> None:
        self.reconciled = True
        self.reconcile_reason = ""

    def mark_unreconciled(self, reason: str) -> None:
        self.reconciled = False
        self.reconcile_reason = reason

    def new_orders_blocked(self, *, flattening: bool = False) -> str | None:
        """Why no new order may go out now, or None when it may (REDUCING is left to risk).
        `flattening`: the emergency stop's own sells, which go out while HALTED."""
        if self.journal_failure is not None:
            return f"the journal cannot write ({self.journal_failure}); restart the engine"
        if self.state is TradingState.HALTED and not flattening:
            return f"trading is HALTED: {self.halt_reason}"
        if self.maintenance is not None:
            return f"the exchange is in maintenance: {self.maintenance}"
        if self.user_stream_problem is not None:
            return self.user_stream_problem
        if not self.reconciled:
            return f"not reconciled with the exchange: {self.reconcile_reason}"
        return None
