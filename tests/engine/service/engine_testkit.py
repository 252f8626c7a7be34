"""Helpers for the engine's end-to-end tests: accounts on the embedded exchange, an engine on
them, waiting on the event stream instead of sleeping, and the oracle comparison.

Imported by name (this folder is on sys.path under pytest).
"""

from __future__ import annotations

import asyncio
import pathlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

with warnings.catch_warnings():
    # python-binance 1.0.37 imports a name websockets 17 deprecates; the warning is not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import binance  # noqa: F401

from engine.config import Mode, Settings
from engine.risk import RiskLimits
from engine.service.api import CommandName, CommandResult
from engine.service.engine import Engine, make_engine
from engine.sim.core.clock import SkewedClock, SystemClock
from engine.sim.runner import SimServer
from engine.venue.binance import VenueOptions
from engine.venue.supervisor import SupervisorConfig

WAIT_S = 15.0
QUICK_STREAM = SupervisorConfig(
    stall_after_s=30.0,
    connect_timeout_s=5.0,
    exit_timeout_s=2.0,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
)


def minute_aligned_clock() -> SkewedClock:
    """Real time shifted to read 100 ms past a whole minute now, so the sim's fixed rate-limit
    windows do not roll over during a test."""
    real = SystemClock()
    return SkewedClock(real, 60_000 - real.now_ms() % 60_000 + 100)


@asynccontextmanager
async def running_sim(state_path: pathlib.Path | None = None) -> AsyncIterator[SimServer]:
    async with SimServer(
        port=0, seed=7, frozen_market=True, clock=minute_aligned_clock(), state_path=state_path
    ) as sim:
        yield sim


# Risk limits that stay out of the way of tests about something else (the order path, fills,
# restarts): only the checks no limit can loosen (state, filters, balance, no short) apply.
HUGE = Decimal(10) ** 12
WIDE_LIMITS = RiskLimits(
    daily_loss_limit=HUGE,
    max_trades_per_day=10**6,
    max_open_positions=10**6,
    min_order_value=Decimal(0),
    max_order_value=HUGE,
    min_position_value=Decimal(0),
    max_position_value=HUGE,
    max_position_share=Decimal(1),
    max_total_exposure=HUGE,
    max_long_exposure_share=Decimal(1),
    soft_notional_limit=HUGE,
    max_orders_per_minute=10**6,
)
WIDE_RISK_ENV = {
    f"SPOTDESK_RISK__{name.upper()}": str(value)
    for name, value in WIDE_LIMITS.model_dump(exclude_defaults=True).items()
}


@dataclass(frozen=True)
class SimAccount:
    account_id: int
    api_key: str
    api_secret: str


async def new_account(sim: SimServer, balances: dict[str, str]) -> SimAccount:
    """A fresh account on the sim with these balances and an HMAC key."""
    account_id = await sim.admin.create_account(dict(balances), name="test")
    key = await sim.admin.register_key(account_id)
    return SimAccount(account_id, key["apiKey"], key["secret"])


def settings_for(
    sim: SimServer,
    account: SimAccount,
    data_dir: pathlib.Path,
    risk: RiskLimits = WIDE_LIMITS,
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        mode=Mode.SIM,
        data_dir=data_dir,
        sim_url=sim.url,
        api_key=SecretStr(account.api_key),
        api_secret=SecretStr(account.api_secret),
        risk=risk,
    )


def engine_for(
    sim: SimServer,
    account: SimAccount,
    data_dir: pathlib.Path,
    *,
    risk: RiskLimits = WIDE_LIMITS,
    clock: Any = None,
    **options: Any,
) -> Engine:
    """An engine (not started) on `account`, with quick stream bounds, no periodic run and
    `risk` limits (wide unless a test is about them)."""
    defaults: dict[str, Any] = {
        "symbols": ("BTCUSDT", "ETHUSDT", "BNBUSDT"),
        "reconcile_interval_s": None,
        "reconcile_retry_s": 0.2,
        "user_stream": QUICK_STREAM,
        "market_stream": QUICK_STREAM,
        "settle_delays_s": (0.0, 0.1, 0.2, 0.4),
        "market_data": False,
    }
    return make_engine(
        settings_for(sim, account, data_dir, risk),
        clock=clock,
        seed=3,
        venue_options=VenueOptions(request_timeout_s=3.0, close_timeout_s=2.0),
        **{**defaults, **options},
    )


@asynccontextmanager
async def started(engine: Engine) -> AsyncIterator[Engine]:
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


async def until(
    engine: Engine, condition: Callable[[], Awaitable[bool]], timeout_s: float = WAIT_S
) -> None:
    """Wait on the engine's event stream until `condition()` holds (checked after each event)."""

    async def watch() -> None:
        seq = engine.parts.pipeline.hub.last_seq
        if await condition():
            return
        async for _ in engine.events(seq):
            if await condition():
                return

    await asyncio.wait_for(watch(), timeout_s)


async def event_seen(
    engine: Engine, predicate: Callable[[dict[str, Any]], bool], since: int = 0
) -> dict[str, Any]:
    """The first event after `since` that matches."""

    async def find() -> dict[str, Any]:
        async for event in engine.events(since):
            if predicate(event):
                return event
        raise AssertionError("the event stream ended")

    return await asyncio.wait_for(find(), WAIT_S)


async def submit(engine: Engine, **args: Any) -> CommandResult:
    return await engine.command(CommandName.SUBMIT_ORDER, {k: v for k, v in args.items()})


# -- the oracle ------------------------------------------------------------------------------

Balances = dict[str, tuple[Decimal, Decimal]]
Fills = dict[tuple[str, int], tuple[Decimal, Decimal, Decimal, str | None]]


def oracle_balances(oracle: dict[str, Any], account_id: int) -> Balances:
    raw = oracle["balances"][str(account_id)]
    found = {a: (Decimal(v["free"]), Decimal(v["locked"])) for a, v in raw.items()}
    return {a: v for a, v in found.items() if v != (0, 0)}


def oracle_fills(oracle: dict[str, Any], account_id: int) -> Fills:
    return {
        (t["symbol"], int(t["id"])): (
            Decimal(t["qty"]),
            Decimal(t["price"]),
            Decimal(t["commission"]),
            t["commissionAsset"],
        )
        for t in oracle["trades"]
        if int(t["accountId"]) == account_id
    }


def engine_balances(snapshot: dict[str, Any]) -> Balances:
    found = {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in snapshot["balances"]}
    return {a: v for a, v in found.items() if v != (0, 0)}


async def journal_fills(engine: Engine) -> Fills:
    fills: Fills = {}
    async for row in engine.parts.journal.iter_fills():
        payload = row.payload
        key = (row.symbol, row.trade_id)
        assert key not in fills
        fills[key] = (
            Decimal(payload["qty"]),
            Decimal(payload["price"]),
            Decimal(payload["commission"]),
            payload["commission_asset"],
        )
    return fills


async def assert_matches_oracle(engine: Engine, sim: SimServer, account: SimAccount) -> None:
    """The ledger equals the exchange exactly: every balance, every fill."""
    oracle = await sim.admin.oracle(account.account_id)
    expected = oracle_balances(oracle, account.account_id)

    async def balances_match() -> bool:
        return engine_balances(await engine.snapshot()) == expected

    try:
        await until(engine, balances_match)
    except TimeoutError:
        assert engine_balances(await engine.snapshot()) == expected
    await engine.parts.journal.flush()
    assert await journal_fills(engine) == oracle_fills(oracle, account.account_id)


def order_in(snapshot: dict[str, Any], cid: str) -> dict[str, Any] | None:
    for order in (*snapshot["orders"]["open"], *snapshot["orders"]["recent"]):
        if order["client_order_id"] == cid:
            return dict(order)
    return None


def position_in(snapshot: dict[str, Any], symbol: str) -> dict[str, Any] | None:
    for position in snapshot["positions"]:
        if position["symbol"] == symbol:
            return dict(position)
    return None
