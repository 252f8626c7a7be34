"""`QuitScreen`: leaving the desk asks whether the engine keeps running or stops."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from tui.widgets.textline import TextLine

QuitChoice = Literal["leave", "stop"]


class QuitScreen(ModalScreen[QuitChoice | None]):
    """ "leave": the engine keeps managing resting orders; "stop": it stops (orders stay)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stay", "Stay", id="quit.stay")]

    def __init__(self, open_orders: int) -> None:
        super().__init__(classes="dialog-screen")
        self._open_orders = open_orders

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TextLine("Quit the desk", classes="dialog-title")
            yield TextLine(
                f"{self._open_orders} open order(s). Leave the engine running (it keeps "
                "managing orders and protection) or stop it (orders stay on the exchange, "
                "unmanaged)?",
                classes="dialog-body",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stay (Esc)", id="stay")
                yield Button("Leave engine running", id="leave", variant="primary")
                yield Button("Stop engine", id="stop", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#leave", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = event.button.id
        self.dismiss("leave" if choice == "leave" else "stop" if choice == "stop" else None)

    def action_stay(self) -> None:
        self.dismiss(None)
