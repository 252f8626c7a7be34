"""`DeskFooter`: Textual's footer, wrapped onto two lines in the compact layout, so that every
key stays in sight at 80 columns (app.tcss turns the grid on for narrow screens)."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.widgets import Footer

FOOTER_LINES = 2


class DeskFooter(Footer):
    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        yield from keys
        # Footer sizes its grid to one line; the palette key is docked and takes no cell.
        cells = max(1, len(keys) - 1)
        self.styles.grid_size_columns = math.ceil(cells / FOOTER_LINES)
