"""The circuit breaker through the real client and the embedded exchange: N venue failures in a
row halt trading with the reason; it closes by the operator's arm, or by itself after a cooldown
when so configured, never over an operator's own halt. Each test ends with the invariants."""

from __future__ import annotations

import asyncio
import pathlib

from engine_testkit import new_account, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, engine_on, next_event, seq_now

from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.service.settings import BreakerSettings
from engine.sim.runner import SimServer


async def _failing_reconciles(engine: Engine, sim: SimServer, times: int) -> None:
    """`times` reconciliations whose first call (GET /account) loses its connection."""
    await sim.admin.add_fault("drop", method="GET", path="/api/v3/account", count=times)
    for _ in range(times):
        result = await engine.command(CommandName.RECONCILE, {})
        assert result.outcome is Outcome.VENUE


async def _breaker(engine: Engine) -> dict[str, object]:
    return dict((await engine.snapshot())["circuit_breaker"])


async def test_breaker_opens_after_n_errors_in_a_row_and_only_the_operator_closes_it(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    settings = BreakerSettings(max_consecutive_errors=3)
    async with started(engine_on(sim, account, tmp_path, breaker=settings)) as engine:
        await _failing_reconciles(engine, sim, 2)
        assert (await engine.command(CommandName.RECONCILE, {})).outcome is Outcome.OK
        assert (await _breaker(engine))["consecutive_errors"] == 0  # an answer resets the count
        await _failing_reconciles(engine, sim, 2)
        assert (await engine.snapshot())["trading_state"] == "ACTIVE"
        since = await seq_now(engine)
        await _failing_reconciles(engine, sim, 1)
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "HALTED"
        assert snapshot["halt_reason"].startswith("circuit breaker: 3 venue errors in a row (last:")
        breaker = snapshot["circuit_breaker"]
        assert (breaker["state"], breaker["trips"], breaker["threshold"]) == ("OPEN", 1, 3)
        assert breaker["probe_in_s"] is None  # no auto close: the operator decides
        changed = await next_event(engine, since, "TradingStateChanged", state="HALTED")
        assert changed["reason"] == snapshot["halt_reason"]
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert refused.message.startswith("trading is HALTED: circuit breaker")
        # The exchange answers again: reconciliation runs (R12), the breaker stays open.
        assert (await engine.command(CommandName.RECONCILE, {})).outcome is Outcome.OK
        assert (await _breaker(engine))["state"] == "OPEN"
        armed = await engine.command(CommandName.ARM, {"reason": "exchange is back"})
        assert armed.outcome is Outcome.OK
        assert (await _breaker(engine))["state"] == "CLOSED"
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        await assert_invariants(engine, sim, account)


async def test_breaker_with_auto_close_re_arms_after_the_cooldown_and_a_good_probe(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    settings = BreakerSettings(max_consecutive_errors=2, auto_close=True, cooldown_s=0.3)
    async with started(engine_on(sim, account, tmp_path, breaker=settings)) as engine:
        since = await seq_now(engine)
        await _failing_reconciles(engine, sim, 2)
        assert (await _breaker(engine))["state"] == "OPEN"
        halted = await next_event(engine, since, "TradingStateChanged", state="HALTED")
        probe = await next_event(engine, halted["seq"], "ReconcileFinished", trigger="circuit")
        assert probe["clean"] is True
        armed = await next_event(engine, halted["seq"], "TradingStateChanged", state="ACTIVE")
        assert armed["reason"] == f"{halted['reason']} - closed after the cooldown"
        assert (await _breaker(engine))["state"] == "CLOSED"
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        await assert_invariants(engine, sim, account)


async def test_breaker_auto_close_never_overrides_the_operators_halt(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    settings = BreakerSettings(max_consecutive_errors=2, auto_close=True, cooldown_s=0.2)
    async with started(engine_on(sim, account, tmp_path, breaker=settings)) as engine:
        await _failing_reconciles(engine, sim, 2)
        halted = await engine.command(CommandName.HALT, {"reason": "looking into it"})
        assert halted.outcome is Outcome.OK
        # Nothing is awaited here on purpose: the point is that past the cooldown nothing
        # happens, so the test lets the cooldown pass, then lets the exchange answer.
        await asyncio.sleep(settings.cooldown_s * 2)
        assert (await engine.command(CommandName.RECONCILE, {})).outcome is Outcome.OK
        breaker = await _breaker(engine)
        assert (breaker["state"], breaker["probe_in_s"]) == ("OPEN", None)
        assert (await engine.snapshot())["trading_state"] == "HALTED"
        await engine.command(CommandName.ARM, {"reason": "done"})
        assert (await _breaker(engine))["state"] == "CLOSED"
        await assert_invariants(engine, sim, account)
