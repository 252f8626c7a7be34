"""`spotdesk panic` and the order preview's risk checks, in a subprocess: through a (fake)
engine when one answers, straight over REST against the embedded exchange when none does."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from cli_testkit import Ran, cli_env, run_cli
from control_testkit import FakeEngine, short_directory
from engine_testkit import engine_for, new_account, started, submit

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.control_paths import InstancePaths
from engine.service.control_server import ControlServer
from engine.sim.runner import SimServer

SNAPSHOT: dict[str, Any] = {
    "mode": "sim",
    "account": "default",
    "trading_state": "ACTIVE",
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "base_asset": "BTC",
            "quote_asset": "USDT",
            "status": "TRADING",
            "tick_size": "0.01",
            "step_size": "0.0001",
            "min_qty": "0.0001",
            "min_notional": "5",
        }
    ],
    "marks": [],
}
SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT")


@pytest.fixture
def base() -> Iterator[pathlib.Path]:
    with short_directory() as path:
        yield path


@pytest.fixture
async def fake(base: pathlib.Path) -> AsyncIterator[FakeEngine]:
    paths = InstancePaths.of(base / "data", "sim", "default")
    paths.prepare()
    engine = FakeEngine()
    engine.snapshot_body = SNAPSHOT
    server = ControlServer(engine, paths.socket, identity={"mode": "sim", "account": "default"})
    await server.start()
    yield engine
    await server.stop()


async def test_panic_goes_through_the_engine_when_it_answers(
    base: pathlib.Path, fake: FakeEngine
) -> None:
    fake.results[CommandName.EMERGENCY_STOP] = CommandResult(
        Outcome.VENUE,
        "emergency stop incomplete: 1 order(s) still open on BTCUSDT",
        {"orders_left": {"BTCUSDT": ["sd-x-1"]}, "dust": {"ETHUSDT": "0.00001"}},
    )
    ran = await run_cli("panic", "--yes", "--flatten", env=cli_env(base / "data"), cwd=base)
    assert ran == Ran(
        4,
        "emergency stop through the engine\n"
        "  still open on BTCUSDT: sd-x-1\n"
        "  dust in ETHUSDT: 0.00001 (below the exchange's minimums)\n",
        "spotdesk: venue: emergency stop incomplete: 1 order(s) still open on BTCUSDT\n",
    )
    assert fake.commands == [
        (CommandName.EMERGENCY_STOP, {"flatten": True, "reason": "panic (command line)"})
    ]
    unconfirmed = await run_cli("panic", env=cli_env(base / "data"), cwd=base)
    assert unconfirmed == Ran(
        2, "", "spotdesk: panic cancels every order: confirm on a terminal, or add --yes\n"
    )
    assert len(fake.commands) == 1


async def test_the_order_preview_shows_the_engines_checks_and_a_refusal_sends_nothing(
    base: pathlib.Path, fake: FakeEngine
) -> None:
    risk = {
        "allowed": False,
        "needs_confirmation": False,
        "order": {"symbol": "BTCUSDT", "side": "BUY", "qty": "0.5000", "price": None},
        "checks": [
            {
                "rule": "TRADING_STATE",
                "passed": True,
                "level": "ok",
                "message": "trading is ACTIVE",
            },
            {
                "rule": "ORDER_VALUE",
                "passed": False,
                "level": "breach",
                "message": "order value 50000 USDT is above the maximum 2000 USDT",
            },
        ],
    }
    fake.results[CommandName.SUBMIT_ORDER] = CommandResult(
        Outcome.REFUSED,
        "refused by risk: ORDER_VALUE: order value 50000 USDT is above the maximum 2000 USDT",
        {"risk": risk, "dry_run": True},
    )
    ran = await run_cli(
        "order", "buy", "BTCUSDT", "0.5", "--yes", env=cli_env(base / "data"), cwd=base
    )
    assert ran.code == 3
    assert ran.out.splitlines()[-4:] == [
        "Risk checks (the engine's preview; nothing sent):",
        "  engine    BUY 0.5000 BTCUSDT at market",
        "  ok    trading_state     trading is ACTIVE",
        "  FAIL  order_value       order value 50000 USDT is above the maximum 2000 USDT",
    ]
    assert ran.err == (
        "spotdesk: refused: refused by risk: ORDER_VALUE: order value 50000 USDT is above the "
        "maximum 2000 USDT\n"
    )
    assert fake.commands == [
        (
            CommandName.SUBMIT_ORDER,
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "market",
                "quantity": "0.5000",
                "dry_run": True,
            },
        )
    ]


async def test_panic_without_an_engine_runs_over_rest(sim: SimServer, base: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "20000", "BTC": "0.0123456", "ETH": "0.5"})
    data_dir = base / "data"
    async with started(engine_for(sim, account, data_dir, symbols=SYMBOLS)) as engine:
        for symbol, price, qty in (
            ("BTCUSDT", 85000, "0.0002"),
            ("ETHUSDT", 3200, "0.01"),
            ("BNBUSDT", 600, "0.05"),
            ("SOLUSDT", 160, "0.2"),
        ):
            for i in range(3):
                placed = await submit(
                    engine,
                    symbol=symbol,
                    side="buy",
                    type="limit",
                    quantity=qty,
                    price=str(price - i),
                )
                assert placed.outcome is Outcome.OK, placed.message
    env = cli_env(
        data_dir,
        SPOTDESK_MODE="sim",
        SPOTDESK_SIM_URL=sim.url,
        SPOTDESK_API_KEY=account.api_key,
        SPOTDESK_API_SECRET=account.api_secret,
    )
    ran = await run_cli("panic", "--yes", "--flatten", "--reason", "drill", env=env, cwd=base)
    assert ran.code == 0, ran
    lines = ran.out.splitlines()
    assert lines[0].startswith("no engine answers (")
    assert lines[1:4] == [
        "halt: trading HALTED in the journal (drill)",
        "cancel: 12 open order(s) on BNBUSDT, BTCUSDT, ETHUSDT, SOLUSDT",
        "verify (1): 0 open order(s) left on nothing",
    ]
    assert lines[4] == "flatten: selling BTCUSDT, ETHUSDT"
    assert sorted(lines[5:7]) == [
        "flatten BTCUSDT: 0.01234 FILLED",
        "flatten ETHUSDT: 0.5000 FILLED",
    ]
    assert lines[-1] == "emergency stop done over REST: nothing left"
    oracle = await sim.admin.oracle(account.account_id)
    assert [o for o in oracle["orders"] if o["status"] in ("NEW", "PARTIALLY_FILLED")] == []
    balances = oracle["balances"][str(account.account_id)]
    assert Decimal(balances["BTC"]["free"]) < Decimal("0.00001")
    assert Decimal(balances["ETH"]["free"]) < Decimal("0.0001")
    async with started(engine_for(sim, account, data_dir, symbols=SYMBOLS)) as engine:
        snapshot = await engine.snapshot()
        assert (snapshot["trading_state"], snapshot["halt_reason"]) == ("HALTED", "drill")
