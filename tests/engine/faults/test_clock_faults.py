"""Catalogue A11 and R10 (clock) through the real client and the embedded exchange: -1021 re-syncs
the server time and retries once with a fresh timestamp and the same client order id; a repeated
-1021 halts new orders with "clock skew"; the offset is also re-synced periodically. Countdowns
on the monotonic clock are in test_rate_budget.py. Each test ends with the invariants."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from engine_testkit import new_account, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, RequestLog, engine_on

from engine.service.api import Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer


async def _offset(engine: Engine) -> int:
    return int((await engine.snapshot())["clock_offset_ms"])


@pytest.mark.parametrize(
    "skew_ms",
    [-3000, 7000],
    ids=["desk-3s-ahead-of-the-exchange", "desk-7s-behind-past-recvWindow"],
)
async def test_a11_a_rejected_timestamp_resyncs_and_resends_once_with_the_same_id(
    sim: SimServer, tmp_path: pathlib.Path, skew_ms: int
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        before = await _offset(engine)
        await sim.admin.skew_clock(skew_ms)
        sent = len(log.sent)
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.OK, result.message
        assert result.data["order"]["state"] == "FILLED"
        calls = [(s.method, s.path, s.status) for s in log.sent[sent:]]
        assert ("POST", "/api/v3/order", 400) in calls  # -1021, before the matching engine
        start = calls.index(("POST", "/api/v3/order", 400))
        assert calls[start:] == [
            ("POST", "/api/v3/order", 400),
            ("GET", "/api/v3/time", 200),
            ("POST", "/api/v3/order", 200),
        ]
        assert abs(await _offset(engine) - before - skew_ms) < 500
        oracle = await sim.admin.oracle(account.account_id)
        assert [o["clientOrderId"] for o in oracle["orders"]] == [result.data["client_order_id"]]
        assert (await engine.snapshot())["trading_state"] == "ACTIVE"
        await assert_invariants(engine, sim, account)


async def test_a11_a_repeated_rejected_timestamp_halts_new_orders_with_clock_skew(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path, log=log)) as engine:
        await sim.admin.add_fault(
            "error_code",
            method="POST",
            path="/api/v3/order",
            code=-1021,
            status=400,
            msg="Timestamp for this request is outside of the recvWindow.",
            count=2,
        )
        sent = len(log.sent)
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.VENUE
        assert result.data["order"]["state"] == "REJECTED"
        posts = [s for s in log.sent[sent:] if s.method == "POST"]
        assert len(posts) == 2  # one retry, never more
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "HALTED"
        assert snapshot["halt_reason"].startswith("clock skew: the exchange refused")
        again = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert again.outcome is Outcome.REFUSED
        assert again.message.startswith("trading is HALTED: clock skew")
        await assert_invariants(engine, sim, account)
        assert (await sim.admin.oracle(account.account_id))["orders"] == []


async def test_r10_the_server_time_offset_is_resynced_periodically(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    log = RequestLog()
    account = await new_account(sim, {"USDT": "10000"})
    engine = engine_on(sim, account, tmp_path, log=log, clock_sync_interval_s=0.1)
    async with started(engine):
        before = await _offset(engine)
        await sim.admin.skew_clock(2000)  # drift the exchange stays within recvWindow of
        for _ in range(100):  # bounded: a sync every 0.1 s
            if abs(await _offset(engine) - before - 2000) < 500:
                break
            await asyncio.sleep(0.05)
        assert abs(await _offset(engine) - before - 2000) < 500
        assert not any(s.status == 400 for s in log.sent)  # no -1021 was needed to notice
        await assert_invariants(engine, sim, account)
