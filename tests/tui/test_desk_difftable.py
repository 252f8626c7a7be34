"""DiffTable: rows updated by difference, and columns that grow with their values."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.difftable import DiffTable


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
        assert table.get_cell("BTCUSDT", "mark") == "95010.41"


async def test_rows_are_added_updated_and_removed_by_key() -> None:
    app = _TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DiffTable)
        table.show_rows({"A": ("A", "1"), "B": ("B", "2")})
        table.show_rows({"B": ("B", "3"), "C": ("C", "4")})
        await pilot.pause()
        assert [str(key.value) for key in table.rows] == ["B", "C"]
        assert table.get_cell("B", "mark") == "3"
