"""`TextLine`: a Static for plain text (never markup: engine messages may hold brackets) that
redraws only when its text really changed (most frames change nothing, and every needless
update costs a layout pass)."""

from __future__ import annotations

from textual.widgets import Static


class TextLine(Static):
    def __init__(self, text: str = "", **kwargs: str | None) -> None:
        super().__init__(text, markup=False, **kwargs)  # type: ignore[arg-type]
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def show(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update(text)
