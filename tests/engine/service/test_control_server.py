"""The control server and `SocketEngineClient` over a real Unix socket, with a fake engine."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from control_testkit import FakeEngine, short_directory

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError, EngineAlreadyRunning
from engine.service.control_paths import InstancePaths
from engine.service.control_server import (
    SLOW_SUBSCRIBER_CLOSE,
    ControlServer,
    _EncodedEvents,
    event_text,
)


@pytest.fixture
def instance() -> Iterator[InstancePaths]:
    with short_directory() as base:
        paths = InstancePaths.of(base / "data", "sim", "default")
        (base / "data").mkdir(mode=0o700)
        paths.prepare()
        yield paths


@pytest.fixture
async def served(instance: InstancePaths) -> AsyncIterator[tuple[FakeEngine, ControlServer]]:
    engine = FakeEngine()
    server = ControlServer(engine, instance.socket, identity={"mode": "sim"}, queue_limit=16)
    await server.start()
    yield engine, server
    await server.stop()


async def test_socket_is_private(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    info = instance.socket.lstat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert stat.S_IMODE(instance.directory.stat().st_mode) == 0o700


async def test_snapshot_health_and_command_round_trip(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served
    engine.emit(3)
    engine.results[CommandName.HALT] = CommandResult(
        Outcome.REFUSED, "already halted", {"state": "HALTED"}
    )
    async with SocketEngineClient(instance.socket) as client:
        assert await client.snapshot() == {"seq": 3, "trading_state": "ACTIVE"}
        assert await client.health() == {
            "pid": os.getpid(),
            "socket": str(instance.socket),
            "mode": "sim",
        }
        ok = await client.command(CommandName.CANCEL_ORDER, {"client_order_id": "sd-1"})
        refused = await client.command(CommandName.HALT, {"reason": "lunch"})
    assert ok == CommandResult(Outcome.OK, "CancelOrder done", {"client_order_id": "sd-1"})
    assert refused == CommandResult(Outcome.REFUSED, "already halted", {"state": "HALTED"})
    assert engine.commands == [
        (CommandName.CANCEL_ORDER, {"client_order_id": "sd-1"}),
        (CommandName.HALT, {"reason": "lunch"}),
    ]


async def test_malformed_command_is_a_usage_error(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served
    connector = aiohttp.UnixConnector(path=str(instance.socket))
    async with aiohttp.ClientSession("http://engine", connector=connector) as http:
        async with http.post("/command", json={"name": "Explode", "args": {}}) as response:
            assert response.status == 400
            body = await response.json()
        async with http.post("/command", json={"name": "Halt", "args": [1]}) as response:
            assert response.status == 400
            body_args = await response.json()
    assert body["outcome"] == "usage"
    assert body["message"].startswith("malformed command: 'Explode' is not a valid CommandName")
    assert body_args == {
        "outcome": "usage",
        "message": "malformed command: args must be an object",
        "data": {},
    }
    assert engine.commands == []


async def test_engine_failure_inside_a_command_is_unknown(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served
    engine.fail_with = RuntimeError("boom")
    async with SocketEngineClient(instance.socket) as client:
        result = await client.command(CommandName.SUBMIT_ORDER, {"symbol": "BTCUSDT"})
    assert result.outcome is Outcome.UNKNOWN
    assert result.message == (
        "the engine failed while running SubmitOrder (RuntimeError); "
        "check `spotdesk status` before trying again"
    )


async def test_stop_engine_calls_back_after_answering(instance: InstancePaths) -> None:
    engine = FakeEngine()
    stops: list[str] = []
    server = ControlServer(engine, instance.socket, on_stop_requested=lambda: stops.append("x"))
    await server.start()
    try:
        async with SocketEngineClient(instance.socket) as client:
            await client.command(CommandName.HALT, {"reason": "r"})
            assert stops == []
            result = await client.command(CommandName.STOP_ENGINE, {})
    finally:
        await server.stop()
    assert result.ok
    assert stops == ["x"]
    assert not instance.socket.exists()


async def test_replay_is_bounded_by_limit_and_snapshot(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served
    engine.emit(7)
    async with SocketEngineClient(instance.socket) as client:
        first, more = await client.replay(2, limit=3)
        rest, more_after = await client.replay(5, limit=100)
        none, nothing_more = await client.replay(7)
    assert [e["seq"] for e in first] == [3, 4, 5]
    assert more is True
    assert [e["seq"] for e in rest] == [6, 7]
    assert more_after is False
    assert (none, nothing_more) == ([], False)
    assert engine.open_iterators == 0


async def test_stream_resumes_across_a_server_restart_without_gap_or_duplicate(
    instance: InstancePaths,
) -> None:
    engine = FakeEngine()
    server = ControlServer(engine, instance.socket)
    await server.start()
    client = SocketEngineClient(instance.socket, retry_initial_s=0.01, retry_max_s=0.05)
    received: list[int] = []
    stream = client.events(0)
    engine.emit(5)
    async for event in stream:
        received.append(event["seq"])
        if len(received) == 3:
            break_point = event["seq"]
            break
    # A new subscription from that seq: the same shape a reconnect takes.
    stream = client.events(break_point)
    first = await anext(stream)
    received.append(first["seq"])
    await server.stop()  # the engine goes away while the client listens
    engine.emit(10)  # ... and events happen meanwhile (they are in its journal)
    server = ControlServer(engine, instance.socket)
    await server.start()
    try:
        async for event in stream:
            received.append(event["seq"])
            if event["seq"] == 15:
                break
        engine.emit(2)
        received.append((await anext(stream))["seq"])
        received.append((await anext(stream))["seq"])
    finally:
        await stream.aclose()
        await client.close()
        await server.stop()
    assert received == list(range(1, 18))


async def test_a_burst_beyond_the_queue_drops_the_subscriber_which_resumes(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, server = served
    connector = aiohttp.UnixConnector(path=str(instance.socket))
    async with (
        aiohttp.ClientSession("http://engine", connector=connector) as http,
        http.ws_connect("/stream?since=0") as raw,
    ):
        await _until(lambda: engine.open_iterators == 1)
        engine.emit(40)  # more than the 16-event queue, in one go
        seqs = [int(message.json()["seq"]) async for message in raw]
        assert raw.close_code == SLOW_SUBSCRIBER_CLOSE
    assert seqs == list(range(1, 17))  # what was queued went out, in order, then the close
    assert server.disconnected_slow == 1
    # SocketEngineClient takes such a close in its stride: it resumes from its last seq.
    async with SocketEngineClient(instance.socket) as client:
        stream = client.events(10)
        received = [(await anext(stream))["seq"] for _ in range(30)]
        engine.emit(40)
        received += [(await anext(stream))["seq"] for _ in range(40)]
        await stream.aclose()
    assert received == list(range(11, 81))
    assert server.disconnected_slow >= 2
    await _until(lambda: engine.open_iterators == 0)


async def test_a_subscriber_that_stops_reading_is_cut_off_without_blocking_others(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, server = served
    connector = aiohttp.UnixConnector(path=str(instance.socket))
    received: list[int] = []
    caught_up = asyncio.Event()

    async def follow(client: SocketEngineClient) -> None:
        async for event in client.events(0):
            received.append(event["seq"])
            if event["seq"] == len(engine.log):
                caught_up.set()

    async with (
        aiohttp.ClientSession("http://engine", connector=connector) as http,
        SocketEngineClient(instance.socket) as fast,
        http.ws_connect("/stream?since=0") as stalled,
    ):
        follower = asyncio.create_task(follow(fast))
        await _until(lambda: engine.open_iterators == 2)
        # The stalled one never reads: its socket buffers fill, then its 16-event queue.
        while server.disconnected_slow == 0:
            caught_up.clear()
            engine.emit(10, padding=4096)  # a batch smaller than the queue
            await caught_up.wait()
            assert len(engine.log) < 20_000, "the stalled subscriber was never dropped"
        await _until(lambda: server.subscriber_count == 1)
        # Its close frame could not get through its full buffers, so the connection was cut.
        async for _message in stalled:
            pass
        assert stalled.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert received == list(range(1, len(engine.log) + 1))
    assert server.disconnected_slow == 1
    await _until(lambda: engine.open_iterators == 0)


async def test_the_end_of_the_engines_stream_closes_the_websocket(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served
    engine.emit(3)
    connector = aiohttp.UnixConnector(path=str(instance.socket))
    async with (
        aiohttp.ClientSession("http://engine", connector=connector) as http,
        http.ws_connect("/stream?since=1") as ws,
    ):
        await _until(lambda: engine.open_iterators == 1)
        engine.end_streams()
        seqs = [int(message.json()["seq"]) async for message in ws]
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
    assert seqs == [2, 3]


async def test_a_failing_engine_stream_closes_the_websocket_as_an_error(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    engine, _server = served

    def broken(since_seq: int) -> Any:
        raise RuntimeError("the engine is not running")

    engine.events = broken  # type: ignore[method-assign]
    connector = aiohttp.UnixConnector(path=str(instance.socket))
    async with (
        aiohttp.ClientSession("http://engine", connector=connector) as http,
        http.ws_connect("/stream?since=0") as ws,
    ):
        messages = [message async for message in ws]
        assert ws.close_code == aiohttp.WSCloseCode.INTERNAL_ERROR
    assert messages == []


async def test_stale_socket_is_replaced(instance: InstancePaths) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(instance.socket))
    dead.close()  # the file stays, nobody listens: what a SIGKILLed engine leaves
    server = ControlServer(FakeEngine(), instance.socket)
    await server.start()
    try:
        async with SocketEngineClient(instance.socket) as client:
            assert (await client.snapshot())["seq"] == 0
    finally:
        await server.stop()


async def test_live_socket_is_not_taken_over(
    instance: InstancePaths, served: tuple[FakeEngine, ControlServer]
) -> None:
    second = ControlServer(FakeEngine(), instance.socket)
    with pytest.raises(EngineAlreadyRunning, match="an engine is already running"):
        await second.start()
    async with SocketEngineClient(instance.socket) as client:
        assert (await client.snapshot())["seq"] == 0


async def test_a_regular_file_in_the_way_is_left_alone(instance: InstancePaths) -> None:
    instance.socket.write_text("not a socket")
    with pytest.raises(ControlError, match="exists and is not a socket"):
        await ControlServer(FakeEngine(), instance.socket).start()
    assert instance.socket.read_text() == "not a socket"


async def test_overlong_socket_path_is_refused_clearly() -> None:
    path = pathlib.Path("/" + "d" * 120) / "engine.sock"
    with pytest.raises(ControlError, match="Set SPOTDESK_DATA_DIR to a shorter directory"):
        await ControlServer(FakeEngine(), path).start()


async def _until(condition: object) -> None:
    assert callable(condition)
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")


@pytest.mark.parametrize(
    "event",
    [
        {"seq": 3, "ts": "2026-01-02T00:00:00.000000+00:00", "event": "Tick", "alarm": False},
        {"seq": 4, "order": {"qty": "0.5", "order_id": None, "tags": [1, True]}, "z": "a"},
        {"seq": 5, "reason": 'caf\u00e9 \u2014 \x7f\x1b[2J\n\t"quoted" \\'},
        {"seq": 6, "big": 2**70, "small": -(2**70)},
    ],
)
def test_an_event_is_sent_as_the_standard_encoder_writes_it(event: dict[str, Any]) -> None:
    assert event_text(event) == json.dumps(event, separators=(",", ":"))


def test_a_live_event_is_encoded_once_for_every_subscriber() -> None:
    texts = _EncodedEvents(2)
    event = {"seq": 1, "event": "Tick"}
    first = texts.text(event)
    assert texts.text(event) is first  # the same dict, as the hub hands every subscriber
    replayed = dict(event)  # the same event read back from the journal: written again
    assert texts.text(replayed) == first
    assert texts.text(replayed) is not first
    texts.text({"seq": 2})
    texts.text({"seq": 3})  # only the newest two are kept
    assert texts.text(replayed) == '{"seq":1,"event":"Tick"}'
