"""A small in-memory `EngineClient` for control socket tests, and a short private directory."""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.service.api import CommandName, CommandResult, Outcome


class FakeEngine:
    """Numbered events in memory, commands recorded and answered from `results`."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.commands: list[tuple[CommandName, dict[str, Any]]] = []
        self.results: dict[CommandName, CommandResult] = {}
        self.responder: Callable[[CommandName, dict[str, Any]], CommandResult] | None = None
        self.snapshot_body: dict[str, Any] = {"trading_state": "ACTIVE"}
        self.open_iterators = 0
        self.fail_with: Exception | None = None
        self.streams_end = False  # live streams return once they have sent what exists
        self._changed = asyncio.Event()

    def end_streams(self) -> None:
        """What a stopping engine does: every stream ends after what it has sent."""
        self.streams_end = True
        self._changed.set()

    def emit(self, count: int = 1, *, padding: int = 0) -> None:
        for _ in range(count):
            seq = len(self.log) + 1
            self.log.append({"seq": seq, "event": "Tick", "value": str(seq), "pad": "x" * padding})
        self._changed.set()
        self._changed = asyncio.Event()

    async def snapshot(self) -> dict[str, Any]:
        return {**self.snapshot_body, "seq": len(self.log)}

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        self.open_iterators += 1
        try:
            index = since_seq
            while True:
                while index < len(self.log):
                    yield self.log[index]
                    index += 1
                if self.streams_end:
                    return
                await self._changed.wait()
        finally:
            self.open_iterators -= 1

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        self.commands.append((name, args))
        if self.fail_with is not None:
            raise self.fail_with
        if self.responder is not None:
            return self.responder(name, args)
        return self.results.get(name, CommandResult(Outcome.OK, f"{name.value} done", args))

    async def close(self) -> None:
        return None


@contextmanager
def short_directory() -> Iterator[pathlib.Path]:
    """A fresh directory with a short path: Unix socket paths are limited to 107 bytes."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="sd-"))
    try:
        os.chmod(path, 0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def serve_stubborn_engine(socket_path: pathlib.Path) -> None:
    """Serve a fake engine that refuses StopEngine and stops only on SIGTERM (run as a script)."""
    import signal

    from engine.service.control_server import ControlServer

    engine = FakeEngine()
    engine.results[CommandName.STOP_ENGINE] = CommandResult(Outcome.REFUSED, "not now")
    server = ControlServer(engine, socket_path, identity={"mode": "sim", "account": "default"})
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await server.stop()
