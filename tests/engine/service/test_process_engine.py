"""The engine as its own process against an embedded exchange: start, refuse a second, status,
stop; SIGTERM and SIGHUP stop it gracefully; SIGKILL and a restart lose and repeat nothing."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import signal
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cli_testkit import Ran, cli_env, run_cli
from control_testkit import short_directory

from engine.journal import Journal
from engine.service.api import CommandName
from engine.service.control_client import SocketEngineClient
from engine.service.control_paths import InstancePaths
from engine.service.control_spawn import pid_alive
from engine.sim.runner import SimServer

STARTED = re.compile(
    r"spotdesk engine: (?:started|running), pid (\d+), mode sim, account default\n"
)


@dataclass
class World:
    """An embedded exchange in this process and the settings of an engine that trades on it."""

    base: pathlib.Path
    sim: SimServer
    env: dict[str, str]
    paths: InstancePaths
    pids: list[int] = field(default_factory=list)

    async def cli(self, *args: str) -> Ran:
        return await run_cli(*args, env=self.env, cwd=self.base)

    async def start(self) -> int:
        ran = await self.cli("engine", "start")
        assert ran.code == 0, ran.err
        found = STARTED.match(ran.out)
        assert found is not None, ran.out
        pid = int(found.group(1))
        self.pids.append(pid)
        assert ran.out == (
            f"spotdesk engine: started, pid {pid}, mode sim, account default\n"
            f"  socket  {self.paths.socket}\n"
            f"  log     {self.paths.log}\n"
        )
        return pid

    async def snapshot(self) -> dict[str, Any]:
        async with SocketEngineClient(self.paths.socket) as client:
            return await client.snapshot()

    async def oracle(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.sim.admin.oracle(self.sim.demo_account_id)
        return found


@pytest.fixture
async def world() -> AsyncIterator[World]:
    with short_directory() as base:
        async with SimServer(port=0, frozen_market=True, state_path=base / "sim.sqlite") as sim:
            await sim.admin.set_price("BTCUSDT", "50000")
            data_dir = base / "data"
            env = cli_env(
                data_dir,
                SPOTDESK_SIM_URL=sim.url,
                SPOTDESK_API_KEY=sim.api_key,
                SPOTDESK_API_SECRET=sim.api_secret,
            )
            world = World(base, sim, env, InstancePaths.of(data_dir, "sim", "default"))
            try:
                yield world
            finally:
                for pid in world.pids:  # whatever a failed test left running
                    if pid_alive(pid):
                        os.kill(pid, signal.SIGKILL)


async def _until_dead(pid: int) -> None:
    for _ in range(400):
        if not pid_alive(pid):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"pid {pid} is still alive")


async def test_start_refuse_second_status_stop(world: World) -> None:
    pid = await world.start()
    socket = world.paths.socket
    assert stat.S_IMODE(socket.lstat().st_mode) == 0o600
    assert stat.S_IMODE(world.paths.directory.stat().st_mode) == 0o700
    again = await world.cli("engine", "start")
    assert again == Ran(
        3,
        "",
        f"spotdesk: an engine is already running (pid {pid}) on {socket}; attach to it, or "
        "stop it first with: spotdesk engine stop\n",
    )
    status = await world.cli("engine", "status")
    assert status.code == 0
    assert STARTED.match(status.out) is not None
    assert (await world.snapshot())["trading_state"] == "ACTIVE"
    stopped = await world.cli("engine", "stop")
    assert stopped == Ran(0, f"spotdesk engine: stopped (pid {pid}, by StopEngine)\n", "")
    assert not pid_alive(pid)
    assert not socket.exists()
    after = await world.cli("engine", "status")
    assert after.code == 4


async def test_sigkill_then_restart_keeps_everything_and_sends_nothing_twice(
    world: World,
) -> None:
    pid = await world.start()
    rest = await world.cli("order", "buy", "BTCUSDT", "0.01", "--price", "40000", "--yes")
    market = await world.cli("order", "buy", "BTCUSDT", "0.002", "--yes")
    assert rest.code == 0, rest.err
    assert market.code == 0, market.err
    before = await world.snapshot()
    oracle_before = await world.oracle()
    assert [o["status"] for o in oracle_before["orders"]] == ["NEW", "FILLED"]

    os.kill(pid, signal.SIGKILL)
    await _until_dead(pid)
    assert world.paths.socket.exists()  # the dead engine's socket file is left behind
    assert (await world.cli("engine", "status")).code == 4

    restarted = await world.start()
    assert restarted != pid
    after = await world.snapshot()
    oracle_after = await world.oracle()

    def orders(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (o["client_order_id"], o["state"], o["qty"], o["price"], o["cum_qty"])
            for o in snapshot["orders"]["open"]
        ]

    def positions(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(p["symbol"], p["qty"], p["avg_entry"]) for p in snapshot["positions"]]

    assert len(orders(before)) == 1
    assert orders(after) == orders(before)
    assert after["balances"] == before["balances"]
    assert positions(after) == positions(before)
    assert oracle_after["orders"] == oracle_before["orders"]  # nothing was sent again
    assert oracle_after["trades"] == oracle_before["trades"]
    await world.cli("engine", "stop")
    await _until_dead(restarted)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_a_signal_stops_the_foreground_engine_gracefully(
    world: World, signum: signal.Signals
) -> None:
    engine = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.service",
        env=world.env,
        cwd=world.base,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert engine.stdout is not None
    first = (await engine.stdout.readline()).decode()
    assert STARTED.fullmatch(first) is not None, first
    async with SocketEngineClient(world.paths.socket) as client:
        placed = await client.command(
            CommandName.SUBMIT_ORDER,
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "limit",
                "quantity": "0.01",
                "price": "40000",
            },
        )
    assert placed.ok, placed.message
    engine.send_signal(signum)
    out, _err = await engine.communicate()
    assert engine.returncode == 0
    assert out.decode().endswith("spotdesk engine: stopped\n")
    assert not world.paths.socket.exists()
    # Graceful means nothing cancelled on the way out: the resting order is still there.
    assert [o["status"] for o in (await world.oracle())["orders"]] == ["NEW"]


async def test_a_journal_owned_by_another_process_is_refused(world: World) -> None:
    world.paths.prepare()
    journal = await Journal.open(
        world.paths.directory / "journal.sqlite", mode="sim", account="default"
    )
    try:
        ran = await run_cli("engine", "run", env=world.env, cwd=world.base)
    finally:
        await journal.close()
    assert ran.code == 3
    assert f"is already in use by process {os.getpid()}" in ran.err
    assert ran.out == ""


async def test_events_resume_across_an_engine_restart_without_gap_or_duplicate(
    world: World,
) -> None:
    pid = await world.start()
    client = SocketEngineClient(world.paths.socket, max_reconnects=400, retry_max_s=0.1)
    received: list[int] = []

    async def follow() -> None:
        async for event in client.events(0):
            received.append(int(event["seq"]))

    follower = asyncio.create_task(follow())
    try:
        assert (await world.cli("order", "buy", "BTCUSDT", "0.002", "--yes")).code == 0
        await _until_seen(received, (await world.snapshot())["seq"])
        stopped = await world.cli("engine", "stop")
        assert stopped.code == 0
        await _until_dead(pid)
        restarted = await world.start()
        rest = await world.cli("order", "buy", "BTCUSDT", "0.01", "--price", "40000", "--yes")
        assert rest.code == 0
        last = (await world.snapshot())["seq"]
        await _until_seen(received, last)
        replayed, more = await client.replay(0, limit=10_000)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await client.close()
    assert more is False
    assert received == [int(event["seq"]) for event in replayed]
    assert received == list(range(1, last + 1))
    await world.cli("engine", "stop")
    await _until_dead(restarted)


async def _until_seen(received: list[int], seq: int) -> None:
    for _ in range(800):
        if received and received[-1] >= seq:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"event {seq} never arrived; got up to {received[-1:]}")


async def test_each_command_against_the_real_engine(world: World) -> None:
    pid = await world.start()
    halted = await world.cli("halt", "--reason", "lunch")
    refused = await world.cli("order", "buy", "BTCUSDT", "0.01", "--price", "40000", "--yes")
    armed = await world.cli("arm", "--reason", "back")
    rest = await world.cli("order", "buy", "BTCUSDT", "0.01", "--price", "40000", "--yes")
    assert [halted.code, refused.code, armed.code, rest.code] == [0, 3, 0, 0]
    assert refused.err == "spotdesk: refused: trading is HALTED: lunch\n"
    cid = (await world.snapshot())["orders"]["open"][0]["client_order_id"]
    canceled = await world.cli("cancel", cid)
    again = await world.cli("cancel", cid)
    unknown = await world.cli("cancel", "sd-nope-1")
    assert [canceled.code, again.code, unknown.code] == [0, 0, 2]
    assert again.out == f"{cid} is already CANCELED; nothing to cancel\n"
    closed = await world.cli("close", "BTCUSDT", "--yes")
    assert closed.code == 0, closed.err
    oracle = await world.oracle()
    assert [(o["side"], o["type"], o["status"]) for o in oracle["orders"]] == [
        ("BUY", "LIMIT", "CANCELED"),
        ("SELL", "MARKET", "FILLED"),
    ]
    snapshot = await world.snapshot()
    assert [p["qty"] for p in snapshot["positions"] if p["symbol"] == "BTCUSDT"] == ["0.00000000"]
    await world.cli("engine", "stop")
    await _until_dead(pid)
