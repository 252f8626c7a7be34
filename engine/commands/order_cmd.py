"""`spotdesk order buy|sell`: one order through the engine's risk checks, previewed and confirmed.

The order is rounded toward safety with the symbol's filters (see `preview.py`) and shown, then
previewed by the engine itself (`dry_run: true`: its rounding and every risk check, nothing
sent); it is sent only after the operator types the side (or with --yes), with the values shown
and `confirmed: true`, which is the operator's yes to an order above the soft notional limit.

`--risk-stop P` (a buy, QTY omitted) asks the engine to size the order from that stop first
(`size_from_stop`, a dry run), shows its numbers, then goes on with the quantity it gave; the
stop becomes the entry's stop-loss unless --sl or --trail says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.commands.exitcodes import EPILOG, EXIT_REFUSED, EXIT_USAGE
from engine.commands.inputs import POSITIVE_DECIMAL, SYMBOL
from engine.commands.preview import OrderWanted, PreviewRefused, preview, risk_lines
from engine.commands.session import (
    can_ask,
    complain,
    confirm,
    engine_client,
    execute,
    report,
    say,
)
from engine.config import Settings
from engine.service.api import CommandName
from engine.service.control_client import SocketEngineClient

TYPES = {"market": "market", "limit": "limit", "limit-maker": "limit_maker"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    order = subparsers.add_parser(
        "order",
        help="place one order (previewed, then confirmed)",
        description="Place one order through the same risk checks as the desk. The order is "
        "rounded to the symbol's filters toward safety and shown before anything is sent; "
        "type the side (BUY or SELL) to send it, or pass --yes. Without a terminal, --yes is "
        "required. That yes (or --yes) is also the confirmation an order above the soft "
        "notional limit needs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    order.add_argument("side", choices=("buy", "sell"), metavar="buy|sell")
    order.add_argument("symbol", type=SYMBOL, metavar="SYMBOL")
    order.add_argument(
        "qty", type=POSITIVE_DECIMAL, nargs="?", metavar="QTY", help="base asset quantity"
    )
    order.add_argument(
        "--type",
        choices=tuple(TYPES),
        default=None,
        help="order type (default: limit with --price, market without)",
    )
    order.add_argument("--price", type=POSITIVE_DECIMAL, metavar="P", help="limit price")
    order.add_argument(
        "--quote-qty",
        type=POSITIVE_DECIMAL,
        metavar="Q",
        help="market orders only: spend (buy) or receive (sell) this much of the quote asset "
        "instead of giving QTY",
    )
    order.add_argument(
        "--tif", choices=("GTC", "IOC", "FOK"), help="limit orders only (default: GTC)"
    )
    order.add_argument(
        "--risk-stop",
        type=POSITIVE_DECIMAL,
        metavar="P",
        help="buy only, instead of QTY: size the order to risk the configured share of equity "
        "(risk_per_trade) if the price falls to P; P also becomes the stop-loss unless --sl or "
        "--trail is given",
    )
    order.add_argument("--yes", action="store_true", help="send without asking")
    add_protection_options(order)
    order.set_defaults(run=_order, parser=order)


def wanted_order(args: argparse.Namespace) -> OrderWanted:
    """The order the command line asks for; a usage error (exit 2) if the options clash."""
    parser: argparse.ArgumentParser = args.parser
    kind = args.type or ("limit" if args.price is not None else "market")
    if args.risk_stop is not None:
        if args.qty is not None or args.quote_qty is not None:
            parser.error("give QTY, --quote-qty or --risk-stop (one of them)")
        if args.side != "buy":
            parser.error("--risk-stop sizes a buy")
    elif (args.qty is None) == (args.quote_qty is None):
        parser.error("give QTY or --quote-qty (one of them)")
    if args.quote_qty is not None and kind != "market":
        parser.error("--quote-qty goes with market orders only")
    if kind == "market" and args.price is not None:
        parser.error("a market order takes no --price")
    if kind != "market" and args.price is None:
        parser.error(f"a {kind} order needs --price")
    if args.tif is not None and kind != "limit":
        parser.error("--tif goes with limit orders only")
    return OrderWanted(
        symbol=args.symbol,
        side=args.side.upper(),
        kind=TYPES[kind],
        qty=args.qty,
        quote_qty=args.quote_qty,
        price=args.price,
        time_in_force=(args.tif or "GTC") if kind == "limit" else None,
    )


def _order(args: argparse.Namespace) -> int:
    asked = wanted_order(args)
    protection = protection_args(args)
    if args.risk_stop is not None and not {"stop_loss", "trailing_delta_bips"} & set(protection):
        protection["stop_loss"] = str(args.risk_stop)  # the size assumes this stop is there
    if not args.yes and not can_ask():
        complain("refusing to send an order unconfirmed: no terminal to ask on; add --yes")
        return EXIT_USAGE

    async def work(settings: Settings) -> int:
        async with engine_client(settings) as client:
            wanted = asked
            if args.risk_stop is not None:
                sized = await _sized(client, wanted, args.risk_stop)
                if isinstance(sized, int):
                    return sized
                wanted = sized
            try:
                shown = preview(wanted, await client.snapshot())
            except PreviewRefused as refusal:
                complain(f"{'usage' if refusal.usage else 'refused'}: {refusal}")
                return EXIT_USAGE if refusal.usage else EXIT_REFUSED
            say(shown.text)
            # The engine's own preview (risk checks): before asking, so the operator sees it.
            order = shown.order.args()
            checked = await client.command(CommandName.SUBMIT_ORDER, {**order, "dry_run": True})
            lines = risk_lines(checked.data)
            if lines:
                say("\n".join(lines))
            if not checked.ok:
                return report(checked)
            if not args.yes:
                prompt = f"Type {wanted.side} to send this order, anything else cancels: "
                if not await asyncio.to_thread(confirm, prompt, wanted.side):
                    complain("not confirmed; nothing sent")
                    return EXIT_REFUSED
            submitted = {**order, **protection, "confirmed": True}
            return report(await client.command(CommandName.SUBMIT_ORDER, submitted))

    return execute(work)


async def _sized(
    client: SocketEngineClient, wanted: OrderWanted, stop: Decimal
) -> OrderWanted | int:
    """The order with the quantity the engine sizes from `stop` (a dry run, its numbers shown),
    or the exit code when it cannot be sized."""
    args = {**wanted.args(), "size_from_stop": str(stop), "dry_run": True}
    sized = await client.command(CommandName.SUBMIT_ORDER, args)
    sizing = sized.data.get("sizing")
    if isinstance(sizing, Mapping):
        say("\n".join(sizing_lines(sizing)))
    quantity = sized.data.get("quantity")
    if sized.ok and sized.data.get("sizing") and isinstance(quantity, str):
        return replace(wanted, qty=Decimal(quantity))
    lines = risk_lines(sized.data)
    if lines:
        say("\n".join(lines))
    return report(sized)


def sizing_lines(sizing: Mapping[str, Any]) -> list[str]:
    """The engine's sizing from a stop, shown before the order's preview."""
    lines = [
        "Sizing from the stop (the engine's numbers):",
        f"  equity    {sizing.get('equity')} x risk {sizing.get('risk_per_trade')} = "
        f"{sizing.get('risk_amount')} at risk",
        f"  entry     {sizing.get('entry')}, stop {sizing.get('stop')}: "
        f"{sizing.get('stop_distance')} apart",
    ]
    if sizing.get("refusal"):
        lines.append(f"  refused   {sizing.get('refusal')}")
        return lines
    lines.append(
        f"  quantity  {sizing.get('quantity')}, worth {sizing.get('notional')}, "
        f"losing {sizing.get('risk_at_stop')} at the stop"
    )
    if sizing.get("cap_reason"):
        lines.append(f"  capped    {sizing.get('cap_reason')}")
    return lines


# -- protection armed when the entry fills (engine.service.protection) ---------------------------


def add_protection_options(order: argparse.ArgumentParser) -> None:
    """--sl / --tp / --trail: protection the engine places once a buy entry fills."""
    order.add_argument(
        "--sl", type=POSITIVE_DECIMAL, metavar="P", help="buy only: stop-loss price once filled"
    )
    order.add_argument(
        "--tp", type=POSITIVE_DECIMAL, metavar="P", help="buy only: take-profit price once filled"
    )
    order.add_argument(
        "--trail",
        type=int,
        metavar="BIPS",
        help="buy only: a trailing stop this many BIPS (100 = 1%%) under the high, once filled",
    )


def protection_args(args: argparse.Namespace) -> dict[str, str | int]:
    """The SubmitOrder arguments for --sl / --tp / --trail; a usage error if they clash."""
    parser: argparse.ArgumentParser = args.parser
    chosen = {
        key: value
        for key, value in (
            ("stop_loss", args.sl),
            ("take_profit", args.tp),
            ("trailing_delta_bips", args.trail),
        )
        if value is not None
    }
    if chosen and args.side != "buy":
        parser.error("--sl, --tp and --trail protect a buy entry")
    if args.sl is not None and args.trail is not None:
        parser.error("give --sl or --trail, not both")
    return {k: v if isinstance(v, int) else str(v) for k, v in chosen.items()}
