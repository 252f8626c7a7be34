"""`spotdesk order buy SYMBOL --risk-stop P` against a fake engine: the engine sizes the order
(a dry run), the preview shows its numbers, and the order goes out with that quantity and the
stop as its stop-loss; QTY with --risk-stop is a usage error."""

from __future__ import annotations

from typing import Any

from cli_testkit import Ran
from test_cli_commands import Desk, base, desk  # noqa: F401  (the fixtures)

from engine.service.api import CommandName, CommandResult, Outcome

SIZING = {
    "quantity": "0.5",
    "equity": "1000",
    "risk_per_trade": "0.01",
    "risk_amount": "10",
    "entry": "100.12",
    "stop": "80",
    "stop_distance": "20.12",
    "notional": "50.06",
    "risk_at_stop": "10.06",
    "capped_by": "ORDER_VALUE",
    "cap_reason": "capped at 0.5 by the maximum order value 50.1 USDT at entry 100.12",
    "refusal": None,
}


def sizing_engine(name: CommandName, args: dict[str, Any]) -> CommandResult:
    if "size_from_stop" in args:
        return CommandResult(Outcome.OK, "preview", {"quantity": "0.5", "sizing": SIZING})
    return CommandResult(Outcome.OK, "order sd-1-7 accepted (NEW)", {"client_order_id": "sd-1-7"})


async def test_risk_stop_sizes_previews_and_sends_with_the_stop(desk: Desk) -> None:  # noqa: F811
    desk.engine.responder = sizing_engine
    ran = await desk.run(
        "order", "buy", "BTCUSDT", "--risk-stop", "80", "--price", "100.129", "--yes"
    )
    assert ran == Ran(
        0,
        "Sizing from the stop (the engine's numbers):\n"
        "  equity    1000 x risk 0.01 = 10 at risk\n"
        "  entry     100.12, stop 80: 20.12 apart\n"
        "  quantity  0.5, worth 50.06, losing 10.06 at the stop\n"
        "  capped    capped at 0.5 by the maximum order value 50.1 USDT at entry 100.12\n"
        "Order preview: SIM, account default\n"
        "  side      BUY: buy BTC, pay USDT\n"
        "  symbol    BTCUSDT\n"
        "  type      LIMIT, GTC\n"
        "  quantity  0.5000 BTC\n"  # the preview floors to the step
        "  price     100.12 USDT (asked 100.129, tick 0.01)\n"
        "  notional  50.06 USDT\n"
        "order sd-1-7 accepted (NEW)\n",
        "",
    )
    asked = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "limit",
        "price": "100.129",
        "time_in_force": "GTC",
    }
    sent = {**asked, "quantity": "0.5000", "price": "100.12"}
    assert desk.engine.commands == [
        (CommandName.SUBMIT_ORDER, {**asked, "size_from_stop": "80", "dry_run": True}),
        (CommandName.SUBMIT_ORDER, {**sent, "dry_run": True}),
        (CommandName.SUBMIT_ORDER, {**sent, "stop_loss": "80", "confirmed": True}),
    ]


async def test_risk_stop_with_qty_or_a_sell_is_a_usage_error(desk: Desk) -> None:  # noqa: F811
    both = await desk.run("order", "buy", "BTCUSDT", "1", "--risk-stop", "80", "--yes")
    sell = await desk.run("order", "sell", "BTCUSDT", "--risk-stop", "80", "--yes")
    assert [r.err.splitlines()[-1] for r in (both, sell)] == [
        "spotdesk order: error: give QTY, --quote-qty or --risk-stop (one of them)",
        "spotdesk order: error: --risk-stop sizes a buy",
    ]
    assert {both.code, sell.code} == {2}
    assert desk.engine.commands == []


async def test_a_refused_sizing_shows_its_numbers_and_sends_nothing(desk: Desk) -> None:  # noqa: F811
    refusal = "the stop 120 is not below the entry 100.05: a long position's stop must be below"
    numbers = {**SIZING, "quantity": "0", "stop": "120", "refusal": refusal}
    desk.engine.responder = lambda name, args: CommandResult(
        Outcome.REFUSED, f"refused by sizing: {refusal}", {"sizing": numbers}
    )
    ran = await desk.run("order", "buy", "BTCUSDT", "--risk-stop", "120", "--yes")
    assert ran.code == 3
    assert ran.out.splitlines()[-1] == f"  refused   {refusal}"
    assert ran.err == f"spotdesk: refused: refused by sizing: {refusal}\n"
    assert len(desk.engine.commands) == 1
