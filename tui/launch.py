"""`run_desk(settings)`: attach the desk to the running engine, starting the engine if needed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config import Mode, Settings
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError
from engine.service.heap import settle_heap
from engine.service.process import engine_status, instance_paths, start_engine

if TYPE_CHECKING:
    from tui.app import DeskApp

EXIT_OK = 0
EXIT_FAILURE = 1


async def _ensure_engine(settings: Settings) -> str | None:
    """None once an engine answers for `settings`; otherwise why not."""
    status = await engine_status(settings)
    if status.running:
        return None
    if settings.mode is Mode.LIVE:
        # Starting a LIVE engine takes --live and a typed confirmation: the CLI's job.
        return "no LIVE engine is running; start it with: spotdesk engine start --live"
    try:
        await start_engine(settings)
    except ControlError as error:
        return f"the engine could not start: {error}"
    return None


def desk_app(socket: Path, kind: type[DeskApp] | None = None) -> DeskApp:
    """The desk as its own process runs it: over the engine's socket, and once the first frame
    is drawn the start-up heap (Textual, its stylesheet, every module) leaves the garbage
    collector's view. Left in, each full collection walked it: ~130 ms with the loop stopped,
    a few times a minute under an event flood, and a key pressed meanwhile waited. `kind`: a
    subclass (a benchmark's sampling desk) built the same way."""
    from tui.app import DeskApp  # Textual loads only when the desk runs

    return (kind or DeskApp)(lambda: SocketEngineClient(socket), after_first_frame=settle_heap)


def run_desk(settings: Settings) -> int:
    """The `spotdesk desk` command: returns the process exit code."""
    problem = asyncio.run(_ensure_engine(settings))
    if problem is not None:
        print(f"spotdesk desk: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    socket = instance_paths(settings).socket
    app = desk_app(socket)
    code = app.run()
    return EXIT_OK if code is None else int(code)
