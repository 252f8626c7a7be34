"""The scripted engine's answers (`tui.scenario`): the dry run of the ticket's order, refused by
three limits with the numbers a real engine gives for that account; every other command refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.service.api import CommandName, CommandResult, Outcome

TICKET_ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "market", "quantity": "0.05"}

Json = dict[str, Any]


def _check(rule: str, passed: bool, message: str, level: str = "ok", **values: str) -> Json:
    return {"rule": rule, "passed": passed, "level": level, "message": message, "values": values}


def ticket_preview() -> CommandResult:
    """The engine's dry run of `TICKET_ORDER`: three limits refuse it, with their numbers."""
    checks = [
        _check("TRADING_STATE", True, "trading is ACTIVE", state="ACTIVE", reason=""),
        _check("SYMBOL", True, "BTCUSDT may be bought", symbol="BTCUSDT"),
        _check("EXCHANGE_FILTERS", True, "passes BTCUSDT's exchange filters", quantity="0.05"),
        _check("ORDER_RATE", True, "1 orders sent in the last 60 s; the limit is 10 per minute"),
        _check(
            "BALANCE",
            True,
            "needs 4754.75 USDT (4750 plus an estimated fee 4.75); 7551.2034 USDT is free "
            "(450 locked is not available)",
            asset="USDT",
            free="7551.2034",
            locked="450",
            cost="4750",
            fee="4.75",
            need="4754.75",
        ),
        _check("NO_SHORT", True, "a buy cannot open a short"),
        _check("DAILY_LOSS", True, "today's loss would be 7.1 USDT, 2.36% of the limit 300 USDT"),
        _check("DAILY_TRADES", True, "buy 42 of 50 on trading day 2026-01-05", "warning"),
        _check("OPEN_POSITIONS", True, "2 of 5 open positions after this order"),
        _check(
            "ORDER_VALUE", False, "order value 4750 USDT is above the maximum 2000 USDT", "breach"
        ),
        _check(
            "POSITION_VALUE",
            False,
            "the BTCUSDT position would be 7100 USDT (held 1900, resting buys 450, this order "
            "4750); the maximum is 2500 USDT",
            "breach",
        ),
        _check(
            "POSITION_SHARE",
            False,
            "the BTCUSDT position would be 7100 USDT, 62.85% of equity 11296.4534 USDT; the "
            "limit is 25% (2824.11335 USDT)",
            "breach",
        ),
        _check("TOTAL_EXPOSURE", True, "total exposure would be 8500 USDT of the 6000 USDT limit"),
        _check(
            "LONG_EXPOSURE",
            True,
            "long exposure would be 8500 USDT, 75.24% of equity 11296.4534 USDT; the limit is "
            "70% (7907.51738 USDT)",
            "warning",
        ),
        _check(
            "SOFT_NOTIONAL",
            True,
            "order value 4750 USDT is above the soft limit 1000 USDT: it needs an explicit "
            "confirmation",
            "warning",
        ),
    ]
    refusal = f"ORDER_VALUE: {checks[9]['message']}"
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "qty": "0.05000"}
    data: Json = {
        **{k: v for k, v in order.items() if k != "qty"},
        "time_in_force": None,
        "quantity": "0.05000",
        "quote_quantity": None,
        "price": None,
        "requested_quantity": "0.05",
        "requested_price": None,
        "adjusted": [],
        "risk": {
            "allowed": False,
            "needs_confirmation": True,
            "refusal": refusal,
            "order": {
                **order,
                "quote_qty": None,
                "price": None,
                "stop_price": None,
                "confirmed": False,
            },
            "adjusted": [],
            "notional": "4750",
            "checks": checks,
        },
        "dry_run": True,
    }
    return CommandResult(Outcome.REFUSED, f"refused by risk: {refusal}", data)


def answer(name: CommandName, args: Mapping[str, Any]) -> CommandResult:
    """The script's engine: previews the ticket's order; refuses everything else."""
    asked = {key: str(value).upper() for key, value in args.items() if key != "dry_run"}
    wanted = {key: value.upper() for key, value in TICKET_ORDER.items()}
    if name is CommandName.SUBMIT_ORDER and args.get("dry_run") and asked == wanted:
        return ticket_preview()
    return CommandResult(Outcome.REFUSED, f"{name.value}: not in this script")
