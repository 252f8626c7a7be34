"""`ConfirmScreen`: a yes/no question about one risky act; focus starts on Cancel."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from tui.widgets.textline import TextLine


class ConfirmScreen(ModalScreen[bool]):
    """Returns True only for the confirm button or its key; Escape and Enter on Cancel say no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_no", "Cancel", id="confirm.cancel"),
        Binding("y", "dismiss_yes", "Confirm", id="confirm.yes"),
    ]

    def __init__(self, title: str, body: str, confirm_label: str) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TextLine(self._title, classes="dialog-title")
            yield TextLine(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="no", variant="default")
                yield Button(f"{self._confirm_label} (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_dismiss_no(self) -> None:
        self.dismiss(False)

    def action_dismiss_yes(self) -> None:
        self.dismiss(True)
