"""The engine runs the preflight at start, stays HALTED while a check fails, re-runs the failing
checks on arm, all of them periodically, and shows them (and accepted key risks) in its snapshot."""

from __future__ import annotations

import pathlib
from typing import Any

from engine_testkit import QUICK_STREAM, SimAccount, settings_for, started, until

from engine.preflight.settings import KeyRisk, PreflightSettings
from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine, make_engine
from engine.sim.runner import SimServer
from engine.venue.binance import VenueOptions

NO_TRADING = (
    "preflight: key_permissions: the key may not read and trade spot (enableReading, "
    "enableSpotAndMarginTrading)"
)


async def _account(sim: SimServer, **permissions: bool) -> SimAccount:
    account_id = await sim.admin.create_account({"USDT": "1000"}, name="preflight")
    key = await sim.admin.register_key(account_id, permissions=permissions)
    return SimAccount(account_id, key["apiKey"], key["secret"])


def _engine(sim: SimServer, account: SimAccount, base: pathlib.Path, **preflight: Any) -> Engine:
    settings = settings_for(sim, account, base / "data").model_copy(
        update={"preflight": PreflightSettings(**preflight)}
    )
    return make_engine(
        settings,
        seed=3,
        venue_options=VenueOptions(request_timeout_s=3.0, close_timeout_s=2.0),
        symbols=("BTCUSDT",),
        reconcile_interval_s=None,
        user_stream=QUICK_STREAM,
        market_data=False,
    )


async def _set_trading(sim: SimServer, account: SimAccount, allowed: bool) -> None:
    await sim.admin.call(
        "POST",
        "key_permissions",
        {"apiKey": account.api_key, "permissions": {"enableSpotAndMarginTrading": allowed}},
    )


async def test_a_failing_check_keeps_the_engine_halted_until_it_passes_on_arm(
    sim: SimServer, workdir: pathlib.Path
) -> None:
    account = await _account(sim, enableSpotAndMarginTrading=False)
    async with started(_engine(sim, account, workdir, interval_s=0)) as engine:
        halted = await engine.snapshot()
        refused = await engine.command(CommandName.ARM, {"reason": "try"})
        await _set_trading(sim, account, True)
        armed = await engine.command(CommandName.ARM, {"reason": "key fixed"})
        after = await engine.snapshot()
    assert (halted["trading_state"], halted["halt_reason"]) == ("HALTED", NO_TRADING)
    preflight = halted["preflight"]
    assert (preflight["passed"], preflight["accepted_key_risks"], preflight["rerun"]) == (
        False,
        [],
        {"on_arm": True, "interval_s": None},
    )
    assert {c["name"]: c["verdict"] for c in preflight["checks"]} == {
        "files": "ok",
        "journal": "ok",
        "keys": "ok",
        "key_permissions": "fail",
        "clock": "ok",
        "symbols": "ok",
        "user_stream": "ok",
    }
    assert halted["live"]["state"] == "not_required"
    assert (refused.outcome, refused.message) == (Outcome.REFUSED, f"cannot arm: {NO_TRADING}")
    assert armed.outcome is Outcome.OK, armed.message
    assert (after["trading_state"], after["preflight"]["passed"]) == ("ACTIVE", True)
    checks = {c["name"]: (c["verdict"], c["reason"]) for c in after["preflight"]["checks"]}
    assert checks["key_permissions"] == (
        "warn",
        "no_ip_restriction (LIVE would refuse this key)",
    )


async def test_the_periodic_run_halts_trading_when_a_check_starts_failing(
    sim: SimServer, workdir: pathlib.Path
) -> None:
    account = await _account(sim, ipRestrict=True, enableMargin=True)
    engine = _engine(sim, account, workdir, interval_s=0.2, accept_key_risks={KeyRisk.MARGIN})
    async with started(engine):
        first = await engine.snapshot()
        await _set_trading(sim, account, False)

        async def halted() -> bool:
            return engine.parts.gate.halt_reason is not None

        await until(engine, halted)
        last = await engine.snapshot()
    assert (first["trading_state"], first["preflight"]["passed"]) == ("ACTIVE", True)
    assert first["preflight"]["accepted_key_risks"] == ["margin"]
    assert {c["name"]: c["reason"] for c in first["preflight"]["checks"]}["key_permissions"] == (
        "accepted by SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS: margin"
    )
    assert (last["trading_state"], last["halt_reason"]) == ("HALTED", NO_TRADING)
    assert last["preflight"]["rerun"] == {"on_arm": True, "interval_s": 0.2}
