"""`run_engine` in this process with a fake engine: how it serves, stops and refuses."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from control_testkit import FakeEngine, short_directory

from engine.config import Mode, Settings
from engine.service.api import CommandName
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError, EngineAlreadyRunning
from engine.service.control_server import ControlServer
from engine.service.process import (
    DEFAULT_ACCOUNT,
    EngineStatus,
    engine_status,
    instance_paths,
    run_engine,
)


class FakeRunning(FakeEngine):
    """A started fake engine: `stop()` counted, `stopped` set like the real one."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped = asyncio.Event()
        self.stop_calls = 0

    async def stop(self) -> None:
        self.stop_calls += 1
        self.stopped.set()


@pytest.fixture
def settings() -> Iterator[Settings]:
    with short_directory() as base:
        yield Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=base / "data", sim_url="http://127.0.0.1:9"
        )


async def _running(
    settings: Settings, engine: FakeRunning
) -> tuple[asyncio.Task[None], EngineStatus]:
    ready: asyncio.Future[EngineStatus] = asyncio.get_running_loop().create_future()

    async def starter(_settings: Settings, account: str) -> FakeRunning:
        assert account == DEFAULT_ACCOUNT
        return engine

    task = asyncio.create_task(run_engine(settings, starter=starter, on_ready=ready.set_result))
    done, _ = await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what went wrong
    return task, ready.result()


async def test_stop_engine_command_ends_the_process_loop(settings: Settings) -> None:
    engine = FakeRunning()
    task, status = await _running(settings, engine)
    socket = instance_paths(settings).socket
    assert status.socket == socket
    assert status.identity["mode"] == "sim"
    assert status.identity["account"] == "default"
    async with SocketEngineClient(socket) as client:
        result = await client.command(CommandName.STOP_ENGINE, {})
    await task
    assert result.ok
    assert engine.stop_calls == 1
    assert not socket.exists()
    assert (await engine_status(settings)).running is False


async def test_an_engine_that_stops_by_itself_ends_the_loop(settings: Settings) -> None:
    engine = FakeRunning()
    task, _status = await _running(settings, engine)
    engine.stopped.set()
    await task
    assert not instance_paths(settings).socket.exists()


async def test_a_second_engine_is_refused_while_one_answers(settings: Settings) -> None:
    paths = instance_paths(settings)
    paths.prepare()
    server = ControlServer(FakeEngine(), paths.socket, identity={"mode": "sim"})
    await server.start()
    started: list[Any] = []

    async def starter(_settings: Settings, _account: str) -> FakeRunning:
        started.append(1)
        return FakeRunning()

    try:
        with pytest.raises(EngineAlreadyRunning) as raised:
            await run_engine(settings, starter=starter)
    finally:
        await server.stop()
    assert raised.value.pid is not None
    assert started == []


async def test_live_mode_needs_the_live_flag(settings: Settings) -> None:
    live = settings.model_copy(update={"mode": Mode.LIVE})
    with pytest.raises(ControlError, match="LIVE mode trades real money"):
        await run_engine(live)
    assert not live.data_dir.exists()


def test_the_socket_lives_next_to_the_engines_journal(settings: Settings) -> None:
    from engine.service import engine

    assert DEFAULT_ACCOUNT == engine.DEFAULT_ACCOUNT
    directory = instance_paths(settings).directory
    assert directory == engine.journal_path(settings, DEFAULT_ACCOUNT).parent
    assert directory == pathlib.Path(settings.data_dir) / "sim-default"
