"""The engine as its own process: run it in the foreground, start it detached, stop it, ask it.

One engine per mode and account: the journal's lock guarantees it, and the control socket in
the same private directory says who holds it. SIGTERM, SIGHUP and SIGINT stop the engine
gracefully (journal flushed, resting orders left alone), as does the StopEngine command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from engine.config import Mode, Settings
from engine.core import failpoints
from engine.security.live_gate import LiveGate
from engine.security.permissions import require_private_files
from engine.service.api import CommandName
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError, EngineAlreadyRunning, EngineNotRunning
from engine.service.control_paths import InstancePaths
from engine.service.control_server import ControlServer, Served
from engine.service.control_spawn import (
    log_tail,
    pid_alive,
    python_module_argv,
    spawn_detached,
    wait_until_ready,
)
from engine.service.profile import DEFAULT_ACCOUNT as DEFAULT_ACCOUNT  # re-exported

if TYPE_CHECKING:  # the engine itself loads only where it runs (see start_real_engine)
    from engine.service.engine import Engine

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_POLL_S = 0.05
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class RunningEngine(Served, Protocol):
    """What the process needs of a started engine: what the server serves, a graceful stop,
    and `stopped`, set once it has stopped (by `stop()` or by its own StopEngine command)."""

    stopped: asyncio.Event

    async def stop(self) -> None:
        """Flush the journal and close the venue; never cancel an order on the way out."""
        ...


EngineStarter = Callable[[Settings, str], Awaitable[RunningEngine]]
"""Builds and starts the engine for (settings, account); the default is the real one."""


class EngineStartFailed(ControlError):
    """A detached engine ended before its socket answered; `exit_status` is its exit code."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class EngineStatus:
    """What `spotdesk engine status` reports; `identity` is the engine's own /health answer."""

    running: bool
    socket: pathlib.Path
    identity: dict[str, Any]

    @property
    def pid(self) -> int | None:
        raw = self.identity.get("pid")
        return int(raw) if raw is not None else None


def account_name(settings: Settings) -> str:
    """The account part of the instance's directory and journal (SPOTDESK_ACCOUNT)."""
    return settings.account


def instance_paths(settings: Settings) -> InstancePaths:
    return InstancePaths.of(settings.data_dir, settings.mode.value, account_name(settings))


# ask -----------------------------------------------------------------------------------------


async def engine_status(settings: Settings) -> EngineStatus:
    """Whether an engine answers for these settings, and what it says about itself."""
    paths = instance_paths(settings)
    async with SocketEngineClient(paths.socket) as client:
        try:
            identity = await client.health()
        except EngineNotRunning:
            return EngineStatus(False, paths.socket, {})
    return EngineStatus(True, paths.socket, identity)


# run in the foreground -----------------------------------------------------------------------


async def run_engine(
    settings: Settings,
    *,
    live: bool = False,
    starter: EngineStarter | None = None,
    on_ready: Callable[[EngineStatus], None] | None = None,
) -> None:
    """Run the engine and its control server until a stop signal or StopEngine.

    The socket is bound only once the engine has started (journal open, reconciled), so
    whatever answers on it is ready. Raises EngineAlreadyRunning (another engine answers),
    JournalLocked (another engine owns the journal), or ControlError (LIVE without `live`,
    no exchange, a start that failed).
    """
    if settings.mode is Mode.LIVE and not live:
        raise ControlError("LIVE mode trades real money: start the engine with --live")
    try:  # crash tests (engine/core/failpoints.py): armed against the embedded exchange only
        failpoints.arm_from_environment(os.environ if settings.mode is Mode.SIM else {})
    except ValueError as error:
        raise ControlError(f"the engine could not start: {error}") from None
    await asyncio.to_thread(require_private_files, settings)  # UnsafePermissions
    paths = instance_paths(settings)
    await asyncio.to_thread(paths.prepare)
    running = await engine_status(settings)
    if running.running:
        raise EngineAlreadyRunning(paths.socket, running.pid)
    if settings.mode is Mode.SIM and settings.sim_url is None:
        # Imported here: it brings python-binance, which the desk's own start never needs.
        from engine.service.control_sim import ensure_embedded_exchange

        exchange = await ensure_embedded_exchange(settings)
        if exchange.started_pid is not None:
            log.info(
                "started the embedded exchange (pid %d) on port %d; it outlives this engine",
                exchange.started_pid,
                settings.sim.port,
            )
        settings = exchange.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        start = starter or start_real_engine
        engine: RunningEngine
        if settings.mode is Mode.LIVE:
            # Nothing connects until the operator types LIVE in the desk (engine/security).
            account = account_name(settings)
            # Always the real engine: the gate audits through it (a test's `starter` is for
            # the other modes).
            engine = LiveGate(
                lambda: start_real_engine(settings, account),
                account=account,
                clock=lambda: datetime.now(UTC),
            )
        else:
            engine = await start(settings, account_name(settings))
        try:
            await _serve(engine, settings, paths, stop, on_ready)
        finally:
            await engine.stop()
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def _serve(
    engine: RunningEngine,
    settings: Settings,
    paths: InstancePaths,
    stop: asyncio.Event,
    on_ready: Callable[[EngineStatus], None] | None,
) -> None:
    """Serve the started engine until `stop` is set or the engine stops by itself."""
    identity = {
        "mode": settings.mode.value,
        "account": account_name(settings),
        "log": str(paths.log),
        "started_at": datetime.now(UTC).isoformat(),
    }
    server = ControlServer(engine, paths.socket, identity=identity, on_stop_requested=stop.set)
    await server.start()
    try:
        log.info("engine ready; control socket %s", paths.socket)
        if on_ready is not None:
            on_ready(EngineStatus(True, paths.socket, {"pid": os.getpid(), **identity}))
        waiters = [
            asyncio.create_task(stop.wait(), name="stop-signal"),
            asyncio.create_task(engine.stopped.wait(), name="engine-stopped"),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        log.info("engine stopping")
    finally:
        await server.stop()


async def start_real_engine(settings: Settings, account: str) -> Engine:
    """The engine of `settings` for `account`, started (journal open, reconciled)."""
    # The engine's weight (python-binance, the venue) is loaded only where it runs.
    from engine.service.assembly import EngineStartError
    from engine.service.engine import build_engine
    from engine.venue.errors import VenueError

    try:
        started = await build_engine(settings, account=account)
    except (EngineStartError, VenueError, ValueError) as error:
        raise ControlError(f"the engine could not start: {error}") from None
    return started


# start detached, stop ------------------------------------------------------------------------


async def start_engine(
    settings: Settings,
    *,
    live: bool = False,
    timeout_s: float = START_TIMEOUT_S,
    debug: bool = False,
) -> EngineStatus:
    """Spawn `python -m engine.service` detached and wait until its socket answers.

    The child inherits the environment (and so the SPOTDESK_* settings) and working directory.
    Raises EngineAlreadyRunning, or EngineStartFailed with the end of its log.
    """
    running = await engine_status(settings)
    if running.running:
        raise EngineAlreadyRunning(running.socket, running.pid)
    await asyncio.to_thread(require_private_files, settings)  # said here, not in the child's log
    paths = instance_paths(settings)
    await asyncio.to_thread(paths.prepare)
    # The operator confirmed LIVE already; the detached engine has no terminal to ask on.
    argv = python_module_argv("engine.service", *(["--live", "--confirmed"] if live else []))
    argv += ["--debug"] if debug else []  # its log file at DEBUG level (engine/logs.py)
    child = spawn_detached(argv, paths.log)

    async def answers() -> bool:
        return (await engine_status(settings)).running

    try:
        status = await wait_until_ready(child, answers, timeout_s=timeout_s)
    except TimeoutError:
        raise ControlError(
            f"the engine (pid {child.pid}) did not answer on {paths.socket} within "
            f"{timeout_s:g} s; it may still be starting. See {paths.log}"
        ) from None
    if status is not None:
        raise EngineStartFailed(
            f"the engine stopped during start (exit {status}); the end of {paths.log}:\n"
            f"{log_tail(paths.log)}",
            status,
        )
    return await engine_status(settings)


@dataclass(frozen=True)
class StopReport:
    """How a stop went: who was stopped and by what means (None when nothing ran)."""

    pid: int | None
    means: str | None


async def stop_engine(settings: Settings, *, timeout_s: float = STOP_TIMEOUT_S) -> StopReport:
    """Ask the engine to stop (StopEngine), wait for its process to end, SIGTERM if it won't."""
    running = await engine_status(settings)
    if not running.running or running.pid is None:
        return StopReport(None, None)
    pid = running.pid
    async with SocketEngineClient(running.socket) as client:
        try:
            result = await client.command(CommandName.STOP_ENGINE, {})
            asked = result.ok
        except EngineNotRunning:
            asked = True  # it went away between the two questions
    if asked and await _ended(pid, timeout_s):
        return StopReport(pid, "StopEngine")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if await _ended(pid, timeout_s):
        return StopReport(pid, "SIGTERM")
    raise ControlError(
        f"the engine (pid {pid}) did not stop within {2 * timeout_s:g} s of StopEngine and "
        "SIGTERM; it is left running"
    )


async def _ended(pid: int, timeout_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pid_alive(pid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_POLL_S)
    return True
