"""Helpers for the desk's Pilot tests: a real engine over the embedded exchange, a desk on it
through the in-process client, a frozen desk clock, and waiting on the desk's own state.

Imported by name (this folder is on sys.path under pytest).
"""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from textual.pilot import Pilot

# The engine's own test kit builds engines against the embedded exchange; reuse it.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "engine" / "service"))

from engine_testkit import WIDE_LIMITS, SimAccount, engine_for, new_account, running_sim

from engine.risk import RiskLimits
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer
from tui import scenario
from tui.app import DeskApp
from tui.feed import FeedTiming
from tui.scripted import Answer, ScriptedClient

FROZEN_NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
QUICK_FEED = FeedTiming(
    frame_s=0.02, refresh_s=0.5, read_timeout_s=2.0, retry_initial_s=0.05, retry_max_s=0.2
)
WAIT_S = 10.0
BALANCES = {"USDT": "10000", "BTC": "0.5"}


def frozen_clock() -> datetime:
    return FROZEN_NOW


@dataclass
class World:
    sim: SimServer
    account: SimAccount
    engine: Engine

    def desk(self) -> DeskApp:
        engine = self.engine
        return DeskApp(lambda: engine.client, clock=frozen_clock, timing=QUICK_FEED)

    async def oracle_orders(self) -> list[dict[str, object]]:
        oracle = await self.sim.admin.oracle(self.account.account_id)
        return list(oracle["orders"])


@asynccontextmanager
async def world(tmp_path: pathlib.Path, risk: RiskLimits = WIDE_LIMITS) -> AsyncIterator[World]:
    """The embedded exchange (frozen market, seed 7), one account, a started engine with marks
    (risk limits wide unless a test is about them)."""
    async with running_sim() as sim:
        account = await new_account(sim, BALANCES)
        engine = engine_for(sim, account, tmp_path / "data", risk=risk, market_data=True)
        await engine.start()
        try:
            yield World(sim, account, engine)
        finally:
            await engine.stop()


async def until(pilot: Pilot[object], condition: Callable[[], bool], what: str) -> None:
    """Let the desk run until `condition()` holds (it is fed by the engine's event stream)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def agree(name: CommandName, args: object) -> CommandResult:
    """A scripted engine that says yes to every command."""
    return CommandResult(Outcome.OK, f"{name.value} done")


def scripted_desk(
    *, halted: bool = False, answer: Answer = agree, snapshot: dict[str, object] | None = None
) -> tuple[DeskApp, ScriptedClient]:
    """A desk over the scripted session (`tui.scenario`), and the client that records commands."""
    if snapshot is not None:
        client = ScriptedClient(snapshot, scenario.events(), answer=answer)
    elif halted:
        client = ScriptedClient(scenario.halted(), scenario.halted_events(), answer=answer)
    else:
        client = ScriptedClient(scenario.normal(), scenario.events(), answer=answer)
    return DeskApp(lambda: client, clock=frozen_clock, timing=QUICK_FEED), client


async def shown(pilot: Pilot[object], app: DeskApp, client: ScriptedClient) -> None:
    """Until the desk shows the whole script."""
    await until(pilot, lambda: app.desk_state.event_seq == client.last_seq, "the script")


def sent(client: ScriptedClient) -> list[tuple[CommandName, dict[str, object]]]:
    """The commands a scripted engine was given, previews left out."""
    return [(name, args) for name, args in client.commands if not args.get("dry_run")]
