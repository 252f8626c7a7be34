"""`run_desk(settings)`: attach the desk to the running engine, starting the engine if needed."""

from __future__ import annotations

import asyncio
import sys

from engine.config import Mode, Settings
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError
from engine.service.process import engine_status, instance_paths, start_engine

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


def run_desk(settings: Settings) -> int:
    """The `spotdesk desk` command: returns the process exit code."""
    from tui.app import DeskApp  # Textual loads only when the desk runs

    problem = asyncio.run(_ensure_engine(settings))
    if problem is not None:
        print(f"spotdesk desk: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    socket = instance_paths(settings).socket
    app = DeskApp(lambda: SocketEngineClient(socket))
    code = app.run()
    return EXIT_OK if code is None else int(code)
