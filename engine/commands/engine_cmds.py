"""`spotdesk engine start|stop|status|run`: the engine service's life."""

from __future__ import annotations

import argparse
import json
import os

from engine.commands.exitcodes import EPILOG, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from engine.commands.session import can_ask, complain, confirm, execute, say
from engine.config import Mode, Settings
from engine.service import process
from engine.service.heap import settle_heap
from engine.service.process import EngineStartFailed, EngineStatus


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    engine = subparsers.add_parser(
        "engine",
        help="start, stop or ask the engine service",
        description="The engine is its own process, one per mode and account; the desk and "
        "these commands talk to it through its control socket.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = engine.add_subparsers(dest="engine_action", metavar="ACTION", required=True)
    for name, run, text in (
        ("start", _start, "start the engine in the background and wait until it answers"),
        ("run", _run, "run the engine in the foreground until Ctrl-C, SIGTERM or stop"),
    ):
        parser = actions.add_parser(name, help=text, description=text, epilog=EPILOG)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.add_argument(
            "--live",
            action="store_true",
            help="allow LIVE mode (real money); it also asks you to type LIVE",
        )
        # Set by `engine start` for the engine it spawns, once the operator has confirmed.
        parser.add_argument("--confirmed", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument(  # also `spotdesk --debug engine ...`; SUPPRESS keeps that one
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="the engine logs at DEBUG level (secrets stay masked)",
        )
        parser.set_defaults(run=run)
    stop = actions.add_parser(
        "stop",
        help="stop the engine gracefully (resting orders stay on the exchange)",
        description="Ask the engine to stop (StopEngine), wait until it has; SIGTERM if it "
        "does not. Stopping an engine that is not running is not an error.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stop.set_defaults(run=_stop)
    status = actions.add_parser(
        "status",
        help="whether the engine runs: pid, mode, account, socket, log",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="print it as one JSON object")
    status.set_defaults(run=_status)


LIVE_WAITS = "  LIVE: nothing connects to Binance until you type LIVE in the desk (spotdesk desk)"


def _live_allowed(settings: Settings, args: argparse.Namespace) -> bool:
    """LIVE needs the configuration, --live and a typed confirmation (DESIGN.md 4.6)."""
    if settings.mode is not Mode.LIVE or args.confirmed:
        return True
    if not args.live:
        complain("LIVE mode trades real money: add --live to start the engine in it")
        return False
    if not can_ask():
        complain("LIVE mode needs a typed confirmation, and there is no terminal to ask on")
        return False
    if not confirm("LIVE mode: orders will trade real money. Type LIVE to go on: ", "LIVE"):
        complain("not confirmed; nothing started")
        return False
    return True


def _describe(status: EngineStatus) -> str:
    identity = status.identity
    return (
        f"pid {status.pid}, mode {identity.get('mode')}, account {identity.get('account')}\n"
        f"  socket  {status.socket}\n"
        f"  log     {identity.get('log')}"
    )


def _start(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        if not _live_allowed(settings, args):
            return EXIT_REFUSED
        live = settings.mode is Mode.LIVE
        try:
            status = await process.start_engine(
                settings, live=live, debug=getattr(args, "debug", False)
            )
        except EngineStartFailed as error:
            complain(str(error))
            return EXIT_REFUSED if error.exit_status == EXIT_REFUSED else EXIT_UNAVAILABLE
        say(f"spotdesk engine: started, {_describe(status)}")
        if live:
            say(LIVE_WAITS)
        return EXIT_OK

    return execute(work)


def _run(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        if not _live_allowed(settings, args):
            return EXIT_REFUSED

        # Its story goes to logs/engine.log at INFO (DEBUG with --debug), warnings to stderr
        # (engine.log when detached): engine/logs.py, set up by the command line.
        os.umask(0o077)  # every file the engine process creates is private (RELIABILITY.md S8)

        def ready(status: EngineStatus) -> None:
            settle_heap()  # started: keep the start-up heap out of every later collection
            say(f"spotdesk engine: running, {_describe(status)}")
            if settings.mode is Mode.LIVE:
                say(LIVE_WAITS)

        await process.run_engine(settings, live=settings.mode is Mode.LIVE, on_ready=ready)
        say("spotdesk engine: stopped")
        return EXIT_OK

    return execute(work)


def _stop(_args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        report = await process.stop_engine(settings)
        if report.pid is None:
            say(f"spotdesk engine: not running ({process.instance_paths(settings).socket})")
        else:
            say(f"spotdesk engine: stopped (pid {report.pid}, by {report.means})")
        return EXIT_OK

    return execute(work)


def _status(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        status = await process.engine_status(settings)
        if args.json:
            body = {"running": status.running, "socket": str(status.socket), **status.identity}
            say(json.dumps(body, indent=2, sort_keys=True))
        elif status.running:
            say(f"spotdesk engine: running, {_describe(status)}")
        else:
            say(f"spotdesk engine: not running (no answer on {status.socket})")
            say("  start it with: spotdesk engine start")
        return EXIT_OK if status.running else EXIT_UNAVAILABLE

    return execute(work)
