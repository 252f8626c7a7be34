"""`spotdesk panic [--flatten] [--yes]`: the emergency stop, through the engine when it answers,
else straight over REST (see `panic_rest.py`), printing each phase and what is left."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from engine.commands.exitcodes import EPILOG, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE
from engine.commands.session import can_ask, complain, confirm, engine_client, execute, report, say
from engine.config import Settings
from engine.service.api import CommandName
from engine.service.control_errors import ControlError

PROBE_TIMEOUT_S = 3.0  # an engine that does not answer a snapshot by then counts as wedged


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    panic = subparsers.add_parser(
        "panic",
        help="emergency stop: halt, cancel every open order, optionally sell everything",
        description="Halt trading, cancel every open order on every symbol (OCO lists and "
        "protective orders included) and check with the exchange that none is left; with "
        "--flatten also sell every position at market. Through the engine when it answers; "
        "when it is dead or wedged, the same steps straight over REST. Trading stays HALTED "
        "until `spotdesk arm`.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    panic.add_argument("--flatten", action="store_true", help="also sell every position")
    panic.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    panic.add_argument("--reason", default="panic (command line)", help="for the audit trail")
    panic.set_defaults(run=_panic)


def _panic(args: argparse.Namespace) -> int:
    if not args.yes:
        if not can_ask():
            complain("panic cancels every order: confirm on a terminal, or add --yes")
            return EXIT_USAGE
        what = (
            "cancel every open order and SELL EVERY POSITION"
            if args.flatten
            else ("cancel every open order")
        )
        if not confirm(f"Halt and {what}? Type PANIC to go on: ", "PANIC"):
            complain("not confirmed; nothing done")
            return EXIT_REFUSED
    reason = args.reason.strip() or "panic (command line)"

    async def work(settings: Settings) -> int:
        async with engine_client(settings) as client:
            try:
                await asyncio.wait_for(client.snapshot(), PROBE_TIMEOUT_S)
            except (ControlError, TimeoutError, OSError) as error:
                detail = "timed out" if isinstance(error, TimeoutError) else str(error)
                say(f"no engine answers ({detail}): emergency stop straight over REST")
            else:
                say("emergency stop through the engine")
                args_: dict[str, Any] = {"flatten": args.flatten, "reason": reason}
                result = await client.command(CommandName.EMERGENCY_STOP, args_)
                _print_left(result.data)
                return report(result)
        return await _over_rest(settings, flatten=args.flatten, reason=reason)

    return execute(work)


async def _over_rest(settings: Settings, *, flatten: bool, reason: str) -> int:
    # Imported here: they bring python-binance, which the desk's own start never needs.
    from engine.commands.panic_rest import RestEmergencyStop
    from engine.venue.errors import VenueError

    try:
        stop = RestEmergencyStop(settings, say)
        result = await stop.run(flatten=flatten, reason=reason)
    except (VenueError, ValueError) as error:
        complain(f"emergency stop over REST failed: {error}")
        return EXIT_UNAVAILABLE
    _print_left(
        {
            "orders_left": result.orders_left,
            "positions_left": result.positions_left,
            "dust": result.dust,
        }
    )
    if result.ok:
        say("emergency stop done over REST: nothing left")
        return EXIT_OK
    complain("emergency stop over REST incomplete: see what is left above")
    return EXIT_UNAVAILABLE


def _print_left(data: dict[str, Any]) -> None:
    for symbol, ids in sorted((data.get("orders_left") or {}).items()):
        say(f"  still open on {symbol}: {', '.join(ids)}")
    for symbol, why in sorted((data.get("positions_left") or {}).items()):
        say(f"  position left in {symbol}: {why}")
    for symbol, qty in sorted((data.get("dust") or {}).items()):
        say(f"  dust in {symbol}: {qty} (below the exchange's minimums)")
