"""Catalogue E5 (maintenance) and E9 (rules changing at runtime) through the real client and the
embedded exchange: a run of 5xx or a -1016 pauses new orders, the engine probes with backoff and
resumes only once the exchange answers and a reconciliation ran clean; a symbol in BREAK takes
no orders until it trades again; a -1013 refreshes the rules and local validation uses them.
Each test ends with the invariants.
Symbol statuses go through the exchange's admin knob (`/_sim/symbol_status`, which can also
expire the symbol's open orders as a maintenance may); the exchange has no knob for filters, so
the E9 test changes its symbol table in process (the objects its REST answers are built from)."""

from __future__ import annotations

import dataclasses
import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import new_account, order_in, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, ETH, engine_on, next_event, seq_now

from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer


async def _maintenance(engine: Engine) -> dict[str, Any]:
    return dict((await engine.snapshot())["maintenance"])


async def test_e5_a_run_of_5xx_pauses_new_orders_until_the_exchange_answers_and_reconciles(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        since = await seq_now(engine)
        await sim.admin.add_fault("http_5xx", status=503)  # every REST request, until cleared
        for _ in range(3):
            result = await engine.command(CommandName.RECONCILE, {})
            assert result.outcome is Outcome.VENUE
        paused = await _maintenance(engine)
        assert paused["active"] is True
        assert paused["reason"].startswith(
            "the exchange answered 3 requests in a row with a server error (last: Unknown http=503"
        )
        alarm = await next_event(engine, since, "EngineAlarm", kind="maintenance")
        assert alarm["message"].endswith("no new orders until it trades again")
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert refused.outcome is Outcome.REFUSED
        assert refused.message.startswith("the exchange is in maintenance: the exchange answered")
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "ACTIVE"  # a pause, not a halt ...
        assert snapshot["circuit_breaker"]["state"] == "CLOSED"  # ... the breaker stays out
        await sim.admin.clear_faults()
        resumed = await next_event(
            engine, since, "ReconcileFinished", trigger="the exchange answers again"
        )
        assert resumed["clean"] is True
        assert (await _maintenance(engine))["active"] is False
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        await assert_invariants(engine, sim, account)


async def test_e5_service_unavailable_pauses_at_once_and_probes_with_backoff(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        since = await seq_now(engine)
        unavailable = {"kind": "error_code", "code": -1016, "status": 503}
        await sim.admin.add_fault(**unavailable, method="GET", path="/api/v3/account", count=1)
        await sim.admin.add_fault(**unavailable, method="GET", path="/api/v3/exchangeInfo")
        assert (await engine.command(CommandName.RECONCILE, {})).outcome is Outcome.VENUE
        paused = await _maintenance(engine)
        assert paused["reason"].startswith("the exchange says its service is unavailable (-1016)")
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert refused.message.startswith("the exchange is in maintenance")
        probes = (await sim.admin.faults())["rules"][0]["remaining"]
        assert probes is None  # the probe keeps asking while the exchange refuses
        await sim.admin.clear_faults()
        resumed = await next_event(
            engine, since, "ReconcileFinished", trigger="the exchange answers again"
        )
        assert resumed["clean"] is True
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        await assert_invariants(engine, sim, account)


async def test_e5_a_symbol_in_break_takes_no_orders_until_it_trades_again(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    engine = engine_on(sim, account, tmp_path, rules_refresh_interval_s=0.1)
    async with started(engine):
        since = await seq_now(engine)
        await sim.admin.symbol_status(ETH, "BREAK")
        alarm = await next_event(engine, since, "EngineAlarm", kind="maintenance")
        assert alarm["message"] == (
            "ETHUSDT is BREAK at the exchange: no new orders for it until it trades again"
        )
        assert (await _maintenance(engine))["paused_symbols"] == {ETH: "BREAK"}
        refused = await submit(engine, symbol=ETH, side="buy", type="market", quantity="0.01")
        assert refused.outcome is Outcome.REFUSED
        assert refused.message == "refused before sending: STATUS: ETHUSDT is BREAK, not TRADING"
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message  # the others trade on
        await sim.admin.symbol_status(ETH, "TRADING")
        resumed = await next_event(engine, since, "ReconcileFinished", trigger="ETHUSDT trading")
        assert resumed["clean"] is True
        assert (await _maintenance(engine))["paused_symbols"] == {}
        eth = await submit(engine, symbol=ETH, side="buy", type="market", quantity="0.01")
        assert eth.outcome is Outcome.OK, eth.message
        await assert_invariants(engine, sim, account)


async def test_e5_orders_the_exchange_expires_in_a_maintenance_are_booked_expired(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "ETH": "1"})
    engine = engine_on(sim, account, tmp_path, rules_refresh_interval_s=0.1)
    async with started(engine):
        buy = await submit(
            engine, symbol=ETH, side="buy", type="limit", quantity="0.01", price="3000"
        )
        sell = await submit(
            engine, symbol=ETH, side="sell", type="limit", quantity="0.5", price="5000"
        )
        assert (buy.outcome, sell.outcome) == (Outcome.OK, Outcome.OK), (buy, sell)
        since = await seq_now(engine)
        expired = await sim.admin.symbol_status(ETH, "HALT", expire_open=True)
        assert expired["expired"] == 2
        first = await next_event(engine, since, "OrderExpired")
        second = await next_event(engine, first["seq"], "OrderExpired")
        assert [(e["order"]["client_order_id"], e["order"]["state"]) for e in (first, second)] == [
            (buy.data["client_order_id"], "EXPIRED"),
            (sell.data["client_order_id"], "EXPIRED"),
        ]
        await next_event(engine, since, "EngineAlarm", kind="maintenance")
        snapshot = await engine.snapshot()
        assert [o for o in snapshot["orders"]["open"] if o["symbol"] == ETH] == []
        for placed in (buy, sell):
            booked = order_in(snapshot, placed.data["client_order_id"])
            assert booked is not None and booked["state"] == "EXPIRED"
        eth = next(b for b in snapshot["balances"] if b["asset"] == "ETH")
        assert (eth["free"], eth["locked"]) == ("1.00000000", "0.00000000")
        refused = await submit(engine, symbol=ETH, side="buy", type="market", quantity="0.01")
        assert refused.outcome is Outcome.REFUSED
        await sim.admin.symbol_status(ETH, "TRADING")
        resumed = await next_event(engine, since, "ReconcileFinished", trigger="ETHUSDT trading")
        assert resumed["clean"] is True
        await assert_invariants(engine, sim, account)


async def test_e9_a_filter_failure_refreshes_the_rules_and_local_checks_use_them(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "20000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        resting = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000.25"
        )
        assert resting.outcome is Outcome.OK, resting.message
        specs = sim.exchange._v.specs
        specs[BTC] = dataclasses.replace(specs[BTC], tick_size=Decimal(1))  # at runtime
        since = await seq_now(engine)
        refused = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000.5"
        )
        assert refused.outcome is Outcome.VENUE
        assert refused.data["order"]["state"] == "REJECTED"
        assert "-1013" in refused.message
        changed = await next_event(engine, since, "EngineAlarm", kind="rules")
        assert changed["message"] == (
            "BTCUSDT's filters changed at the exchange (tick size 0.01 -> 1); new orders are "
            "checked against the new ones"
        )
        assert _tick(await engine.snapshot(), BTC) == Decimal(1)
        # The same order is now rounded toward safety by the local check, and accepted.
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000.5"
        )
        assert placed.outcome is Outcome.OK, placed.message
        assert (placed.data["price"], placed.data["adjusted"]) == ("90000", ["price"])
        # The order resting before the change was not touched.
        order = order_in(await engine.snapshot(), str(resting.data["client_order_id"]))
        assert order is not None and (order["state"], order["price"]) == ("NEW", "90000.25")
        await assert_invariants(engine, sim, account)


def _tick(snapshot: dict[str, Any], symbol: str) -> Decimal | None:
    for row in snapshot["symbols"]:
        if row["symbol"] == symbol:
            return Decimal(row["tick_size"])
    return None
