"""Catalogue E1-E4 (rate limits) through the real client and the embedded exchange, every REST
request the engine sends logged by aiohttp tracing: a 429 pauses everything until Retry-After,
a 418 is a ban with a countdown, the unfilled-order count blocks new orders but not cancels, and
the engine throttles itself before the weight limit. Each test ends with the invariants."""

from __future__ import annotations

import asyncio
import pathlib
import time

import aiohttp
from engine_testkit import new_account, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, RequestLog, engine_on, next_event, seq_now

from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer


async def _resting_buy(engine: Engine) -> str:
    placed = await submit(
        engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
    )
    assert placed.outcome is Outcome.OK, placed.message
    return str(placed.data["client_order_id"])


def _at_status(log: RequestLog, status: int) -> float:
    found = [s.at for s in log.sent if s.status == status]
    assert len(found) == 1, log.sent
    return found[0]


async def test_e1_a_429_pauses_every_request_until_retry_after_then_reconciles(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        since = await seq_now(engine)
        await sim.admin.add_fault(
            "status_429", method="GET", path="/api/v3/account", retryAfter=1, count=1
        )
        result = await engine.command(CommandName.RECONCILE, {})
        assert result.outcome is Outcome.VENUE
        hit = _at_status(log, 429)
        budget = (await engine.snapshot())["rate_budget"]
        assert budget["state"] == "PAUSED"
        assert 0.5 < budget["blocked_for_s"] <= 1.0
        alarm = await next_event(engine, since, "EngineAlarm", kind="rate_limit")
        assert alarm["message"].startswith("the exchange's rate limit was hit (429, code -1003)")
        # Nothing goes out during the pause: a new order is refused here, not sent (the failed
        # run also left the engine unreconciled).
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert refused.outcome is Outcome.REFUSED
        assert refused.message.startswith("not reconciled with the exchange")
        after = await next_event(
            engine, since, "ReconcileFinished", trigger="after the rate-limit pause"
        )
        assert after["clean"] is True
        resumed = [s for s in log.sent if s.at > hit]
        assert resumed and resumed[0].at - hit >= 1.0  # honoured Retry-After, then reconciled
        assert resumed[0].path == "/api/v3/account"
        assert log.statuses().count(429) == 1 and 418 not in log.statuses()
        await assert_invariants(engine, sim, account)


async def test_e2_a_418_is_a_ban_with_a_countdown_and_a_full_reconcile_after_it(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        cid = await _resting_buy(engine)
        since = await seq_now(engine)
        await sim.admin.add_fault(
            "status_418", method="GET", path="/api/v3/account", retryAfter=1, count=1
        )
        result = await engine.command(CommandName.RECONCILE, {})
        assert result.outcome is Outcome.VENUE
        banned_at = _at_status(log, 418)
        snapshot = await engine.snapshot()
        budget = snapshot["rate_budget"]
        assert budget["state"] == "BANNED"  # the desk shows BANNED and counts down to banned_until
        assert 0.5 < budget["banned_for_s"] <= 1.0
        assert budget["banned_until"] is not None
        assert snapshot["reconciled"] is False  # a full reconciliation is owed after the ban
        alarm = await next_event(engine, since, "EngineAlarm", kind="rate_limit")
        assert alarm["message"] == (
            "IP banned by the exchange for 1 s (418): nothing can be sent until it ends; "
            "resting orders stay live on the exchange"
        )
        # No request at all while banned: not an order, not even a cancel.
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert refused.outcome is Outcome.REFUSED
        cancel = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert cancel.outcome is Outcome.REFUSED
        assert "rate limited" in cancel.message
        after = await next_event(engine, since, "ReconcileFinished", trigger="after the IP ban")
        assert after["clean"] is True
        assert [s for s in log.sent if banned_at < s.at < banned_at + 0.95] == []
        assert (await engine.snapshot())["reconciled"] is True
        cancel = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert cancel.outcome is Outcome.OK, cancel.message
        assert log.statuses().count(418) == 1 and 429 not in log.statuses()
        await assert_invariants(engine, sim, account)


async def test_e3_the_unfilled_order_count_blocks_new_orders_but_not_cancels(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    await sim.admin.limits(orders_per_10_seconds=2)
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        first = await _resting_buy(engine)
        await _resting_buy(engine)
        third = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        assert third.outcome is Outcome.REFUSED
        assert third.data["order"]["state"] == "REJECTED"
        budget = (await engine.snapshot())["rate_budget"]
        assert budget["state"] == "ORDERS_BLOCKED"
        assert 0 < budget["orders_blocked_for_s"] <= 10
        posts = sum(1 for s in log.sent if s.method == "POST")
        fourth = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        assert fourth.outcome is Outcome.REFUSED
        assert sum(1 for s in log.sent if s.method == "POST") == posts  # refused here
        cancel = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": first})
        assert cancel.outcome is Outcome.OK, cancel.message
        assert [s.status for s in log.sent if s.method == "DELETE"] == [200]
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK  # queries go on too
        await assert_invariants(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        assert len(oracle["orders"]) == 2


async def _burn_weight(sim: SimServer, until_used: int) -> int:
    """Another program on the same IP spends request weight (exchangeInfo, 20 each)."""
    used = 0
    async with aiohttp.ClientSession() as session:
        while used < until_used:
            async with session.get(f"{sim.url}/api/v3/exchangeInfo") as response:
                assert response.status == 200
                used = int(response.headers["X-MBX-USED-WEIGHT-1M"])
    return used


async def test_e4_near_the_weight_limit_the_engine_throttles_and_never_gets_a_429(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    await sim.admin.limits(request_weight_per_minute=1000)
    # The exchange's clock 5 s before a minute ends: the throttled work waits that long.
    left_ms = 60_000 - sim.clock.now_ms() % 60_000
    await sim.admin.skew_clock(left_ms - 5_000)
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        cid = await _resting_buy(engine)
        assert await _burn_weight(sim, 850) < 900  # past 80 %: a full reconcile would hit 1000
        window_end = time.monotonic() + (60_000 - sim.clock.now_ms() % 60_000) / 1000
        assert window_end - time.monotonic() > 2.0, "the test started too late in its window"
        await engine.parts.venue.sync_time()  # essential: goes at once, and reads the header
        budget = (await engine.snapshot())["rate_budget"]
        assert budget["state"] == "THROTTLED"
        assert budget["used_weight_1m"] > 800
        since = time.monotonic()
        reconcile = asyncio.create_task(engine.command(CommandName.RECONCILE, {}))
        await asyncio.sleep(0.3)
        assert not reconcile.done()
        assert log.since(since) == []  # the run waits for room in the budget
        cancel = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert cancel.outcome is Outcome.OK, cancel.message  # a cancel uses the reserve
        assert [s.method for s in log.since(since)] == ["DELETE"]
        result = await asyncio.wait_for(reconcile, 10)
        assert result.outcome is Outcome.OK, result.message
        queries = [s for s in log.since(since) if s.method == "GET"]
        assert queries[0].path == "/api/v3/account"
        assert queries[0].at >= window_end - 0.05  # only once the exchange's window restarted
        assert 429 not in log.statuses() and 418 not in log.statuses()
        await assert_invariants(engine, sim, account)
