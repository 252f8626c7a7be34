"""Catalogue D12: a graceful stop (what SIGTERM or SIGHUP does when the SSH session drops) with
an order in flight: nothing is cancelled on the way out, the intent is already journaled, and
the next start reconciles and settles it. Ends with the invariants on the restarted engine."""

from __future__ import annotations

import asyncio
import pathlib

from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from streams_testkit import BTC, RequestLog, engine_on

from engine.service.api import Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer


async def test_d12_a_graceful_stop_with_an_order_in_flight_cancels_nothing_and_restarts_clean(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    first = engine_on(sim, account, tmp_path, log=log)
    await first.start()
    try:
        resting = await submit(
            first, symbol=BTC, side="buy", type="limit", quantity="0.01", price="85000"
        )
        assert resting.outcome is Outcome.OK, resting.message
        # The exchange executes the next order but answers only after the engine has stopped.
        await sim.admin.add_fault("delay", method="POST", path="/api/v3/order", count=1, seconds=1)
        in_flight = asyncio.create_task(
            submit(first, symbol=BTC, side="buy", type="market", quantity="0.01")
        )

        async def placed() -> bool:
            return len((await sim.admin.oracle(account.account_id))["orders"]) == 2

        await until(first, placed)
        cid = next(iter(first.parts.in_flight))
    finally:
        await first.stop()
    # The command ends either way (settled by the stream before the stop, or left unknown).
    result = await asyncio.wait_for(in_flight, 5)
    assert result.outcome in (Outcome.OK, Outcome.UNKNOWN, Outcome.REFUSED), result.message
    assert [s for s in log.sent if s.method == "DELETE"] == []  # nothing cancelled on the way out
    oracle = await sim.admin.oracle(account.account_id)
    by_id = {o["clientOrderId"]: o["status"] for o in oracle["orders"]}
    assert by_id == {resting.data["client_order_id"]: "NEW", cid: "FILLED"}

    async with started(engine_on(sim, account, tmp_path)) as second:
        snapshot = await second.snapshot()
        assert snapshot["reconciled"] is True
        settled = order_in(snapshot, cid)
        if settled is None or settled["state"] != "FILLED":
            await until(second, lambda: _filled(second, cid))
        await assert_invariants(second, sim, account)


async def _filled(engine: Engine, cid: str) -> bool:
    order = order_in(await engine.snapshot(), cid)
    return order is not None and order["state"] == "FILLED"
