"""The client interface: cancel-all, reconcile on demand, stream health gating new orders, the
in-process client, and a snapshot and event stream that are JSON all the way through."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime

from engine_testkit import (
    assert_matches_oracle,
    engine_for,
    event_seen,
    new_account,
    started,
    submit,
)

from engine.service.api import CommandName, EngineClient, Outcome
from engine.service.inprocess import InProcessClient
from engine.sim.runner import SimServer
from engine.venue.health import StreamHealth, StreamStatus

BTC = "BTCUSDT"
ETH = "ETHUSDT"

SNAPSHOT_KEYS = {
    "schema", "seq", "mode", "account", "trading_state", "halt_reason", "reconciled",
    "reconcile", "health", "clock_offset_ms", "rate_budget", "balances", "positions", "orders",
    "watch_list", "marks", "symbols", "risk", "circuit_breaker", "maintenance", "housekeeping",
    "preflight", "live",
}  # fmt: skip


async def test_cancel_all_cancels_every_open_order(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        for symbol, price in ((BTC, "80000"), (BTC, "81000"), (ETH, "3000")):
            placed = await submit(
                engine, symbol=symbol, side="buy", type="limit", quantity="0.01", price=price
            )
            assert placed.outcome is Outcome.OK, placed.message
        only_eth = await engine.command(CommandName.CANCEL_ALL_ORDERS, {"symbol": ETH})
        assert (only_eth.outcome, only_eth.message) == (Outcome.OK, "1 order(s) canceled")
        every = await engine.command(CommandName.CANCEL_ALL_ORDERS, {})
        assert (every.outcome, every.message) == (Outcome.OK, "2 order(s) canceled")
        nothing = await engine.command(CommandName.CANCEL_ALL_ORDERS, {})
        assert (nothing.outcome, nothing.message) == (Outcome.OK, "no open orders")
        assert (await engine.snapshot())["orders"]["open"] == []
        oracle = await sim.admin.oracle(account.account_id)
        assert sorted(o["status"] for o in oracle["orders"]) == ["CANCELED"] * 3
        await assert_matches_oracle(engine, sim, account)


async def test_reconcile_on_demand(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        await submit(engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="80000")
        result = await engine.command(CommandName.RECONCILE, {})
        assert result.outcome is Outcome.OK
        assert result.message.startswith("1 open order(s), 0 queried, 0 trade(s) folded in")
        assert result.data == {"clean": True}


async def test_a_user_stream_that_is_not_connected_blocks_new_orders(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        now = datetime.now(UTC)
        engine._on_stream_status(StreamStatus("user", StreamHealth.DEGRADED, "stall", now, now))
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert (refused.outcome, refused.message) == (
            Outcome.REFUSED,
            "the user stream is DEGRADED: stall",
        )
        snapshot = await engine.snapshot()
        assert snapshot["reconciled"] is True  # the gate, not reconciliation, holds it
        engine._on_stream_status(StreamStatus("user", StreamHealth.CONNECTED, "ok", now, now))
        placed = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert placed.outcome is Outcome.OK, placed.message
        assert len((await sim.admin.oracle(account.account_id))["orders"]) == 1


async def test_the_in_process_client_speaks_json(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000", "ETH": "1"})
    engine = engine_for(sim, account, tmp_path, market_data=True)
    await engine.start()
    client: EngineClient = InProcessClient(engine, owns_engine=True)
    try:
        result = await client.command(
            CommandName.SUBMIT_ORDER,
            {"symbol": BTC, "side": "buy", "type": "limit", "quantity": "0.01", "price": "80000"},
        )
        assert result.outcome is Outcome.OK
        assert json.loads(json.dumps(result.to_json())) == result.to_json()
        snapshot = await client.snapshot()
        assert set(snapshot) == SNAPSHOT_KEYS
        assert json.loads(json.dumps(snapshot)) == snapshot
        assert snapshot["schema"] == 1 and snapshot["mode"] == "sim"
        assert snapshot["health"]["user_stream"]["state"] == "CONNECTED"
        events = []
        async for event in client.events(0):
            events.append(event)
            if event["seq"] == snapshot["seq"]:
                break
        assert [e["seq"] for e in events] == list(range(1, snapshot["seq"] + 1))
        assert json.loads(json.dumps(events)) == events
        assert {"OrderSubmitted", "OrderAccepted", "PositionChanged"} <= {
            e["event"] for e in events
        }
    finally:
        await client.close()
    assert engine.stopped.is_set()
    refused = await client.command(CommandName.HALT, {"reason": "late"})
    assert refused.outcome is Outcome.REFUSED


async def test_malformed_events_and_unknown_commands_are_answered_not_fatal(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "100"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        since = (await engine.snapshot())["seq"]
        engine._on_user_event({"e": "executionReport", "s": "BTCUSDT", "X": "NEW"})
        alarm = await event_seen(engine, lambda e: e["event"] == "EngineAlarm", since)
        assert alarm["alarm"] is True and alarm["kind"] == "malformed_event"
        unknown = await engine.command("Teleport", {})  # type: ignore[arg-type]
        assert (unknown.outcome, unknown.message) == (Outcome.USAGE, "unknown command 'Teleport'")
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "ACTIVE"
