"""The operator's actions, driven by keys through Pilot against a real engine."""

from __future__ import annotations

from desk_testkit import World, until
from engine_testkit import submit

from engine.service.api import CommandName
from tui.app import DeskApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.emergency import EmergencyScreen
from tui.screens.ticket import OrderTicket
from tui.widgets.difftable import DiffTable


async def test_the_ticket_sends_exactly_one_order_despite_a_double_enter(
    desk_world: World,
) -> None:
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket")
        ticket = app.screen
        assert app.focused is ticket.query_one("#symbol")
        await pilot.press(*"btcusdt", "tab")  # to the side: BUY by default
        app.set_focus(ticket.query_one("#quantity"))
        await pilot.press(*"0.012345", "enter", "enter")  # preview; the 2nd Enter must not send
        send = ticket.query_one("#send")
        await until(pilot, lambda: not send.disabled, "the engine's preview")
        preview = str(ticket.query_one("#preview").render())
        assert preview.startswith("BUY BTC with USDT: 0.01234 BTC market")
        assert "quantity 0.012345 rounded down to 0.01234 (step 0.00001)" in preview
        assert app.sender.count(CommandName.SUBMIT_ORDER) == 0
        assert await desk_world.oracle_orders() == []
        app.set_focus(send)
        await pilot.press("enter", "enter", "enter")
        await until(pilot, lambda: not isinstance(app.screen, OrderTicket), "the ticket to close")
        await pilot.press("enter")
        await pilot.pause(0.1)
    assert app.sender.count(CommandName.SUBMIT_ORDER) == 1
    orders = await desk_world.oracle_orders()
    assert [(o["symbol"], o["side"], o["type"], o["origQty"]) for o in orders] == [
        ("BTCUSDT", "BUY", "MARKET", "0.01234000")
    ]


async def test_an_unknown_symbol_is_refused_before_the_engine_is_asked(
    desk_world: World,
) -> None:
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket")
        await pilot.press(*"btcusdc")
        app.set_focus(app.screen.query_one("#quantity"))
        await pilot.press("1", "enter")
        await pilot.pause(0.1)
        preview = str(app.screen.query_one("#preview").render())
        assert preview == (
            "Not sendable: unknown symbol (this engine trades: BNBUSDT, BTCUSDT, ETHUSDT)"
        )
        assert app.screen.query_one("#send").disabled
    assert app.sender.history == []


async def test_cancel_selected_order(desk_world: World) -> None:
    resting = await submit(
        desk_world.engine,
        symbol="BTCUSDT",
        side="BUY",
        type="limit",
        quantity="0.01",
        price="90000",
    )
    cid = resting.data["client_order_id"]
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one("#orders-table", DiffTable)
        await until(pilot, lambda: table.row_count == 1, "the resting order")
        table.focus()
        assert table.selected_key == cid
        await pilot.press("c")
        await until(
            pilot,
            lambda: any(
                o["client_order_id"] == cid and o["state"] == "CANCELED"
                for o in app.desk_state.recent_orders
            ),
            "the cancel to land",
        )
        assert str(table.get_row(cid)[6]) == "CANCELED"
    assert app.sender.count(CommandName.CANCEL_ORDER) == 1
    [order] = await desk_world.oracle_orders()
    assert order["status"] == "CANCELED"


async def test_cancel_all_asks_first(desk_world: World) -> None:
    await submit(
        desk_world.engine,
        symbol="BTCUSDT",
        side="BUY",
        type="limit",
        quantity="0.01",
        price="90000",
    )
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: len(app.desk_state.open_orders) == 1, "the resting order")
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("enter")  # focus starts on Cancel: Enter says no
        await pilot.pause(0.05)
        assert app.sender.history == []
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: not app.desk_state.open_orders, "the orders to go")
    assert app.sender.count(CommandName.CANCEL_ALL_ORDERS) == 1


def emergency_screens(app: DeskApp) -> list[EmergencyScreen]:
    return [s for s in app.screen_stack if isinstance(s, EmergencyScreen)]


async def test_cancelling_the_emergency_modal_sends_nothing(desk_world: World) -> None:
    app = desk_world.desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")
        await pilot.press("ctrl+k")
        await until(pilot, lambda: len(emergency_screens(app)) == 1, "the modal")
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.press("enter")  # Enter on the focused Cancel button
        await pilot.pause(0.05)
        assert emergency_screens(app) == []
        await pilot.press("ctrl+k", "escape")
        await pilot.pause(0.05)
        assert emergency_screens(app) == []
    assert app.sender.history == []
    assert (await desk_world.engine.snapshot())["trading_state"] == "ACTIVE"


async def test_confirming_the_emergency_stop_sends_it_once_and_shows_halted(
    desk_world: World,
) -> None:
    await submit(
        desk_world.engine,
        symbol="BTCUSDT",
        side="BUY",
        type="limit",
        quantity="0.01",
        price="90000",
    )
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: len(app.desk_state.open_orders) == 1, "the resting order")
        await until(
            pilot,
            lambda: any(m.get("symbol") == "BTCUSDT" for m in app.desk_state.marks),
            "BTCUSDT's mark",
        )
        app.set_focus(app.screen.query_one("#log-symbol"))  # ctrl+k works from an input too
        await pilot.press("ctrl+k")
        await until(pilot, lambda: len(emergency_screens(app)) == 1, "the modal")
        modal = emergency_screens(app)[0]
        plan = str(modal.query_one("#emergency-plan").render())
        assert "Cancel all 1 open order(s) on BTCUSDT" in plan
        assert "BTCUSDT 0.5 at mark 95000" in plan
        await pilot.press("ctrl+k", "y", "y", "ctrl+k", "y")
        assert len(emergency_screens(app)) == 1
        await until(pilot, lambda: app.desk_state.trading_state == "HALTED", "the halt")
        progress = modal.query_one("#emergency-progress")
        await until(pilot, lambda: "Result: ok" in str(progress.render()), "the result")
        text = str(progress.render())
        assert "Emergency stop done (1): nothing left" in text
        header = app.screen_stack[0].query_one("#trading-state")
        assert header.has_class("state-halted")
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert emergency_screens(app) == []
    assert [sent.name for sent in app.sender.history] == [CommandName.EMERGENCY_STOP]
    [order] = await desk_world.oracle_orders()
    assert order["status"] == "CANCELED"
