"""SIGKILL in the middle of the engine's own recovery work: a reconciliation (the operator's, and
the start-up one of an engine restarting after a crash) and the emergency stop between phases."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import pytest
from crash_testkit import (
    BTC,
    FUNDS,
    armed_engine,
    exchange_orders,
    journaled_ids,
    leftover,
    order_args,
    restarted,
    state_of,
)
from engine_testkit import new_account
from invariants import assert_invariants

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer


async def test_a_reconciliation_killed_after_open_orders_before_trades(
    sim: SimServer, base: pathlib.Path
) -> None:
    account = await new_account(sim, FUNDS)
    # Hit 1 is the start-up reconciliation; hit 2 the operator's.
    async with armed_engine(sim, account, base, "mid_reconcile@2") as armed:
        bought = await armed.submit("market")
        rest = await armed.command(
            CommandName.SUBMIT_ORDER, {**order_args("limit"), "price": "49000"}
        )
        assert [bought.outcome, rest.outcome] == [Outcome.OK, Outcome.OK], rest.message
        # The stream goes quiet, then the resting order fills: only a reconciliation can tell.
        await sim.admin.stream_fault("stall", account=account.account_id)
        await sim.admin.set_price(BTC, "48000")
        result = await armed.command(CommandName.RECONCILE, {})
        assert result.outcome is Outcome.UNKNOWN, result.message
        await armed.killed()
    ids = [bought.data["client_order_id"], rest.data["client_order_id"]]
    left = await leftover(armed)
    assert ids[0] in left.fills and ids[1] not in left.fills  # its trade was never folded in
    async with restarted(sim, account, armed) as engine:
        assert [(c, s) for c, s, _ in await exchange_orders(sim, account)] == [
            (ids[0], "FILLED"),
            (ids[1], "FILLED"),
        ]
        await assert_invariants(engine, sim, account)
        assert [await state_of(engine, cid) for cid in ids] == ["FILLED", "FILLED"]


async def test_a_restart_killed_in_its_start_up_reconciliation(
    sim: SimServer, base: pathlib.Path
) -> None:
    """Two crashes in a row: the create's answer is lost, then the engine that should settle it
    dies in its start-up reconciliation; the third start settles everything."""
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, "after_response_before_commit") as first:
        result = await first.submit("market")
        assert result.outcome is Outcome.UNKNOWN, result.message
        await first.killed()
    async with armed_engine(sim, account, base, "mid_reconcile@1", ready=False) as second:
        await second.killed()
    async with restarted(sim, account, second) as engine:
        (cid,) = await journaled_ids(engine)
        assert [(c, s) for c, s, _ in await exchange_orders(sim, account)] == [(cid, "FILLED")]
        await assert_invariants(engine, sim, account)
        assert await state_of(engine, cid) == "FILLED"


# (the phase announcement it dies at, flatten, what the exchange then holds by order)
EMERGENCY = [
    ("emergency_stop_phase@2", False, ["NEW", "NEW"]),  # halted, before any cancel
    ("emergency_stop_phase@3", False, ["CANCELED", "CANCELED"]),  # cancelled and verified
    # flatten: halt@1 cancel@2 verify@3 flatten@4, then the sale; @5 cancels again after it
    ("emergency_stop_phase@5", True, ["FILLED", "CANCELED", "FILLED"]),
]


@pytest.mark.parametrize(("point", "flatten", "statuses"), EMERGENCY)
async def test_an_emergency_stop_killed_between_phases(
    sim: SimServer, base: pathlib.Path, point: str, flatten: bool, statuses: list[str]
) -> None:
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, point) as armed:
        kinds = ["market", "limit"] if flatten else ["limit", "limit_maker"]
        for kind in kinds:
            placed = await armed.submit(kind)
            assert placed.outcome is Outcome.OK, placed.message
        stop = {"reason": "crash test", "flatten": flatten}
        result = await armed.command(CommandName.EMERGENCY_STOP, stop)
        assert result.outcome is Outcome.UNKNOWN, result.message
        await armed.killed()
    async with restarted(sim, account, armed) as engine:
        assert engine.parts.gate.state.value == "HALTED"  # journaled before anything else
        placed_orders = await exchange_orders(sim, account)
        assert [s for _, s, _ in placed_orders] == statuses
        await assert_invariants(engine, sim, account)
        for cid, status, _ in placed_orders:
            assert await state_of(engine, cid) == status
        if flatten:
            position = engine.parts.ledger.position(BTC)
            assert position is not None and position.qty == Decimal(0)
