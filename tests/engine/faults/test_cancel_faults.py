"""Cancels under faults (RELIABILITY.md B1-B7): a lost cancel answer is settled by a query, one
cancel is in flight per order, a partial fill survives its cancel, and cancel-all says "done"
for a symbol only once the exchange confirms it. Each test ends with I1-I5.

B4 (cancelRestrictions=ONLY_NEW) and B5 (cancelReplace) do not apply: the engine sends neither.
"""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal
from typing import Any

import pytest
from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from unknown_testkit import BTC, ORDER_PATH, exchange_orders, fault_engine

from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer

ETH = "ETHUSDT"
OPEN_ORDERS_PATH = "/api/v3/openOrders"


async def rest(engine: Engine, symbol: str = BTC, price: str = "90000", qty: str = "0.01") -> str:
    placed = await submit(
        engine, symbol=symbol, side="buy", type="limit", quantity=qty, price=price
    )
    assert placed.outcome is Outcome.OK, placed.message
    return str(placed.data["client_order_id"])


async def cancel(engine: Engine, cid: str) -> Any:
    return await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})


async def statuses(sim: SimServer, account_id: int) -> dict[str, str]:
    oracle = await sim.admin.oracle(account_id)
    return {o["clientOrderId"]: o["status"] for o in oracle["orders"]}


async def test_b1_a_lost_cancel_answer_is_settled_by_query(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        cid = await rest(engine)
        await sim.admin.stream_fault("stall", account=account.account_id)
        await sim.admin.add_fault("lose_response", method="DELETE", path=ORDER_PATH, count=1)
        result = await cancel(engine, cid)
        assert result.outcome is Outcome.OK, result.message
        assert result.message == f"{cid} canceled"
        assert result.data["order"]["state"] == "CANCELED"
        assert await statuses(sim, account.account_id) == {cid: "CANCELED"}
        await assert_invariants(engine, sim, account)


async def test_b1_one_cancel_in_flight_per_order(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        cid = await rest(engine)
        # The cancel waits 0.5 s at the exchange before it runs; two uses, so that a second
        # DELETE would show by taking the second one.
        await sim.admin.add_fault(
            "delay", method="DELETE", path=ORDER_PATH, count=2, seconds=0.5, executeAt="after"
        )
        first = asyncio.create_task(cancel(engine, cid))

        async def pending() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and bool(order["cancel_requested"])

        await until(engine, pending)  # PENDING_CANCEL
        second = await cancel(engine, cid)
        assert (second.outcome, second.message) == (
            Outcome.OK,
            f"a cancel of {cid} is already in flight",
        )
        done = await first
        assert done.outcome is Outcome.OK, done.message
        (rule,) = (await sim.admin.faults())["rules"]
        assert rule["remaining"] == 1  # exactly one DELETE reached the exchange
        third = await cancel(engine, cid)  # F7: already final, nothing sent
        assert third.data["already_final"] is True
        assert (await sim.admin.faults())["rules"][0]["remaining"] == 1
        await assert_invariants(engine, sim, account)


async def test_b3_cancel_of_a_partially_filled_order_keeps_its_fills(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "50000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        # Takes the best ask's 0.21052 BTC, rests the rest.
        cid = await rest(engine, price="95000.01", qty="0.5")

        async def partial() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and order["state"] == "PARTIALLY_FILLED"

        await until(engine, partial)
        result = await cancel(engine, cid)
        assert result.outcome is Outcome.OK, result.message
        order = result.data["order"]
        assert order["state"] == "CANCELED"
        assert Decimal(order["cum_qty"]) == Decimal("0.21052")
        oracle = await sim.admin.oracle(account.account_id)
        assert Decimal(oracle["balances"][str(account.account_id)]["USDT"]["locked"]) == 0
        await assert_invariants(engine, sim, account)


@pytest.mark.parametrize("executed", [False, True], ids=["dropped", "answer-lost"])
async def test_b7_cancel_all_says_done_only_once_confirmed(
    sim: SimServer, tmp_path: pathlib.Path, executed: bool
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        btc = [await rest(engine, BTC, "90000"), await rest(engine, BTC, "91000")]
        eth = [await rest(engine, ETH, "3000"), await rest(engine, ETH, "3100")]
        await sim.admin.stream_fault("stall", account=account.account_id)
        # Half the requests fail: BTC's cancel-all (dropped, or executed with its answer
        # lost) and the first open-orders read; ETH's cancel-all goes through.
        kind = "lose_response" if executed else "drop"
        await sim.admin.call(
            "POST",
            "faults",
            {
                "rules": [
                    {"kind": kind, "method": "DELETE", "path": OPEN_ORDERS_PATH, "count": 1},
                    {"kind": "drop", "method": "GET", "path": OPEN_ORDERS_PATH, "count": 1},
                ]
            },
        )
        result = await engine.command(CommandName.CANCEL_ALL_ORDERS, {})
        assert result.outcome is Outcome.UNKNOWN, result.message
        assert result.message.startswith("cancel-all incomplete")
        assert sorted(result.data["canceled"]) == sorted(eth)
        assert list(result.data["failed"]) == [BTC]
        truth = await statuses(sim, account.account_id)
        expected_btc = "CANCELED" if executed else "NEW"
        assert [truth[cid] for cid in btc] == [expected_btc] * 2
        snapshot = await engine.snapshot()
        for cid in btc:  # nothing claims the BTC orders are gone; no cancel stays pending
            order = order_in(snapshot, cid)
            assert order is not None and order["state"] == "NEW"
            assert order["cancel_requested"] is False

        again = await engine.command(CommandName.CANCEL_ALL_ORDERS, {})
        assert again.outcome is Outcome.OK, again.message
        assert sorted(again.data["canceled"]) == sorted(btc)
        assert set((await statuses(sim, account.account_id)).values()) == {"CANCELED"}
        await assert_invariants(engine, sim, account)


async def test_b7_a_lost_cancel_all_answer_is_confirmed_by_the_open_orders(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        btc = [await rest(engine, BTC, "90000"), await rest(engine, BTC, "91000")]
        await sim.admin.stream_fault("stall", account=account.account_id)
        await sim.admin.add_fault("lose_response", method="DELETE", path=OPEN_ORDERS_PATH, count=1)
        result = await engine.command(CommandName.CANCEL_ALL_ORDERS, {"symbol": BTC})
        assert result.outcome is Outcome.OK, result.message
        assert sorted(result.data["canceled"]) == sorted(btc)
        assert result.data["failed"] == {}
        for cid in btc:
            order = order_in(await engine.snapshot(), cid)
            assert order is not None and order["state"] == "CANCELED"
        assert len(await exchange_orders(sim, account)) == 2
        await assert_invariants(engine, sim, account)
