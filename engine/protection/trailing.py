"""Engine-managed trailing stops: when to move a resting stop up behind a rising price.

A move costs a cancel and a new order, so the stop moves only when it would rise by at least a
minimum step and no sooner than a minimum interval after the last move: no cancel-replace churn,
and a bounded share of the order rate budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.filters import ceil_to_step

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class TrailPolicy:
    """The stop sits `percent` below the highest mark; it moves by `step_pct` of itself at
    least, at most once per `min_interval_s`."""

    percent: Decimal
    step_pct: Decimal
    min_interval_s: float

    def __post_init__(self) -> None:
        if not Decimal(0) < self.percent < HUNDRED:
            raise ValueError(f"trailing percent must be in (0, 100), not {self.percent}")
        if self.step_pct <= 0:
            raise ValueError(f"trailing step must be positive, not {self.step_pct}")

    def stop_for(self, high: Decimal, tick: Decimal) -> Decimal:
        """The stop for a high: snapped up to the tick, so it triggers no later than asked."""
        return ceil_to_step(high * (1 - self.percent / HUNDRED), tick)


@dataclass(frozen=True, slots=True)
class TrailDecision:
    """The high after this mark, and the stop to move to (None: leave the stop where it is)."""

    high: Decimal
    move_to: Decimal | None


def next_trail_stop(
    policy: TrailPolicy,
    *,
    high: Decimal,
    current_stop: Decimal,
    mark: Decimal,
    tick: Decimal,
    last_move_at: datetime | None,
    now: datetime,
) -> TrailDecision:
    """Fold one mark in: raise the high, and move the stop when the step and the pace allow."""
    new_high = max(high, mark)
    target = policy.stop_for(new_high, tick)
    if target >= mark:
        return TrailDecision(new_high, None)  # would trigger at once: the tick is too coarse
    if target < current_stop * (1 + policy.step_pct / HUNDRED):
        return TrailDecision(new_high, None)
    if last_move_at is not None and (now - last_move_at).total_seconds() < policy.min_interval_s:
        return TrailDecision(new_high, None)
    return TrailDecision(new_high, target)
