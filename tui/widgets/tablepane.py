"""`TablePane`: a bordered pane around one `DiffTable`, marked stale when the feed is.

A big table is redrawn at most once a second: any change to a DataTable re-renders every row on
screen (measured: 40-180 ms a frame for 200 orders), and nobody reads 200 rows changing four
times a second. Small tables, and every change of staleness, are shown at once.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer

from tui.state import DeskState
from tui.widgets.borders import show_borders
from tui.widgets.difftable import DiffTable
from tui.widgets.tables import TableSpec

BIG_TABLE_ROWS = 50
BIG_TABLE_INTERVAL_S = 1.0


class TablePane(Vertical):
    """One table of the desk; its rows come from `spec.rows(state)`."""

    def __init__(self, spec: TableSpec) -> None:
        super().__init__(id=spec.pane_id, classes="pane")
        self.spec = spec
        self.border_title = spec.title
        if spec.hide_when_empty:
            self.display = False
        self._latest: DeskState | None = None
        self._shown_stale: bool | None = None
        self._pending: Timer | None = None

    def compose(self) -> ComposeResult:
        yield DiffTable(self.spec.columns, id=f"{self.spec.pane_id}-table")

    @property
    def table(self) -> DiffTable:
        return self.query_one(DiffTable)

    def show_state(self, state: DeskState) -> None:
        self._latest = state
        big = self.table.row_count > BIG_TABLE_ROWS
        if big and state.stale == self._shown_stale:
            if self._pending is None:  # the latest state goes up when the interval ends
                self._pending = self.set_timer(BIG_TABLE_INTERVAL_S, self._show_latest)
            return
        self._show(state)

    def _show_latest(self) -> None:
        self._pending = None
        if self._latest is not None:
            self._show(self._latest)

    def _show(self, state: DeskState) -> None:
        rows = self.spec.rows(state)
        self.table.show_rows(rows)
        self._shown_stale = state.stale
        self.set_class(state.stale, "stale")
        title = f"{self.spec.title} ({len(rows)})"
        show_borders(self, title=title, subtitle="STALE" if state.stale else "")
        if self.spec.hide_when_empty:
            self.display = bool(rows)
