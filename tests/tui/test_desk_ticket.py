"""The order ticket against a real engine: sizing from a risk stop, SL/TP armed on the fill, the
live preview with every check, the soft limit's typed confirmation, and one send only."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import pytest
from desk_testkit import World, until, world
from engine_testkit import WIDE_LIMITS, position_in

from engine.risk import RiskLimits
from engine.service.api import CommandName
from tui.app import DeskApp
from tui.screens.ticket import OrderTicket
from tui.widgets.levels import LeveledLines


async def open_ticket(app: DeskApp, pilot: object, symbol: str) -> OrderTicket:
    await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")  # type: ignore[arg-type]
    await pilot.press("n")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket")  # type: ignore[arg-type]
    ticket = app.screen
    assert isinstance(ticket, OrderTicket)
    await pilot.press(*symbol)  # type: ignore[attr-defined]
    return ticket


def preview_text(ticket: OrderTicket) -> str:
    return str(ticket.query_one("#preview").render())


def checks(ticket: OrderTicket) -> list[str]:
    lines = ticket.query_one("#checks", LeveledLines).query(".leveled")
    return [str(line.render()) for line in lines]


async def test_a_risk_stop_sizes_the_order_and_arms_its_protection(desk_world: World) -> None:
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        ticket = await open_ticket(app, pilot, "BTCUSDT")
        app.set_focus(ticket.query_one("#risk-stop"))
        await pilot.press(*"50000")  # no Enter: the preview comes by itself
        app.set_focus(ticket.query_one("#take-profit"))
        await pilot.press(*"99000")
        send = ticket.query_one("#send")
        await until(pilot, lambda: not send.disabled, "the live preview's go-ahead")
        # equity 10000 USDT + 0.5 BTC at 95000 = 57500; 1% of it over 95000 - 50000 per BTC.
        assert preview_text(ticket).splitlines()[:3] == [
            "BUY BTC with USDT: 0.01277 BTC market, value 1213.15 USDT, fee about 1.21315 USDT",
            "sized from the stop 50000: 1% of equity 57500 = 575 USDT at risk over 45000 per BTC",
            "once filled, rests on the exchange: stop-loss 50000, take-profit 99000",
        ]
        rules = [line.split()[1] for line in checks(ticket)]
        assert len(rules) == 15
        assert not [line for line in checks(ticket) if line.startswith("FAIL")]
        balance = next(line for line in checks(ticket) if " balance " in line)
        assert balance == (
            "ok   balance          needs 1214.36315 USDT (1213.15 plus an estimated fee 1.21315); "
            "10000 USDT is free (0 locked is not available)"
        )
        assert app.sender.history == []
        app.set_focus(send)
        await pilot.press("enter", "enter")
        await until(pilot, lambda: not isinstance(app.screen, OrderTicket), "the ticket to close")
    [(name, args)] = [(s.name, s.args) for s in app.sender.history]
    assert name is CommandName.SUBMIT_ORDER
    assert args == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "market",
        "take_profit": "99000",
        "quantity": "0.01277",
        "stop_loss": "50000",
    }
    engine = desk_world.engine

    async def protected() -> bool:
        position = position_in(await engine.snapshot(), "BTCUSDT") or {}
        return (position.get("protection") or {}).get("status") == "ACTIVE"

    while not await protected():
        await pilot.pause(0.05)
    protection = (position_in(await engine.snapshot(), "BTCUSDT") or {})["protection"]
    assert (protection["stop_loss"], protection["take_profit"]) == ("50000.00", "99000.00")
    orders = await desk_world.oracle_orders()
    assert (orders[0]["type"], orders[0]["origQty"]) == ("MARKET", "0.01277000")


async def test_editing_after_a_preview_disables_send_until_the_next_one(
    desk_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No typing pause ends during the test (on a slow machine one could end, and bring the next
    # preview, before the check that the edit disabled Send): Enter asks for the preview. The
    # pause's own preview is the first test's.
    monkeypatch.setattr("tui.screens.ticket.PREVIEW_DELAY_S", 3600.0)
    app = desk_world.desk()
    async with app.run_test(size=(80, 24)) as pilot:
        ticket = await open_ticket(app, pilot, "BTCUSDT")
        app.set_focus(ticket.query_one("#quantity"))
        await pilot.press(*"0.001", "enter")
        send = ticket.query_one("#send")
        await until(pilot, lambda: not send.disabled, "the preview")
        await pilot.press("2")  # 0.0012: what was previewed is not what is typed any more
        assert send.disabled
        assert ticket.query_one("#preview-box").has_class("outdated")
        await pilot.press("enter")
        await until(pilot, lambda: "0.0012 BTC" in preview_text(ticket), "the new preview")
        await until(pilot, lambda: not send.disabled, "the go-ahead again")
    assert app.sender.history == []


async def test_above_the_soft_limit_the_side_must_be_typed(tmp_path: pathlib.Path) -> None:
    limits = RiskLimits(**{**WIDE_LIMITS.model_dump(), "soft_notional_limit": Decimal(500)})
    async with world(tmp_path, limits) as built:
        app = built.desk()
        async with app.run_test(size=(160, 50)) as pilot:
            ticket = await open_ticket(app, pilot, "BTCUSDT")
            app.set_focus(ticket.query_one("#quantity"))
            await pilot.press(*"0.01", "enter")  # 950 USDT
            word = ticket.query_one("#confirm-word")
            await until(pilot, lambda: not word.has_class("hidden"), "the typed confirmation")
            assert app.focused is word
            send = ticket.query_one("#send")
            await pilot.press("enter", *"SEL", "enter")  # wrong or unfinished: nothing goes
            assert send.disabled and app.sender.history == []
            await pilot.press("backspace", "backspace", "backspace", *"BUY", "enter", "enter")
            await until(pilot, lambda: not isinstance(app.screen, OrderTicket), "the send")
        [sent] = app.sender.history
        assert sent.args["confirmed"] is True and sent.result.ok
        [order] = await built.oracle_orders()
        assert (order["side"], order["origQty"], order["status"]) == ("BUY", "0.01000000", "FILLED")
