"""`EventLog`: the engine's recent events, filterable by level and symbol, bounded in length."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Log

from tui.state import DeskState, LogFilter, LogLine

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

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter by symbol", id="log-symbol")
        # Log, not RichLog: plain lines drawn only when on screen, so a flood costs little.
        yield Log(id="log-lines", max_lines=SHOWN_LINES)

    def show_state(self, state: DeskState) -> None:
        self.set_class(state.stale, "stale")
        self.border_subtitle = (
            "STALE  " if state.stale else ""
        ) + f"level {self.filter.min_level}+"
        self._lines = state.log
        latest = state.log[-1].seq if state.log else 0
        if latest != self._shown_seq:
            self._append()

    def next_level(self) -> None:
        self.filter = self.filter.next_level()
        self.border_subtitle = f"level {self.filter.min_level}+"
        self._redraw()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "log-symbol":
            event.stop()
            self.filter = LogFilter(self.filter.min_level, event.value.strip())
            self._redraw()

    def _append(self) -> None:
        """Write only the lines after the last one shown (a full redraw when they fill it)."""
        new = [
            line for line in self._lines if line.seq > self._shown_seq and self.filter.accepts(line)
        ]
        if len(new) >= SHOWN_LINES or self._shown_seq < 0:
            self._redraw()
            return
        self.query_one(Log).write_lines(line_text(line) for line in new)
        self._shown_seq = self._lines[-1].seq if self._lines else 0

    def _redraw(self) -> None:
        view = self.query_one(Log)
        view.clear()
        shown = [line for line in self._lines if self.filter.accepts(line)][-SHOWN_LINES:]
        view.write_lines(line_text(line) for line in shown)
        self._shown_seq = self._lines[-1].seq if self._lines else 0
