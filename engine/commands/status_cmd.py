"""`spotdesk status [--json]`: the engine's state for a person, or its snapshot for a script."""

from __future__ import annotations

import argparse
import json

from engine.commands.exitcodes import EPILOG, EXIT_OK
from engine.commands.render import render_status
from engine.commands.session import engine_client, execute, say
from engine.config import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser(
        "status",
        help="trading state, balances, positions, open orders",
        description="What the running engine knows: trading state, balances, positions, open "
        "orders and stream health. --json prints the engine's snapshot unchanged: one JSON "
        "object whose format (versioned by its `schema` field) is documented in "
        "engine/service/snapshot.py and kept stable.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    status.set_defaults(run=_status)


def _status(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        async with engine_client(settings) as client:
            snapshot = await client.snapshot()
        say(
            json.dumps(snapshot, indent=2, sort_keys=True) if args.json else render_status(snapshot)
        )
        return EXIT_OK

    return execute(work)
