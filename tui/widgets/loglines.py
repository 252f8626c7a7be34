"""`LogLines`: a scrolling view of a bounded list of plain lines, replaced wholesale each frame.

Textual's `Log` resets its width on `clear()` and measures new lines in a thread, so refilling it
(a flood, or a new filter) changed its virtual size twice and cost the whole screen a layout pass
(measured: ~80 ms at 160x50, the longest turn of the desk's loop). Here the virtual size changes
only when the line count or the widest line grows, so a new frame of lines is a repaint of the
few rows on screen.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from engine.core.wire import CONTROL_CHARACTERS


def _safe(line: str) -> str:
    """Control characters would move the terminal's cursor: a replacement mark instead."""
    return CONTROL_CHARACTERS.sub("\ufffd", line)


class LogLines(ScrollView, can_focus=True):
    """Shows `lines`; follows the end while the operator has not scrolled away from it."""

    ALLOW_SELECT = True
    DEFAULT_CSS = """
    LogLines {
        background: $surface;
        color: $text;
        overflow: scroll;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._max_lines = max_lines
        self._lines: tuple[str, ...] = ()
        self._width = 0  # never narrowed: a narrower frame would cost a layout pass for nothing

    @property
    def lines(self) -> tuple[str, ...]:
        return self._lines

    def set_lines(self, lines: Iterable[str]) -> None:
        """Show these lines (the last `max_lines` of them) in place of the ones shown."""
        shown = tuple(_safe(line) for line in lines)[-self._max_lines :]
        self._show(shown, measured=shown)

    def append_lines(self, lines: Iterable[str]) -> None:
        """Add these lines after the ones shown; the oldest fall off past `max_lines`. Only the
        new lines are made safe and measured, so a frame costs its new lines, not the view's."""
        added = tuple(_safe(line) for line in lines)[-self._max_lines :]
        if added:
            self._show((self._lines + added)[-self._max_lines :], measured=added)

    def _show(self, shown: tuple[str, ...], *, measured: tuple[str, ...]) -> None:
        """Show `shown`; `measured` are the lines that may widen the view."""
        if shown == self._lines:
            return
        following = self.is_vertical_scroll_end
        self._lines = shown
        self._width = max(self._width, max((cell_len(line) for line in measured), default=0))
        # A reactive with layout: an equal size is ignored, a new one costs the screen a layout.
        self.virtual_size = Size(self._width, len(shown))
        if following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        style = self.rich_style
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, style)
        line = self._lines[index]
        # Plain text in one style: segments straight away, no markup or wrapping to work out.
        segments = [Segment(line, style)]
        selection = self.text_selection
        span = None if selection is None else selection.get_span(index)
        if span is not None:
            start, end = span[0], len(line) if span[1] == -1 else span[1]
            selected = style + self.screen.get_component_rich_style("screen--selection")
            segments = [
                Segment(line[:start], style),
                Segment(line[start:end], selected),
                Segment(line[end:], style),
            ]
        strip = Strip(segments, cell_len(line))
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(self._lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
