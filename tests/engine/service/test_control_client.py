"""`SocketEngineClient` when no engine answers, or when the answer to a command is lost."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Iterator

import pytest
from control_testkit import short_directory

from engine.service.api import CommandName, Outcome
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import EngineNotRunning


@pytest.fixture
def socket_path() -> Iterator[pathlib.Path]:
    with short_directory() as base:
        yield base / "engine.sock"


async def test_reads_and_commands_say_no_engine_runs(socket_path: pathlib.Path) -> None:
    async with SocketEngineClient(socket_path) as client:
        with pytest.raises(EngineNotRunning) as raised:
            await client.snapshot()
        with pytest.raises(EngineNotRunning):
            await client.command(CommandName.HALT, {"reason": "x"})
    assert str(raised.value).startswith(f"no engine is running: nothing answers on {socket_path}")
    assert str(raised.value).endswith("Start one with: spotdesk engine start")


async def test_event_stream_gives_up_after_bounded_reconnects(socket_path: pathlib.Path) -> None:
    client = SocketEngineClient(socket_path, max_reconnects=3, retry_initial_s=0.001)
    with pytest.raises(EngineNotRunning):
        async for _event in client.events(0):
            pass
    await client.close()


async def test_a_lost_answer_is_unknown_and_not_resent(socket_path: pathlib.Path) -> None:
    requests: list[bytes] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()  # the engine took the request and died before answering

    server = await asyncio.start_unix_server(hang_up, path=str(socket_path))
    try:
        async with SocketEngineClient(socket_path) as client:
            result = await client.command(CommandName.SUBMIT_ORDER, {"symbol": "BTCUSDT"})
    finally:
        server.close()
        await server.wait_closed()
    assert result.outcome is Outcome.UNKNOWN
    assert result.message.startswith("SubmitOrder was sent to the engine but its answer was lost")
    assert result.message.endswith("check with: spotdesk status")
    assert len(requests) == 1
    assert requests[0].startswith(b"POST /command HTTP/1.1")
