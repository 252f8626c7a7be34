"""`EventLog`: the engine's recent events, filterable by level and symbol, bounded in length."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input

from tui.state import DeskState, LogFilter, LogLine
from tui.widgets.borders import show_borders
from tui.widgets.loglines import LogLines

LEVEL_MARK = {"info": " ", "warning": "!", "alarm": "!!"}
SHOWN_LINES = 300


def line_text(line: LogLine) -> str:
    clock = line.ts[11:19] if len(line.ts) >= 19 else line.ts
    return f"{clock} {LEVEL_MARK.get(line.level, ' '):<2} {line.text}"


class EventLog(Vertical):
    """Redraws only when new lines arrive or the filter changes."""

    def __init__(self) -> None:
        super().__init__(id="log", classes="pane")
        self.border_title = "Events"
        self.filter = LogFilter()
        self._lines: tuple[LogLine, ...] = ()
        self._shown_seq = -1
        self._stale = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter by symbol", id="log-symbol")
        # Plain lines drawn only when on screen, so a flood costs a repaint of the visible rows.
        yield LogLines(SHOWN_LINES, id="log-lines")

    def show_state(self, state: DeskState) -> None:
        self.set_class(state.stale, "stale")
        self._stale = state.stale
        self._show_subtitle()
        self._lines = state.log
        latest = state.log[-1].seq if state.log else 0
        if latest != self._shown_seq:
            self._append()

    def next_level(self) -> None:
        self.filter = self.filter.next_level()
        self._show_subtitle()
        self._redraw()

    def _show_subtitle(self) -> None:
        level = f"level {self.filter.min_level}+"
        show_borders(self, subtitle=f"STALE  {level}" if self._stale else level)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "log-symbol":
            event.stop()
            self.filter = LogFilter(self.filter.min_level, event.value.strip())
            self._redraw()

    def _append(self) -> None:
        """Add only the lines after the last one shown; the view drops the oldest."""
        if self._shown_seq < 0:
            self._redraw()
            return
        self.query_one(LogLines).append_lines(
            line_text(line)
            for line in self._lines
            if line.seq > self._shown_seq and self.filter.accepts(line)
        )
        self._mark_shown()

    def _redraw(self) -> None:
        self.query_one(LogLines).set_lines(
            line_text(line) for line in self._lines if self.filter.accepts(line)
        )
        self._mark_shown()

    def _mark_shown(self) -> None:
        self._shown_seq = self._lines[-1].seq if self._lines else 0
