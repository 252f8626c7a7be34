"""`DiffTable`: a DataTable updated by difference, so a frame only touches the cells that moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist


class DiffTable(DataTable[Text]):
    """Rows keyed by a stable id; `show_rows` adds, updates and removes only what changed.
    Cells are plain text: a DataTable would read a string as markup, and engine text may hold
    brackets."""

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._column_keys = [key for key, _ in columns]
        self._rows: dict[str, tuple[str, ...]] = {}
        for key, label in columns:
            self.add_column(label, key=key)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self._rows or self.cursor_row < 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except (CellDoesNotExist, RowDoesNotExist):
            return None
        return None if row_key.value is None else str(row_key.value)

    def show_rows(self, rows: Mapping[str, Sequence[str]]) -> None:
        for key in [k for k in self._rows if k not in rows]:
            self.remove_row(key)
            del self._rows[key]
        for key, cells in rows.items():
            new = tuple(cells)
            old = self._rows.get(key)
            if old is None:
                self.add_row(*(Text(cell) for cell in new), key=key)
            elif old != new:
                for column, before, after in zip(self._column_keys, old, new, strict=True):
                    if before != after:
                        # Widen the column when a value outgrows it (a cut-off price misleads);
                        # never narrow it: that measures every cell of the column, each frame.
                        wider = len(after) > self.columns[ColumnKey(column)].content_width
                        self.update_cell(key, column, Text(after), update_width=wider)
            self._rows[key] = new
