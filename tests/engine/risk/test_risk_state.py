"""The trading state machine: what each state allows, the HALTED latch, arming with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from risk_helpers import T0, buy, sell

from engine.risk import StateTransition, TradingState, TradingStateMachine
from engine.risk.state import TransitionRefused

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


@pytest.mark.parametrize(
    ("state", "buys", "sells"),
    [(ACTIVE, True, True), (REDUCING, False, True), (HALTED, False, False)],
)
def test_each_state_allows_its_orders(state: TradingState, buys: bool, sells: bool) -> None:
    machine = TradingStateMachine(state, "why")
    assert (machine.allows(buy()), machine.allows(sell())) == (buys, sells)


def test_halted_is_latched_until_the_operator_arms_with_a_reason() -> None:
    machine = TradingStateMachine()
    halted = machine.halt("journal write failed", T0)
    assert halted == StateTransition(ACTIVE, HALTED, "journal write failed", T0)
    assert halted.to_json() == {
        "previous": "ACTIVE",
        "state": "HALTED",
        "reason": "journal write failed",
        "at": "2026-01-02T10:00:00+00:00",
    }
    assert machine.halt("another reason", T0 + timedelta(seconds=1)) is None
    assert machine.reason == "journal write failed"  # the first reason stands
    with pytest.raises(TransitionRefused, match=r"trading is HALTED \(journal write failed\); "):
        machine.reduce("daily loss", T0)
    assert machine.state is HALTED
    for empty in ("", "   "):
        with pytest.raises(TransitionRefused, match="arming needs a reason"):
            machine.arm(empty, T0)
    assert machine.state is HALTED
    armed = machine.arm("  disk replaced  ", T0 + timedelta(minutes=5))
    assert armed == StateTransition(HALTED, ACTIVE, "disk replaced", T0 + timedelta(minutes=5))
    assert (machine.state, machine.reason, machine.changed_at) == (
        ACTIVE,
        "disk replaced",
        T0 + timedelta(minutes=5),
    )
    assert machine.arm("again", T0) is None


def test_reducing_comes_from_active_and_leaves_by_arming_or_halting() -> None:
    machine = TradingStateMachine()
    assert machine.reduce("daily loss limit reached", T0) == StateTransition(
        ACTIVE, REDUCING, "daily loss limit reached", T0
    )
    assert machine.reduce("again", T0) is None
    assert machine.arm("new day", T0) == StateTransition(REDUCING, ACTIVE, "new day", T0)
    machine.reduce("daily loss limit reached", T0)
    assert machine.halt("operator", T0) == StateTransition(REDUCING, HALTED, "operator", T0)


def test_every_transition_needs_a_reason_and_an_aware_time() -> None:
    machine = TradingStateMachine()
    with pytest.raises(TransitionRefused, match="halting needs a reason"):
        machine.halt("", T0)
    with pytest.raises(TransitionRefused, match="reducing needs a reason"):
        machine.reduce(" ", T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        machine.halt("x", datetime(2026, 1, 2))  # noqa: DTZ001 - the naive time under test
    assert machine.state is ACTIVE


def test_the_state_survives_a_restart() -> None:
    machine = TradingStateMachine()
    machine.halt("operator: rebalance", T0)
    stored = machine.to_json()
    assert stored == {"state": "HALTED", "reason": "operator: rebalance", "at": T0.isoformat()}
    restored = TradingStateMachine.from_json(stored)
    assert (restored.state, restored.reason, restored.changed_at) == (
        HALTED,
        "operator: rebalance",
        T0,
    )
    assert TradingStateMachine().to_json() == {"state": "ACTIVE", "reason": "", "at": None}
    assert TradingStateMachine.from_json(None).state is ACTIVE
    assert TradingStateMachine.from_json({"state": "REDUCING", "reason": 7}).reason == ""


@pytest.mark.parametrize(
    "stored",
    [{"state": "PAUSED"}, {"reason": "x"}, {"state": "ACTIVE", "at": "2026-01-02T10:00:00"}],
)
def test_an_unreadable_stored_state_restores_halted(stored: dict[str, object]) -> None:
    restored = TradingStateMachine.from_json(stored)
    assert restored.state is HALTED
    assert restored.reason.startswith("stored trading state unreadable: ")
