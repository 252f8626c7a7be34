"""The engine's subcommands in a subprocess against a control server with a fake engine:
output and exit code for success, usage errors, refusals, venue errors and unknown outcomes."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cli_testkit import Ran, cli_env, run_cli
from control_testkit import FakeEngine, short_directory

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.control_paths import InstancePaths
from engine.service.control_server import ControlServer

DECIMAL_ERROR = (
    "must be a plain positive decimal such as 0.05 "
    "(digits and at most one dot; no sign, exponent or separators)"
)


@dataclass
class Desk:
    base: pathlib.Path
    data_dir: pathlib.Path
    engine: FakeEngine
    paths: InstancePaths

    async def run(self, *args: str, stdin: bytes | None = None, **env: str) -> Ran:
        return await run_cli(*args, env=cli_env(self.data_dir, **env), cwd=self.base, stdin=stdin)


@pytest.fixture
def base() -> Iterator[pathlib.Path]:
    with short_directory() as path:
        yield path


@pytest.fixture
async def desk(base: pathlib.Path) -> AsyncIterator[Desk]:
    data_dir = base / "data"
    paths = InstancePaths.of(data_dir, "sim", "default")
    paths.prepare()
    engine = FakeEngine()
    engine.snapshot_body = SNAPSHOT
    server = ControlServer(engine, paths.socket, identity={"mode": "sim", "account": "default"})
    await server.start()
    yield Desk(base, data_dir, engine, paths)
    await server.stop()


SNAPSHOT = {
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
        },
        {
            "symbol": "ETHUSDT",
            "base_asset": "ETH",
            "quote_asset": "USDT",
            "status": "BREAK",
            "tick_size": "0.01",
            "step_size": "0.001",
            "min_qty": "0.001",
            "min_notional": "5",
        },
    ],
    "marks": [{"symbol": "BTCUSDT", "bid": "100.00", "ask": "100.10", "last": "100.05"}],
}


def accept(name: CommandName, args: dict[str, Any]) -> CommandResult:
    return CommandResult(Outcome.OK, "order sd-1-7 accepted (NEW)", {"client_order_id": "sd-1-7"})


async def test_halt_and_arm_succeed(desk: Desk) -> None:
    halted = await desk.run("halt", "--reason", "lunch break")
    armed = await desk.run("arm", "--reason", "  back  ")
    assert halted == Ran(0, "Halt done\n", "")
    assert armed == Ran(0, "Arm done\n", "")
    assert desk.engine.commands == [
        (CommandName.HALT, {"reason": "lunch break"}),
        (CommandName.ARM, {"reason": "back"}),
    ]


async def test_missing_reason_is_a_usage_error(desk: Desk) -> None:
    ran = await desk.run("arm")
    assert ran.code == 2
    assert ran.err.splitlines()[-1] == (
        "spotdesk arm: error: the following arguments are required: --reason"
    )
    assert desk.engine.commands == []


@pytest.mark.parametrize("qty", ["1e3", "-0.5", "nan", "1,000", "0x10", "Infinity", "1_0"])
async def test_malformed_quantities_are_refused_without_echo(desk: Desk, qty: str) -> None:
    ran = await desk.run("order", "buy", "BTCUSDT", qty, "--yes")
    assert ran.code == 2
    assert ran.err.splitlines()[-1] == f"spotdesk order: error: argument QTY: {DECIMAL_ERROR}"
    assert qty not in ran.err
    assert desk.engine.commands == []


async def test_zero_price_and_clashing_options_are_usage_errors(desk: Desk) -> None:
    zero = await desk.run("order", "buy", "BTCUSDT", "1", "--price", "0.000", "--yes")
    no_price = await desk.run("order", "buy", "BTCUSDT", "1", "--type", "limit", "--yes")
    both = await desk.run("order", "sell", "BTCUSDT", "1", "--quote-qty", "5", "--yes")
    quote_limit = await desk.run(
        "order", "buy", "BTCUSDT", "--quote-qty", "5", "--price", "3", "--yes"
    )
    bad_symbol = await desk.run("order", "buy", "BTC/USDT", "1", "--yes")
    last = [r.err.splitlines()[-1] for r in (zero, no_price, both, quote_limit, bad_symbol)]
    assert last == [
        "spotdesk order: error: argument --price: must be greater than zero",
        "spotdesk order: error: a limit order needs --price",
        "spotdesk order: error: give QTY or --quote-qty (one of them)",
        "spotdesk order: error: --quote-qty goes with market orders only",
        "spotdesk order: error: argument SYMBOL: must be 2-20 letters or digits, such as BTCUSDT",
    ]
    assert {r.code for r in (zero, no_price, both, quote_limit, bad_symbol)} == {2}
    assert desk.engine.commands == []


async def test_order_without_yes_and_without_terminal_is_refused(desk: Desk) -> None:
    ran = await desk.run("order", "buy", "BTCUSDT", "0.5", stdin=b"BUY\n")
    assert ran == Ran(
        2, "", "spotdesk: refusing to send an order unconfirmed: no terminal to ask on; add --yes\n"
    )
    assert desk.engine.commands == []


async def test_order_previews_then_sends_the_rounded_values(desk: Desk) -> None:
    desk.engine.responder = accept
    ran = await desk.run("order", "buy", "btcusdt", "0.012345", "--price", "100.129", "--yes")
    assert ran == Ran(
        0,
        "Order preview: SIM, account default\n"
        "  side      BUY: buy BTC, pay USDT\n"
        "  symbol    BTCUSDT\n"
        "  type      LIMIT, GTC\n"
        "  quantity  0.0123 BTC (asked 0.012345, step 0.0001)\n"
        "  price     100.12 USDT (asked 100.129, tick 0.01)\n"
        "  notional  1.231476 USDT\n"
        "order sd-1-7 accepted (NEW)\n",
        "",
    )
    sent = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "limit",
        "quantity": "0.0123",
        "price": "100.12",
        "time_in_force": "GTC",
    }
    # The engine's preview first (dry run), then the order with the operator's yes.
    assert desk.engine.commands == [
        (CommandName.SUBMIT_ORDER, {**sent, "dry_run": True}),
        (CommandName.SUBMIT_ORDER, {**sent, "confirmed": True}),
    ]


async def test_sell_price_rounds_up_and_market_orders_use_the_mark(desk: Desk) -> None:
    desk.engine.responder = accept
    maker = await desk.run(
        "order", "sell", "BTCUSDT", "1", "--type", "limit-maker", "--price", "100.121", "--yes"
    )
    market = await desk.run("order", "sell", "BTCUSDT", "0.5", "--yes")
    by_quote = await desk.run("order", "buy", "BTCUSDT", "--quote-qty", "25.5", "--yes")
    assert maker.out.splitlines()[1:7] == [
        "  side      SELL: sell BTC, get USDT",
        "  symbol    BTCUSDT",
        "  type      LIMIT_MAKER",
        "  quantity  1.0000 BTC",
        "  price     100.13 USDT (asked 100.121, tick 0.01)",
        "  notional  100.13 USDT",
    ]
    assert market.out.splitlines()[4:7] == [
        "  quantity  0.5000 BTC",
        "  price     market (mark 100.05)",
        "  notional  about 50.025 USDT at the mark",
    ]
    assert by_quote.out.splitlines()[4:7] == [
        "  quantity  for 25.5 USDT",
        "  price     market (mark 100.05)",
        "  notional  25.5 USDT",
    ]
    sent = [args for _name, args in desk.engine.commands if args.get("confirmed")]
    assert sent == [
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "limit_maker",
            "quantity": "1.0000",
            "price": "100.13",
            "confirmed": True,
        },
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "market",
            "quantity": "0.5000",
            "confirmed": True,
        },
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "market",
            "quote_quantity": "25.5",
            "confirmed": True,
        },
    ]
    assert len(desk.engine.commands) == 6  # each preceded by its dry run


async def test_preview_refusals_send_nothing(desk: Desk) -> None:
    dust = await desk.run("order", "buy", "BTCUSDT", "0.00009", "--yes")
    unknown = await desk.run("order", "buy", "DOGEUSDT", "1", "--yes")
    closed = await desk.run("order", "buy", "ETHUSDT", "1", "--yes")
    assert dust == Ran(
        3, "", "spotdesk: refused: the quantity rounds down to 0 at BTCUSDT's step 0.0001\n"
    )
    assert unknown == Ran(
        2, "", "spotdesk: usage: unknown symbol DOGEUSDT; the engine knows: BTCUSDT, ETHUSDT\n"
    )
    assert closed == Ran(3, "", "spotdesk: refused: ETHUSDT is BREAK, not TRADING\n")
    assert desk.engine.commands == []


@pytest.mark.parametrize(
    ("outcome", "code"),
    [(Outcome.REFUSED, 3), (Outcome.VENUE, 4), (Outcome.UNKNOWN, 5), (Outcome.USAGE, 2)],
)
async def test_each_outcome_has_its_exit_code(desk: Desk, outcome: Outcome, code: int) -> None:
    desk.engine.responder = lambda name, args: CommandResult(outcome, "what the engine said")
    ran = await desk.run("order", "buy", "BTCUSDT", "1", "--yes")
    assert ran.code == code
    assert ran.err == f"spotdesk: {outcome.value}: what the engine said\n"
    assert len(desk.engine.commands) == 1


async def test_cancel_forms(desk: Desk) -> None:
    one = await desk.run("cancel", "sd-1-7")
    every = await desk.run("cancel", "--all", "--symbol", "ethusdt")
    everything = await desk.run("cancel", "--all")
    both = await desk.run("cancel", "sd-1-7", "--all")
    neither = await desk.run("cancel")
    bad_id = await desk.run("cancel", "no spaces!")
    assert [r.code for r in (one, every, everything, both, neither, bad_id)] == [0, 0, 0, 2, 2, 2]
    assert (
        both.err.splitlines()[-1] == "spotdesk cancel: error: give either CLIENT_ORDER_ID or --all"
    )
    assert bad_id.err.splitlines()[-1] == (
        "spotdesk cancel: error: CLIENT_ORDER_ID must be 1-36 characters of letters, digits, "
        "_ and -"
    )
    assert desk.engine.commands == [
        (CommandName.CANCEL_ORDER, {"client_order_id": "sd-1-7"}),
        (CommandName.CANCEL_ALL_ORDERS, {"symbol": "ETHUSDT"}),
        (CommandName.CANCEL_ALL_ORDERS, {"symbol": None}),
    ]


async def test_close_needs_confirmation(desk: Desk) -> None:
    unconfirmed = await desk.run("close", "BTCUSDT")
    confirmed = await desk.run("close", "BTCUSDT", "--yes")
    assert unconfirmed == Ran(
        2, "", "spotdesk: close sells at market: confirm on a terminal, or add --yes\n"
    )
    assert confirmed == Ran(0, "ClosePosition done\n", "")
    assert desk.engine.commands == [(CommandName.CLOSE_POSITION, {"symbol": "BTCUSDT"})]


async def test_engine_status_reports_the_running_engine(desk: Desk) -> None:
    ran = await desk.run("engine", "status")
    assert ran == Ran(
        0,
        f"spotdesk engine: running, pid {os.getpid()}, mode sim, account default\n"
        f"  socket  {desk.paths.socket}\n"
        "  log     None\n",
        "",
    )


async def test_without_an_engine_commands_say_how_to_start_one(base: pathlib.Path) -> None:
    env = cli_env(base / "nowhere")
    halted = await run_cli("halt", "--reason", "x", env=env, cwd=base)
    status = await run_cli("engine", "status", env=env, cwd=base)
    stop = await run_cli("engine", "stop", env=env, cwd=base)
    socket = base / "nowhere" / "sim-default" / "engine.sock"
    assert halted.code == 4
    assert halted.err.startswith(f"spotdesk: no engine is running: nothing answers on {socket}")
    assert halted.err.endswith("Start one with: spotdesk engine start\n")
    assert status == Ran(
        4,
        f"spotdesk engine: not running (no answer on {socket})\n"
        "  start it with: spotdesk engine start\n",
        "",
    )
    assert stop == Ran(0, f"spotdesk engine: not running ({socket})\n", "")


async def test_bad_configuration_is_a_usage_error(base: pathlib.Path) -> None:
    env = cli_env(base / "data", SPOTDESK_MODE="papertrade")
    ran = await run_cli("engine", "status", env=env, cwd=base)
    assert ran.code == 2
    assert ran.err == (
        "spotdesk: configuration error: SPOTDESK_MODE: Input should be 'sim', 'testnet' or 'live'\n"
    )


async def test_help_documents_the_exit_codes(base: pathlib.Path) -> None:
    ran = await run_cli("order", "--help", env=cli_env(base), cwd=base)
    assert ran.code == 0
    assert "exit codes:\n  0  ok\n  2  usage" in ran.out
    assert "  5  outcome unknown" in ran.out


async def test_stop_falls_back_to_sigterm_when_stop_engine_is_refused(base: pathlib.Path) -> None:
    data_dir = base / "data"
    paths = InstancePaths.of(data_dir, "sim", "default")
    paths.prepare()
    script = (
        "import asyncio, pathlib, sys; from control_testkit import serve_stubborn_engine; "
        "asyncio.run(serve_stubborn_engine(pathlib.Path(sys.argv[1])))"
    )
    here = pathlib.Path(__file__).parent
    stubborn = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        str(paths.socket),
        cwd=here,
        stdout=asyncio.subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    assert await stubborn.stdout.readline() == b"ready\n"
    ran = await run_cli("engine", "stop", env=cli_env(data_dir), cwd=base)
    assert await stubborn.wait() == 0
    assert ran == Ran(0, f"spotdesk engine: stopped (pid {stubborn.pid}, by SIGTERM)\n", "")


async def test_live_mode_needs_the_flag_and_a_typed_confirmation(base: pathlib.Path) -> None:
    env = cli_env(base / "data", SPOTDESK_MODE="live")
    bare = await run_cli("engine", "start", env=env, cwd=base)
    flagged = await run_cli("engine", "start", "--live", env=env, cwd=base, stdin=b"LIVE\n")
    run = await run_cli("engine", "run", env=env, cwd=base)
    assert bare == Ran(
        3, "", "spotdesk: LIVE mode trades real money: add --live to start the engine in it\n"
    )
    assert flagged == Ran(
        3,
        "",
        "spotdesk: LIVE mode needs a typed confirmation, and there is no terminal to ask on\n",
    )
    assert run == bare
    assert not (base / "data").exists()


async def test_status_for_a_person_and_as_json(desk: Desk) -> None:
    desk.engine.snapshot_body = {
        "schema": 1,
        "mode": "sim",
        "account": "default",
        "trading_state": "HALTED",
        "halt_reason": "lunch",
        "reconciled": True,
        "health": {
            "rest": {"state": "OK"},
            "user_stream": {"state": "CONNECTED"},
            "market": {"state": "DOWN"},
            "journal": {"state": "OK"},
        },
        "balances": [
            {"asset": "BTC", "free": "0.50000000", "locked": "0E-8", "total": "0.50000000"},
            {"asset": "ETH", "free": "0E-8", "locked": "0E-8", "total": "0E-8"},
            {"asset": "USDT", "free": "9000.5", "locked": "400", "total": "9400.5"},
        ],
        "positions": [
            {
                "symbol": "BTCUSDT",
                "qty": "0.5",
                "avg_entry": "40000",
                "mark": "50000",
                "unrealized_pnl": "5000",
                "realized_pnl": "0",
            },
            {
                "symbol": "ETHUSDT",
                "qty": "0",
                "avg_entry": None,
                "mark": None,
                "unrealized_pnl": None,
                "realized_pnl": "3.5",
            },
        ],
        "orders": {
            "open": [
                {
                    "client_order_id": "sd-abc-1",
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "qty": "0.01",
                    "price": "40000",
                    "cum_qty": "0",
                    "state": "NEW",
                    "cancel_requested": True,
                },
            ],
            "recent": [],
        },
        "watch_list": [],
    }
    desk.engine.emit(4)
    human = await desk.run("status")
    as_json = await desk.run("status", "--json")
    assert human == Ran(
        0,
        "spotdesk SIM, account default: trading HALTED, event seq 4\n"
        "  halted: lunch\n"
        "  health: rest OK, user stream CONNECTED, market DOWN, journal OK\n"
        "balances:\n"
        "  ASSET  FREE        LOCKED      TOTAL\n"
        "  BTC    0.50000000  0.00000000  0.50000000\n"
        "  USDT   9000.5      400         9400.5\n"
        "positions:\n"
        "  SYMBOL   QTY  AVG ENTRY  MARK   UNREALIZED  REALIZED\n"
        "  BTCUSDT  0.5  40000      50000  5000        0\n"
        "open orders:\n"
        "  CLIENT ORDER ID  SYMBOL   SIDE  TYPE   QTY   PRICE  FILLED  STATE\n"
        "  sd-abc-1         BTCUSDT  BUY   LIMIT  0.01  40000  0       NEW (cancel requested)\n",
        "",
    )
    assert as_json.code == 0
    assert json.loads(as_json.out) == {**desk.engine.snapshot_body, "seq": 4}
