"""Modes: SIM by default, TESTNET on the spot testnet's URLs, LIVE only after three acts.

Every outgoing connection attempt is recorded (connections.py) and nothing beyond loopback is
allowed, so "nothing reaches a live URL" is checked, not assumed: each incomplete combination of
the three acts records no Binance host at all, and the complete one is the positive control.
"""

from __future__ import annotations

import asyncio
import pathlib
import shutil
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime

import pytest
from connections import Connections, install
from control_testkit import short_directory
from pydantic import SecretStr

from engine.cli import main
from engine.config import Mode, Settings
from engine.journal import Journal, JournalMismatch
from engine.security.live_gate import LiveGate, LiveState
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.audit import Operator
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError
from engine.service.process import instance_paths, run_engine, start_real_engine
from engine.service.profile import journal_path
from engine.venue.endpoints import LIVE_HOSTS, TESTNET, endpoints_for, hosts_of
from engine.venue.timing import SystemClock

BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    return install(monkeypatch)


@pytest.fixture
def base() -> Iterator[pathlib.Path]:
    with short_directory() as path:  # Unix socket paths are short
        yield path


def _settings(base: pathlib.Path, mode: Mode) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode=mode,
        data_dir=base / "data",
        api_key=SecretStr("k" * 64),
        api_secret=SecretStr("s" * 64),
    )


def test_sim_is_the_default_and_testnet_uses_the_spot_testnet() -> None:
    assert Settings(_env_file=None).mode is Mode.SIM  # type: ignore[call-arg]
    testnet = endpoints_for(Mode.TESTNET)
    assert (testnet.rest_url, testnet.sapi_url, testnet.ws_api_url, testnet.stream_url) == (
        "https://testnet.binance.vision/api",
        None,
        "wss://ws-api.testnet.binance.vision/ws-api/v3",
        "wss://stream.testnet.binance.vision/",
    )
    assert hosts_of(TESTNET).isdisjoint(LIVE_HOSTS)
    assert hosts_of(endpoints_for(Mode.SIM, "http://127.0.0.1:8765")) == {"127.0.0.1"}
    assert sorted(LIVE_HOSTS) == ["api.binance.com", "stream.binance.com", "ws-api.binance.com"]


async def test_live_without_the_flag_connects_nowhere(
    base: pathlib.Path, connections: Connections
) -> None:
    with pytest.raises(ControlError, match="start the engine with --live"):
        await run_engine(_settings(base, Mode.LIVE), live=False)
    assert connections.hosts == []
    assert not (base / "data").exists()


async def test_live_with_the_flag_waits_for_the_typed_word_and_connects_nowhere(
    base: pathlib.Path, connections: Connections
) -> None:
    settings = _settings(base, Mode.LIVE)
    ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_engine(settings, live=True, on_ready=ready.set_result))
    await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    assert not task.done()
    async with SocketEngineClient(instance_paths(settings).socket) as client:
        snapshot = await client.snapshot()
        order = await client.command(CommandName.SUBMIT_ORDER, dict(BUY))
        arm = await client.command(CommandName.ARM, {"reason": "go"})
        lower = await client.command(CommandName.CONFIRM_LIVE, {"typed": "live"})
        missing = await client.command(CommandName.CONFIRM_LIVE, {})
        stop = await client.command(CommandName.STOP_ENGINE, {})
    await asyncio.wait_for(task, 10)
    assert (snapshot["mode"], snapshot["trading_state"], snapshot["seq"]) == ("live", "HALTED", 0)
    assert snapshot["live"] == {
        "state": "awaiting_confirmation",
        "confirm_word": "LIVE",
        "last_error": None,
        "confirmed_at": None,
    }
    assert snapshot["halt_reason"] == "LIVE: waiting for the operator to type LIVE in the desk"
    for refused in (order, arm):
        assert (refused.outcome, refused.message) == (
            Outcome.REFUSED,
            "LIVE mode waits for the operator to type LIVE in the desk; nothing is connected "
            "and no order can go out until then (live.state: awaiting_confirmation)",
        )
    for wrong in (lower, missing):
        assert (wrong.outcome, wrong.message) == (
            Outcome.REFUSED,
            "not confirmed: type LIVE exactly (capitals) to trade real money",
        )
    assert stop.ok
    assert connections.hosts == []
    assert not journal_path(settings, "default").exists()  # not even the journal was opened


async def test_all_three_acts_start_the_engine_against_binance(
    base: pathlib.Path, connections: Connections
) -> None:
    """The positive control: after the typed word the real engine goes for the live URL (and
    fails here, where nothing beyond loopback is reachable), then waits for the word again."""
    settings = _settings(base, Mode.LIVE)
    gate = LiveGate(
        lambda: start_real_engine(settings, "default"), account="default", clock=SystemClock().now
    )
    try:
        result = await gate.command(CommandName.CONFIRM_LIVE, {"typed": " LIVE "})
        assert (result.outcome, result.data["state"]) == (Outcome.OK, "starting")
        while gate.state is LiveState.STARTING:
            async for _ in gate.events(0):  # the placeholder stream ends at each change
                pass
        snapshot = await gate.snapshot()
    finally:
        await gate.stop()
    assert connections.remote == {"api.binance.com"}
    assert snapshot["live"]["state"] == "awaiting_confirmation"
    assert snapshot["live"]["last_error"].startswith(
        "the engine could not start: the exchange cannot be reached:"
    )
    assert snapshot["live"]["confirmed_at"] is not None
    assert gate.stopped.is_set()


async def test_testnet_reaches_only_the_testnet(
    base: pathlib.Path, connections: Connections
) -> None:
    with pytest.raises(ControlError, match="the exchange cannot be reached"):
        await start_real_engine(_settings(base, Mode.TESTNET), "default")
    assert connections.remote == {"testnet.binance.vision"}


def test_check_in_live_needs_the_flag_and_only_reads(
    base: pathlib.Path,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPOTDESK_MODE", "live")
    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("SPOTDESK_API_KEY", "k" * 64)
    monkeypatch.setenv("SPOTDESK_API_SECRET", "s" * 64)
    assert main(["check"]) == 3
    refused = capsys.readouterr()
    assert refused == (
        "",
        "spotdesk: LIVE mode: add --live to let the check read your live account on Binance "
        "(it places, changes and cancels nothing)\n",
    )
    assert connections.hosts == []
    assert main(["check", "--live"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "spotdesk check: mode live, account default, exchange https://api.binance.com"
    )
    assert lines[3].startswith(
        "  fail  keys             not checked: the exchange at https://api.binance.com cannot "
        "be reached:"
    )
    assert lines[-1] == "spotdesk check: failed: 5 of 7 checks"
    assert connections.remote == {"api.binance.com"}


async def test_each_mode_and_account_has_its_own_journal(base: pathlib.Path) -> None:
    sim = _settings(base, Mode.SIM)
    paths = {
        journal_path(sim, "default"),
        journal_path(sim, "other"),
        journal_path(_settings(base, Mode.TESTNET), "default"),
        journal_path(_settings(base, Mode.LIVE), "default"),
    }
    assert len(paths) == 4
    clock = SystemClock().now
    sim_path = journal_path(sim, "default")
    journal = await Journal.open(sim_path, mode="sim", account="default", clock=clock)
    await journal.close()
    live_path = journal_path(_settings(base, Mode.LIVE), "default")
    live_path.parent.mkdir(mode=0o700, parents=True)
    shutil.copy(sim_path, live_path)  # a journal moved into another mode's place
    with pytest.raises(JournalMismatch, match="belongs to mode=sim account=default"):
        await Journal.open(live_path, mode="live", account="default", clock=clock)
    with pytest.raises(JournalMismatch, match="refusing to open it for mode=sim account=other"):
        await Journal.open(sim_path, mode="sim", account="other", clock=clock)


class _Started:
    """A stand-in for the engine the gate starts: records what reaches it."""

    def __init__(self) -> None:
        self.stopped = asyncio.Event()
        self.commands: list[CommandName] = []
        self.operators: list[Operator] = []
        self.audited: list[tuple[Operator, str, dict[str, object], Outcome, datetime]] = []
        self.stop_calls = 0

    async def snapshot(self) -> dict[str, object]:
        return {"seq": 7, "mode": "live", "trading_state": "ACTIVE"}

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, object]]:
        yield {"seq": since_seq + 1, "event": "Hello"}

    async def command(self, name: CommandName, args: dict[str, object]) -> CommandResult:
        self.commands.append(name)
        return CommandResult(Outcome.OK, f"{name.value} done")

    async def command_from(
        self, operator: Operator, name: CommandName, args: Mapping[str, object]
    ) -> CommandResult:
        self.operators.append(operator)
        return await self.command(name, dict(args))

    async def record_action(
        self,
        operator: Operator,
        name: CommandName | str,
        args: Mapping[str, object],
        result: CommandResult,
        *,
        received_at: datetime,
    ) -> None:
        self.audited.append((operator, str(name), dict(args), result.outcome, received_at))

    async def stop(self) -> None:
        self.stop_calls += 1
        self.stopped.set()


async def test_once_confirmed_every_call_goes_to_the_engine() -> None:
    engine = _Started()
    release: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start() -> _Started:
        await release
        return engine

    gate = LiveGate(start, account="default", clock=SystemClock().now)
    first = await gate.command(CommandName.CONFIRM_LIVE, {"typed": "LIVE"})
    again = await gate.command(CommandName.CONFIRM_LIVE, {"typed": "LIVE"})
    waiting = await gate.command(CommandName.SUBMIT_ORDER, dict(BUY))
    assert (first.outcome, again.outcome, again.message) == (
        Outcome.OK,
        Outcome.REFUSED,
        "LIVE is starting already",
    )
    assert waiting.message.endswith("(live.state: starting)")
    release.set_result(None)
    async for _ in gate.events(0):  # ends when the engine runs
        pass
    assert gate.state is LiveState.CONFIRMED
    snapshot = await gate.snapshot()
    order = await gate.command(CommandName.SUBMIT_ORDER, dict(BUY))
    confirmed = await gate.command(CommandName.CONFIRM_LIVE, {"typed": "LIVE"})
    events = [e async for e in gate.events(3)]
    engine.stopped.set()  # the engine stops by itself (StopEngine): the gate's process follows
    await asyncio.wait_for(gate.stopped.wait(), 5)
    await gate.stop()
    assert (snapshot["seq"], snapshot["live"]["state"]) == (7, "confirmed")
    assert (order.message, confirmed.message) == ("SubmitOrder done", "LIVE was confirmed already")
    assert events == [{"seq": 4, "event": "Hello"}]
    assert (engine.commands, engine.stop_calls) == ([CommandName.SUBMIT_ORDER], 1)


async def test_the_operator_who_typed_live_is_audited_once_the_engine_runs() -> None:
    engine = _Started()
    typed_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    alice = Operator("alice", "pts/3 via ssh from 10.0.0.9", "spotdesk (pid 42)")
    bob = Operator("bob", "pts/4", "spotdesk order (pid 43)")

    async def start() -> _Started:
        return engine

    gate = LiveGate(start, account="default", clock=lambda: typed_at)
    wrong = await gate.command_from(alice, CommandName.CONFIRM_LIVE, {"typed": "live"})
    confirmed = await gate.command_from(alice, CommandName.CONFIRM_LIVE, {"typed": "LIVE"})
    async for _ in gate.events(0):  # ends when the engine runs
        pass
    order = await gate.command_from(bob, CommandName.SUBMIT_ORDER, dict(BUY))
    await gate.stop()
    assert (wrong.outcome, confirmed.outcome, order.outcome) == (
        Outcome.REFUSED,
        Outcome.OK,
        Outcome.OK,
    )
    assert engine.audited == [
        (alice, "ConfirmLive", {"typed": "LIVE", "confirmed": True}, Outcome.OK, typed_at)
    ]
    assert (engine.operators, engine.commands) == ([bob], [CommandName.SUBMIT_ORDER])
