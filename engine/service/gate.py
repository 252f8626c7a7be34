"""Whether new orders may go out: the operator's trading state, reconciliation, the journal.

Independent locks, each with the reason the operator is shown: the trading state (HALTED by
the operator or by the engine failing closed), the journal (a journal that cannot write can
never record an intent, so nothing may be sent), the user stream (while it is not connected
fills go unseen, so the desk fails closed until it is back and a reconciliation has run) and
reconciliation (no orders until the venue's truth has been folded in, at start and after every
stream gap).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.service.events import TradingState

TRADING_KEY = "trading"


class TradingGate:
    """The trading state and the reasons that block new orders."""

    def __init__(self) -> None:
        self.state = TradingState.ACTIVE
        self.halt_reason: str | None = None
        self.changed_at: datetime | None = None
        self.reconciled = False
        self.reconcile_reason = "start-up reconciliation has not run yet"
        self.journal_failure: str | None = None
        self.user_stream_problem: str | None = "the user stream is not connected yet"

    def restore(self, stored: Mapping[str, Any] | None) -> None:
        """The trading state journaled by a previous run (a halt survives restarts)."""
        if not stored:
            return
        self.state = TradingState(stored.get("state", TradingState.ACTIVE))
        self.halt_reason = stored.get("reason") if self.state is TradingState.HALTED else None
        at = stored.get("at")
        self.changed_at = datetime.fromisoformat(at) if isinstance(at, str) else None

    def stored(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "reason": self.halt_reason,
            "at": None if self.changed_at is None else self.changed_at.isoformat(),
        }

    def set_state(self, state: TradingState, reason: str, at: datetime) -> TradingState:
        """Move to `state`; returns the previous state."""
        previous = self.state
        self.state = state
        self.halt_reason = reason if state is TradingState.HALTED else None
        self.changed_at = at
        return previous

    def mark_reconciled(self) -> None:
        self.reconciled = True
        self.reconcile_reason = ""

    def mark_unreconciled(self, reason: str) -> None:
        self.reconciled = False
        self.reconcile_reason = reason

    def new_orders_blocked(self) -> str | None:
        """Why no new order may go out now, or None when it may."""
        if self.journal_failure is not None:
            return f"the journal cannot write ({self.journal_failure}); restart the engine"
        if self.state is TradingState.HALTED:
            return f"trading is HALTED: {self.halt_reason}"
        if self.user_stream_problem is not None:
            return self.user_stream_problem
        if not self.reconciled:
            return f"not reconciled with the exchange: {self.reconcile_reason}"
        return None
