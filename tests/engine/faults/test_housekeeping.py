"""Housekeeping through the real client and the embedded exchange: stale resting orders are
cancelled when (and only when) the operator enables it, each cancel journaled and announced,
external orders never touched; settled orders leave memory, so it does not grow with history.
Each test ends with the invariants."""

from __future__ import annotations

import pathlib

from engine_testkit import event_seen, new_account, order_in, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, engine_on, next_event, seq_now

from engine.config import Settings
from engine.service.api import Outcome
from engine.service.settings import HousekeepingSettings
from engine.sim.runner import SimServer


def test_housekeeping_cancels_nothing_unless_the_operator_enables_it() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.housekeeping.cancel_stale_after_s is None
    enabled = Settings(
        _env_file=None,  # type: ignore[call-arg]
        housekeeping={"cancel_stale_after_s": 3600},
    )
    assert enabled.housekeeping == HousekeepingSettings(cancel_stale_after_s=3600.0)


async def test_housekeeping_cancels_stale_desk_orders_and_never_external_ones(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    settings = HousekeepingSettings(cancel_stale_after_s=0.3, check_every_s=0.1)
    async with started(engine_on(sim, account, tmp_path, housekeeping=settings)) as engine:
        since = await seq_now(engine)
        # Placed outside the desk (another program on the same account): never touched.
        sim.exchange.new_order(
            account.account_id,
            {
                "symbol": BTC,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "80000",
                "newClientOrderId": "web-order-1",
            },
        )
        await next_event(engine, since, "ExternalOrderDetected")
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="85000"
        )
        assert placed.outcome is Outcome.OK, placed.message
        cid = str(placed.data["client_order_id"])
        alarm = await next_event(engine, since, "EngineAlarm", kind="stale_order")
        assert alarm["message"].startswith(f"{cid} (BTCUSDT) canceled: open ")
        assert alarm["message"].endswith(" s, over 0.3 s")
        canceled = await event_seen(
            engine,
            lambda e: e["event"] == "OrderCanceled" and e["order"]["client_order_id"] == cid,
            since,
        )
        assert canceled["seq"] < alarm["seq"]
        await engine.parts.journal.flush()
        row = await engine.parts.journal.order(cid)
        assert row is not None and row.state == "CANCELED"
        snapshot = await engine.snapshot()
        external = order_in(snapshot, "web-order-1")
        assert external is not None
        assert (external["state"], external["origin"]) == ("NEW", "EXTERNAL")
        assert snapshot["housekeeping"]["stale_canceled"] == 1
        await assert_invariants(engine, sim, account)


async def test_settled_orders_leave_memory_and_stay_in_the_journal(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "100000"})
    finished = 40
    async with started(engine_on(sim, account, tmp_path, recent_orders=5)) as engine:
        for _ in range(finished):
            result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
            assert result.outcome is Outcome.OK, result.message
        resting = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.001", price="85000"
        )
        assert resting.outcome is Outcome.OK, resting.message
        await assert_invariants(engine, sim, account)
        memory = (await engine.snapshot())["housekeeping"]
        assert memory == {
            "book_orders": 1,  # only the open one
            "recent_orders": 5,
            "recent_limit": 5,
            "cancel_stale_after_s": None,
            "stale_canceled": 0,
        }
        assert len(engine.parts.book) == 1
        assert len(engine.parts.pipeline.recent) == 5
        journaled = [row async for row in engine.parts.journal.iter_orders()]
        assert len(journaled) == finished + 1
