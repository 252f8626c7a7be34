"""Refusals and failing closed: local filter checks, halts, an unwritable journal, venue
rejections and rate limits, and no trading before a clean start-up reconciliation."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from engine_testkit import engine_for, new_account, started, submit

from engine.journal import JournalWriteError
from engine.service.api import CommandName, Outcome
from engine.service.assembly import EngineStartError
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def _orders_at_exchange(sim: SimServer, account_id: int) -> int:
    return len((await sim.admin.oracle(account_id))["orders"])


async def test_filter_violations_are_refused_locally_with_the_numbers(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        tiny = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.00004", price="50000"
        )
        assert tiny.outcome is Outcome.REFUSED
        assert tiny.message == (
            "refused before sending: NOTIONAL: notional 2.0000000 is below minNotional 5.00000000"
        )
        assert tiny.data["violations"] == [
            {
                "filter": "NOTIONAL",
                "field": "notional",
                "message": "notional 2.0000000 is below minNotional 5.00000000",
                "value": "2.0000000",
                "limit": "5.00000000",
            }
        ]
        dust = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.000001")
        assert dust.outcome is Outcome.REFUSED
        assert dust.message == "quantity 0.000001 rounds down to 0 at step 0.00001000"
        unknown = await submit(engine, symbol="XYZUSDT", side="buy", quantity="1")
        assert (unknown.outcome, unknown.message) == (Outcome.USAGE, "unknown symbol XYZUSDT")
        floats = await submit(engine, symbol=BTC, side="buy", quantity=0.1)
        assert floats.outcome is Outcome.USAGE
        assert await _orders_at_exchange(sim, account.account_id) == 0


async def test_halt_blocks_new_orders_not_cancels_and_survives_a_restart(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        resting = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        halted = await engine.command(CommandName.HALT, {"reason": "lunch"})
        assert (halted.outcome, halted.message) == (Outcome.OK, "trading HALTED: lunch")
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert (refused.outcome, refused.message) == (
            Outcome.REFUSED,
            "trading is HALTED: lunch",
        )
        canceled = await engine.command(
            CommandName.CANCEL_ORDER, {"client_order_id": resting.data["client_order_id"]}
        )
        assert canceled.outcome is Outcome.OK, canceled.message
        no_reason = await engine.command(CommandName.ARM, {})
        assert (no_reason.outcome, no_reason.message) == (Outcome.USAGE, "missing reason")
    async with started(engine_for(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        assert (snapshot["trading_state"], snapshot["halt_reason"]) == ("HALTED", "lunch")
        armed = await engine.command(CommandName.ARM, {"reason": "back"})
        assert armed.outcome is Outcome.OK
        placed = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert placed.outcome is Outcome.OK, placed.message
    assert await _orders_at_exchange(sim, account.account_id) == 2


async def test_an_intent_that_cannot_be_journaled_is_never_sent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        journal = engine.parts.journal

        def failing(*args: object, **kwargs: object) -> asyncio.Future[None]:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            future.set_exception(JournalWriteError("journal write not committed: disk full"))
            return future

        journal.record_intent = failing  # type: ignore[method-assign]
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.REFUSED
        assert result.message.startswith("the intent could not be journaled, so nothing was sent")
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "HALTED"
        assert "disk full" in snapshot["halt_reason"]
        assert snapshot["orders"]["open"] == []
        assert await _orders_at_exchange(sim, account.account_id) == 0


async def test_venue_rejections_and_rate_limits(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "100"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        # Risk refuses what the balance cannot pay locally; the venue's own refusal is scripted.
        await sim.admin.add_fault(
            "error_code",
            method="POST",
            path="/api/v3/order",
            count=1,
            status=400,
            code=-2010,
            msg="Account has insufficient balance for requested action.",
        )
        broke = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.001", price="90000"
        )
        assert broke.outcome is Outcome.VENUE
        assert broke.data["order"]["state"] == "REJECTED"
        assert "insufficient balance" in broke.message.lower()
        await sim.admin.add_fault(
            "status_429", method="POST", path="/api/v3/order", count=1, retryAfter=7
        )
        limited = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.0001")
        assert limited.outcome is Outcome.REFUSED
        assert limited.data["retry_after_s"] == pytest.approx(7, abs=0.5)
        assert limited.data["order"]["state"] == "REJECTED"
        snapshot = await engine.snapshot()
        assert snapshot["orders"]["open"] == []
        assert snapshot["rate_budget"]["blocked_for_s"] > 0


async def test_no_trading_before_a_clean_start_reconciliation(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "100"})
    engine = engine_for(sim, account, tmp_path, start_reconcile_attempts=2)
    before = await engine.command(CommandName.SUBMIT_ORDER, {})
    assert (before.outcome, before.message) == (Outcome.REFUSED, "the engine is not running")
    await sim.admin.add_fault("http_5xx", method="GET", path="/api/v3/openOrders", count=2)
    with pytest.raises(EngineStartError, match="not clean after 2 attempt"):
        await engine.start()
    assert engine.stopped.is_set()

    await sim.admin.add_fault("http_5xx", method="GET", path="/api/v3/openOrders", count=1)
    async with started(engine_for(sim, account, tmp_path, start_reconcile_attempts=2)) as again:
        snapshot = await again.snapshot()
        assert snapshot["reconciled"] is True
        assert snapshot["reconcile"]["last_clean"] is True
