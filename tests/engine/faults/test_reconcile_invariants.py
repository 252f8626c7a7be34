"""The I1-I5 checker itself: it passes on a clean run and fails on each kind of breach."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import pytest
from engine_testkit import engine_for, new_account, started, submit
from invariants import _assert_known, _backwards, _exchange_orders, assert_invariants

from engine.service.api import Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def test_checker_passes_on_a_clean_run(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        rest = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        assert rest.outcome is Outcome.OK, rest.message
        await assert_invariants(engine, sim, account)


async def test_checker_finds_lost_orders_and_state_mismatches(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    """I1, both ways, against a doctored copy of the exchange's orders."""
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        cid = placed.data["client_order_id"]
        await assert_invariants(engine, sim, account)
        truth = _exchange_orders(await sim.admin.oracle(account.account_id))
        lost = {**truth, "sd-zz-1": {"status": "FILLED", "executedQty": "1"}}
        with pytest.raises(AssertionError, match="I1: sd-zz-1 is at the exchange"):
            await _assert_known(engine, lost, "sd-")
        other = {**truth, cid: {**truth[cid], "status": "CANCELED"}}
        with pytest.raises(AssertionError, match=f"I1: {cid}: engine .*'NEW'.*'CANCELED'"):
            await _assert_known(engine, other, "sd-")
        with pytest.raises(AssertionError, match=f"I1: {cid}: engine NEW .*never at the exchange"):
            await _assert_known(engine, {}, "sd-")


def test_checker_finds_an_id_placed_twice() -> None:
    """I2, on the oracle's list of every order ever placed."""
    twice = {"orders": [{"clientOrderId": "sd-a-1"}, {"clientOrderId": "sd-a-1"}]}
    with pytest.raises(AssertionError, match=r"I2: .*\['sd-a-1'\]"):
        _exchange_orders(twice)


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ([("NEW", "0"), ("PENDING_NEW", "0")], "state went back to PENDING_NEW at event 2"),
        ([("PARTIALLY_FILLED", "1"), ("NEW", "1")], "state went back to NEW at event 2"),
        ([("FILLED", "2"), ("CANCELED", "2")], "terminal FILLED became CANCELED at event 2"),
        ([("CANCELED", "0"), ("UNKNOWN", "0")], "CANCELED became UNKNOWN at event 2"),
        ([("PARTIALLY_FILLED", "2"), ("PARTIALLY_FILLED", "1")], "fell from 2 to 1 at event 2"),
        ([("PENDING_NEW", "0"), ("UNKNOWN", "0"), ("NEW", "0"), ("FILLED", "1")], None),
    ],
)
def test_checker_finds_states_moving_backwards(
    steps: list[tuple[str, str]], problem: str | None
) -> None:
    """I5, on the journaled events of one order."""
    found = _backwards([(n, s, Decimal(q)) for n, (s, q) in enumerate(steps, 1)])
    assert found == problem if problem is None else (found is not None and problem in found)
