"""The user stream and the REST path racing, repeating and failing: events before the REST
reply, duplicated events, an unanswered create, a gap that only reconciliation can fill."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import (
    assert_matches_oracle,
    engine_for,
    event_seen,
    new_account,
    order_in,
    started,
    submit,
    until,
)

from engine.service.api import Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


def _events_of(events: list[dict[str, Any]], name: str, cid: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name and e["order"]["client_order_id"] == cid]


async def _all_events(engine: Any) -> list[dict[str, Any]]:
    last = (await engine.snapshot())["seq"]
    found: list[dict[str, Any]] = []
    async for event in engine.events(0):
        found.append(event)
        if event["seq"] >= last:
            return found
    return found


async def test_stream_events_before_the_rest_reply_are_applied(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        # The exchange executes the order, streams its events, and answers 1 s later.
        await sim.admin.add_fault(
            "delay", method="POST", path="/api/v3/order", count=1, seconds=1.0
        )
        since = (await engine.snapshot())["seq"]
        task = asyncio.create_task(
            submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        )
        filled = await event_seen(engine, lambda e: e["event"] == "OrderFilled", since)
        assert not task.done()  # the REST reply has not come yet
        cid = filled["order"]["client_order_id"]
        result = await task
        assert result.outcome is Outcome.OK, result.message
        assert result.data["order"]["state"] == "FILLED"
        events = await _all_events(engine)
        assert len(_events_of(events, "OrderFilled", cid)) == 1
        assert len(_events_of(events, "OrderSubmitted", cid)) == 1
        await assert_matches_oracle(engine, sim, account)


async def test_duplicate_stream_events_change_nothing(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "200000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="1", price="94000"
        )
        cid = placed.data["client_order_id"]
        await sim.admin.stream_fault("duplicate", account=account.account_id, count=50)
        await sim.admin.set_price(BTC, "93000")  # the resting order fills, on the stream only

        async def filled() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and order["state"] == "FILLED"

        await until(engine, filled)
        await assert_matches_oracle(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        events = await _all_events(engine)
        fill_events = _events_of(events, "OrderFilled", cid)
        fill_events += _events_of(events, "OrderPartiallyFilled", cid)
        assert sorted(e["fill"]["trade_id"] for e in fill_events) == sorted(
            int(t["id"]) for t in oracle["trades"]
        )
        assert len(_events_of(events, "OrderAccepted", cid)) == 1


async def test_an_unanswered_create_is_settled_by_query_and_never_resent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        await sim.admin.add_fault("lose_response", method="POST", path="/api/v3/order", count=1)
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.UNKNOWN, result.message
        cid = result.data["client_order_id"]

        async def settled() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and order["state"] == "FILLED"

        await until(engine, settled)
        events = await _all_events(engine)
        assert len(_events_of(events, "OrderStateUnknown", cid)) == 1
        await assert_matches_oracle(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        assert [o["clientOrderId"] for o in oracle["orders"]] == [cid]


async def test_a_fill_lost_in_a_stream_gap_is_found_by_reconciliation(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.02", price="94000"
        )
        cid = placed.data["client_order_id"]
        since = (await engine.snapshot())["seq"]
        await sim.admin.stream_fault("stall", account=account.account_id)
        await sim.admin.set_price(BTC, "93000")  # its events wait on the stalled connection
        await sim.admin.stream_fault("drop", account=account.account_id)  # ... and are lost
        finished = await event_seen(
            engine, lambda e: e["event"] == "ReconcileFinished" and "gap" in e["trigger"], since
        )
        assert finished["clean"] is True
        assert finished["summary"].startswith("0 open order(s), 1 queried")
        snapshot = await engine.snapshot()
        order = order_in(snapshot, cid)
        assert order is not None and order["state"] == "FILLED"
        assert Decimal(order["cum_qty"]) == Decimal("0.02")
        assert snapshot["reconciled"] is True
        await assert_matches_oracle(engine, sim, account)
