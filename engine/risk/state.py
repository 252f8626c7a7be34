"""The trading state: ACTIVE, REDUCING (only orders that reduce) or HALTED (latched, no orders).

Only new orders are gated: cancels and reconciliation go on in every state (R12). HALTED is
latched: nothing but the operator arming again, with a reason, leaves it, and every transition
carries the reason the engine journals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from engine.risk.proposal import ProposedOrder


class TradingState(StrEnum):
    """ACTIVE: any order. REDUCING: only orders that reduce positions. HALTED: no new orders."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    def allows(self, order: ProposedOrder) -> bool:
        """Whether a new order may go out in this state (cancels are always allowed)."""
        if self is TradingState.ACTIVE:
            return True
        return self is TradingState.REDUCING and order.reduces_position


class TransitionRefused(ValueError):
    """A transition the state machine does not allow (leaving HALTED without arming, no reason)."""


@dataclass(frozen=True, slots=True)
class StateTransition:
    """One change of trading state: what the engine journals and announces."""

    previous: TradingState
    state: TradingState
    reason: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "previous": self.previous.value,
            "state": self.state.value,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


def _reason(reason: str, what: str) -> str:
    cleaned = reason.strip() if isinstance(reason, str) else ""
    if not cleaned:
        raise TransitionRefused(f"{what} needs a reason")
    return cleaned


class TradingStateMachine:
    """The current trading state, its reason and when it changed; survives restarts as JSON."""

    def __init__(
        self,
        state: TradingState = TradingState.ACTIVE,
        reason: str = "",
        changed_at: datetime | None = None,
    ) -> None:
        self.state = state
        self.reason = reason
        self.changed_at = changed_at

    def allows(self, order: ProposedOrder) -> bool:
        """Whether a new order may go out now (cancels are always allowed)."""
        return self.state.allows(order)

    def halt(self, reason: str, at: datetime) -> StateTransition | None:
        """Stop every new order until the operator arms; None when already HALTED (the first
        reason stands)."""
        reason = _reason(reason, "halting")
        if self.state is TradingState.HALTED:
            return None
        return self._move(TradingState.HALTED, reason, at)

    def reduce(self, reason: str, at: datetime) -> StateTransition | None:
        """Allow only orders that reduce positions; None when already REDUCING."""
        reason = _reason(reason, "reducing")
        if self.state is TradingState.HALTED:
            raise TransitionRefused(
                f"trading is HALTED ({self.reason}); only arming with a reason leaves it"
            )
        if self.state is TradingState.REDUCING:
            return None
        return self._move(TradingState.REDUCING, reason, at)

    def arm(self, reason: str, at: datetime) -> StateTransition | None:
        """The operator's decision to trade again; None when already ACTIVE."""
        reason = _reason(reason, "arming")
        if self.state is TradingState.ACTIVE:
            return None
        return self._move(TradingState.ACTIVE, reason, at)

    def _move(self, state: TradingState, reason: str, at: datetime) -> StateTransition:
        if at.tzinfo is None:
            raise ValueError("transition times must be timezone-aware")
        transition = StateTransition(self.state, state, reason, at)
        self.state, self.reason, self.changed_at = state, reason, at
        return transition

    # -- persistence ----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "reason": self.reason,
            "at": None if self.changed_at is None else self.changed_at.isoformat(),
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> TradingStateMachine:
        """The state a previous run journaled; an unreadable record restores HALTED (R12)."""
        if not stored:
            return cls()
        try:
            state = TradingState(stored["state"])
            at = stored.get("at")
            changed_at = datetime.fromisoformat(at) if isinstance(at, str) else None
            if changed_at is not None and changed_at.tzinfo is None:
                raise ValueError(f"naive time {at!r}")
        except (KeyError, ValueError) as error:
            return cls(TradingState.HALTED, f"stored trading state unreadable: {error}")
        reason = stored.get("reason")
        return cls(state, reason if isinstance(reason, str) else "", changed_at)
