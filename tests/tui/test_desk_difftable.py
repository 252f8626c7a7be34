"""DiffTable and TablePane: rows updated by difference, columns that grow with their values,
plain-text cells, and big tables redrawn at most once an interval."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from tui.state import DeskState
from tui.widgets.difftable import DiffTable
from tui.widgets.tablepane import BIG_TABLE_ROWS, TablePane
from tui.widgets.tables import ORDERS

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffTable([("symbol", "Symbol"), ("mark", "Mark")])


async def test_a_value_that_outgrows_its_column_widens_it() -> None:
    app = _TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DiffTable)
        table.show_rows({"BTCUSDT": ("BTCUSDT", "-")})
        await pilot.pause()
        table.show_rows({"BTCUSDT": ("BTCUSDT", "95010.41")})
        await pilot.pause()
        assert table.columns["mark"].content_width >= len("95010.41")
        assert str(table.get_cell("BTCUSDT", "mark")) == "95010.41"


async def test_rows_are_added_updated_and_removed_by_key() -> None:
    app = _TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DiffTable)
        table.show_rows({"A": ("A", "1"), "B": ("B", "2")})
        table.show_rows({"B": ("B", "3"), "C": ("C", "4")})
        await pilot.pause()
        assert [str(key.value) for key in table.rows] == ["B", "C"]
        assert str(table.get_cell("B", "mark")) == "3"


async def test_cells_are_plain_text_never_markup() -> None:
    app = _TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DiffTable)
        table.show_rows({"A": ("[b]A[/b]", "[/oops]")})
        await pilot.pause()
        assert [str(cell) for cell in table.get_row("A")] == ["[b]A[/b]", "[/oops]"]


class _PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TablePane(ORDERS)


def _orders(count: int, state: str) -> DeskState:
    orders = [
        {"client_order_id": f"o{n}", "symbol": "BTCUSDT", "qty": "1", "state": state}
        for n in range(count)
    ]
    return DeskState().with_snapshot({"orders": {"open": orders, "recent": []}}, NOW)


async def test_a_big_table_is_redrawn_once_an_interval_and_staleness_at_once() -> None:
    app = _PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TablePane)
        pane.show_state(_orders(BIG_TABLE_ROWS + 1, "NEW"))
        await pilot.pause()
        pane.show_state(_orders(BIG_TABLE_ROWS + 1, "FILLED"))  # held back...
        state_of_o0 = lambda: str(pane.table.get_row("o0")[6])  # noqa: E731
        assert state_of_o0() == "NEW"
        assert pane._pending is not None
        pane._pending.stop()
        pane._show_latest()  # ...until the interval's timer fires
        assert state_of_o0() == "FILLED"
        pane.show_state(_orders(BIG_TABLE_ROWS + 1, "CANCELED").with_stale("gone"))
        assert pane.has_class("stale") and state_of_o0() == "CANCELED"  # at once
