"""The panes show what the engine's snapshot holds, and a dead engine looks dead."""

from __future__ import annotations

from desk_testkit import World, until
from engine_testkit import submit

from engine.service.api import Outcome
from tui.screens.desk import DeskScreen
from tui.widgets.difftable import DiffTable


def rows(app: object, table_id: str) -> dict[str, list[str]]:
    table = app.screen.query_one(f"#{table_id}", DiffTable)  # type: ignore[attr-defined]
    return {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}


async def test_orders_positions_and_balances_come_from_the_snapshot(desk_world: World) -> None:
    engine = desk_world.engine
    resting = await submit(
        engine, symbol="BTCUSDT", side="BUY", type="limit", quantity="0.01", price="90000"
    )
    filled = await submit(engine, symbol="BTCUSDT", side="BUY", type="market", quantity="0.01")
    assert (resting.outcome, filled.outcome) == (Outcome.OK, Outcome.OK)
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: len(rows(app, "orders-table")) == 2, "both orders")
        await until(pilot, lambda: "USDT" in rows(app, "balances-table"), "balances")
        # The fill reaches the position through the user stream after the order's reply, and
        # the sellable quantity follows the balance event after it.
        await until(
            pilot,
            lambda: (
                rows(app, "positions-table").get("BTCUSDT", ["", "", ""])[1:3]
                == ["0.50999", "0.50999"]
            ),
            "the fill in the position and its balance",
        )
        orders = rows(app, "orders-table")
        resting_cid = resting.data["client_order_id"]
        filled_cid = filled.data["client_order_id"]
        # id, symbol, side, type, qty, price, state, filled, avg, origin
        assert orders[resting_cid] == [
            resting_cid,
            "BTCUSDT",
            "BUY",
            "LIMIT",
            "0.01",
            "90000",
            "NEW",
            "0",
            "-",
            "DESK",
        ]
        assert orders[filled_cid] == [
            filled_cid,
            "BTCUSDT",
            "BUY",
            "MARKET",
            "0.01",
            "-",
            "FILLED",
            "0.01",
            "95000.01",
            "DESK",
        ]
        # 0.5 BTC adopted at start (entry unknown) + 0.01 bought, less the 0.00001 BTC fee:
        # symbol, qty, sellable, mark, unrealized, SL/TP, avg entry, realized.
        assert rows(app, "positions-table")["BTCUSDT"] == [
            "BTCUSDT",
            "0.50999",
            "0.50999",
            "95000",
            "-",
            "-",
            "unknown",
            "0",
        ]
        assert rows(app, "balances-table") == {
            "BTC": ["BTC", "0.50999", "0", "0.50999"],
            # 10000 - 900 locked by the resting buy - 950.0001 paid for the market buy
            "USDT": ["USDT", "8149.9999", "900", "9049.9999"],
        }
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        assert str(screen.query_one("#trading-state").render()).strip() == "ACTIVE"
        assert screen.query_one("#mode").has_class("mode-sim")
        assert not screen.query_one("#unresolved").display


async def test_a_stopped_engine_makes_every_pane_say_stale(desk_world: World) -> None:
    app = desk_world.desk()
    async with app.run_test(size=(160, 50)) as pilot:
        banner = app.screen.query_one("#stale-banner")
        await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")
        assert not banner.display
        await desk_world.engine.stop()
        await until(pilot, lambda: app.desk_state.stale, "the feed to notice")
        await pilot.pause(0.05)
        assert banner.display
        assert str(banner.render()).startswith("STALE: engine not answering")
        panes = list(app.screen.query(".pane"))
        assert len(panes) == 7
        shown = [pane for pane in panes if pane.display]
        assert all(pane.has_class("stale") for pane in shown)
        assert all(pane.border_subtitle.startswith("STALE") for pane in shown)
        links = str(app.screen.query_one("#not-answering").render())
        assert links == "ENGINE NOT ANSWERING, last heard 0s ago"  # frozen desk clock
        assert not app.screen.query_one("#link-rest").display
