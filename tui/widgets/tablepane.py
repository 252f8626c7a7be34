"""`TablePane`: a bordered pane around one `DiffTable`, marked stale when the feed is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from tui.state import DeskState
from tui.widgets.difftable import DiffTable
from tui.widgets.tables import TableSpec


class TablePane(Vertical):
    """One table of the desk; its rows come from `spec.rows(state)`."""

    def __init__(self, spec: TableSpec) -> None:
        super().__init__(id=spec.pane_id, classes="pane")
        self.spec = spec
        self.border_title = spec.title
        if spec.hide_when_empty:
            self.display = False

    def compose(self) -> ComposeResult:
        yield DiffTable(self.spec.columns, id=f"{self.spec.pane_id}-table")

    @property
    def table(self) -> DiffTable:
        return self.query_one(DiffTable)

    def show_state(self, state: DeskState) -> None:
        rows = self.spec.rows(state)
        self.table.show_rows(rows)
        self.set_class(state.stale, "stale")
        self.border_title = f"{self.spec.title} ({len(rows)})"
        self.border_subtitle = "STALE" if state.stale else ""
        if self.spec.hide_when_empty:
            self.display = bool(rows)
