"""`LeveledLines`: lines of text, each marked ok, warning or breach by a CSS class (`level-*`)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import Vertical

from tui.widgets.textline import TextLine

LEVELS = ("ok", "warning", "breach")


class LeveledLines(Vertical):
    """Reuses its line widgets from frame to frame: only text and classes that moved change."""

    def show_lines(self, lines: Sequence[tuple[str, str]]) -> None:
        """Show `(text, level)` pairs in order; a level outside LEVELS reads as breach."""
        shown = list(self.query(".leveled").results(TextLine))
        for index, (text, level) in enumerate(lines):
            if index < len(shown):
                line = shown[index]
            else:
                line = TextLine("", classes="leveled")
                self.mount(line)
            line.show(text)
            known = level if level in LEVELS else "breach"
            for name in LEVELS:
                line.set_class(known == name, f"level-{name}")
        for extra in shown[len(lines) :]:
            extra.remove()
