"""`spotdesk cancel`, `close`, `halt`, `reduce` and `arm`: one command each, sent to the running
engine."""

from __future__ import annotations

import argparse
from typing import Any

from engine.commands.exitcodes import EPILOG, EXIT_REFUSED, EXIT_USAGE
from engine.commands.inputs import SYMBOL
from engine.commands.session import can_ask, complain, confirm, engine_client, execute, report
from engine.config import Settings
from engine.core.ids import is_valid_client_order_id
from engine.service.api import CommandName


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cancel = _add(subparsers, "cancel", "cancel one order by client order id, or all of them")
    cancel.add_argument("client_order_id", nargs="?", metavar="CLIENT_ORDER_ID")
    cancel.add_argument("--all", action="store_true", help="cancel every open order")
    cancel.add_argument("--symbol", type=SYMBOL, help="with --all: only this symbol's orders")
    cancel.set_defaults(run=_cancel, parser=cancel)

    close = _add(subparsers, "close", "sell a symbol's whole position at market")
    close.add_argument("symbol", type=SYMBOL, metavar="SYMBOL")
    close.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    close.set_defaults(run=_close)

    for name, command, text in (
        ("halt", CommandName.HALT, "stop new orders (cancels and reconciliation still run)"),
        ("reduce", CommandName.REDUCE, "allow only orders that reduce positions (sells)"),
        ("arm", CommandName.ARM, "allow new orders again after a halt"),
    ):
        parser = _add(subparsers, name, text)
        parser.add_argument("--reason", required=True, help="why, for the audit trail")
        parser.set_defaults(run=_simple, command=command)


def _add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name,
        help=text,
        description=text,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _send(name: CommandName, args: dict[str, Any]) -> int:
    async def work(settings: Settings) -> int:
        async with engine_client(settings) as client:
            return report(await client.command(name, args))

    return execute(work)


def _cancel(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.all == (args.client_order_id is not None):
        parser.error("give either CLIENT_ORDER_ID or --all")
    if args.all:
        return _send(CommandName.CANCEL_ALL_ORDERS, {"symbol": args.symbol})
    if args.symbol is not None:
        parser.error("--symbol goes with --all")
    if not is_valid_client_order_id(args.client_order_id):
        parser.error("CLIENT_ORDER_ID must be 1-36 characters of letters, digits, _ and -")
    return _send(CommandName.CANCEL_ORDER, {"client_order_id": args.client_order_id})


def _close(args: argparse.Namespace) -> int:
    if not args.yes:
        if not can_ask():
            complain("close sells at market: confirm on a terminal, or add --yes")
            return EXIT_USAGE
        prompt = f"Sell the whole {args.symbol} position at market? Type CLOSE to go on: "
        if not confirm(prompt, "CLOSE"):
            complain("not confirmed; nothing sent")
            return EXIT_REFUSED
    return _send(CommandName.CLOSE_POSITION, {"symbol": args.symbol})


def _simple(args: argparse.Namespace) -> int:
    reason = args.reason.strip()
    if not reason:
        complain("--reason must say something")
        return EXIT_USAGE
    return _send(args.command, {"reason": reason})
