"""Engine-managed trailing: the stop moves up by at least a step, at most once per interval,
never down and never to where it would trigger at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.protection import ProtectionSettings, TrailDecision, TrailPolicy, next_trail_stop

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TICK = Decimal("0.01")
POLICY = TrailPolicy(percent=Decimal(3), step_pct=Decimal(1), min_interval_s=10.0)


def decide(
    mark: str, *, high: str = "95000", stop: str = "92150", moved: datetime | None = None
) -> TrailDecision:
    return next_trail_stop(
        POLICY,
        high=Decimal(high),
        current_stop=Decimal(stop),
        mark=Decimal(mark),
        tick=TICK,
        last_move_at=moved,
        now=T0,
    )


def test_stop_for_a_high_rounds_up_to_the_tick() -> None:
    assert POLICY.stop_for(Decimal("95000.33"), TICK) == Decimal("92150.33")  # 92150.3201 up


def test_a_gain_under_the_step_does_not_move() -> None:
    # 3% under 95900 is 93023: +0.948% over 92150, under the 1% step
    assert decide("95900") == TrailDecision(Decimal(95900), None)


def test_a_gain_of_a_step_moves() -> None:
    # 3% under 96000 is 93120: +1.05%
    assert decide("96000") == TrailDecision(Decimal(96000), Decimal("93120.00"))


def test_a_falling_price_never_moves_the_stop_down() -> None:
    assert decide("93000") == TrailDecision(Decimal(95000), None)


def test_the_pace_holds_a_due_move_back() -> None:
    recent = T0 - timedelta(seconds=9)
    assert decide("97000", moved=recent) == TrailDecision(Decimal(97000), None)
    earlier = T0 - timedelta(seconds=10)
    assert decide("97000", moved=earlier) == TrailDecision(Decimal(97000), Decimal("94090.00"))


def test_a_held_back_move_happens_on_the_next_mark_from_the_high() -> None:
    # the high was raised to 97000 while the pace held the move back; a lower mark now moves
    # the stop to 3% under that high, since the stop still sits below the mark
    assert decide("96000", high="97000") == TrailDecision(Decimal(97000), Decimal("94090.00"))


def test_policy_bounds() -> None:
    with pytest.raises(ValueError, match="trailing percent must be in"):
        TrailPolicy(Decimal(0), Decimal(1), 0)
    with pytest.raises(ValueError, match="trailing step must be positive"):
        TrailPolicy(Decimal(1), Decimal(0), 0)


def test_settings_defaults_and_validation() -> None:
    settings = ProtectionSettings()
    assert (settings.auto_enabled, settings.auto_stop_loss_pct, settings.trailing_step_pct) == (
        False,
        None,
        Decimal("0.5"),
    )
    with pytest.raises(ValueError):
        ProtectionSettings(auto_stop_loss_pct=Decimal(100))
