"""`ReasonScreen`: asks why (halt, arm); the engine journals the reason with the change."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from tui.widgets.textline import TextLine

REASON_MAX = 200


class ReasonScreen(ModalScreen[str | None]):
    """Returns the reason typed (Enter), or None (Escape or nothing typed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel")
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TextLine(self._title, classes="dialog-title")
            yield TextLine(self._body, classes="dialog-body")
            yield Input(
                placeholder="reason (Enter to send, Esc to cancel)",
                id="reason",
                max_length=REASON_MAX,
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reason = event.value.strip()
        self.dismiss(reason or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
