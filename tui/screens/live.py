"""`LiveScreen`: the third deliberate act of LIVE mode, typing the word that connects the engine.

A LIVE engine waits, connected to nothing, until the operator types its confirmation word here
(engine/security/live_gate.py); the word goes to the engine as typed and the engine judges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from engine.service.api import CommandResult
from tui.commands import CommandSender, command_named
from tui.widgets.textline import TextLine

AWAITING = "awaiting_confirmation"


def live_section(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The snapshot's `live` section ({} from an engine without one)."""
    live = (snapshot or {}).get("live")
    return live if isinstance(live, Mapping) else {}


class LiveScreen(ModalScreen[CommandResult | None]):
    """Returns the engine's answer to ConfirmLive, or None when the operator went back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Not now", id="live.cancel")
    ]

    def __init__(self, sender: CommandSender, account: str, live: Mapping[str, Any]) -> None:
        super().__init__(classes="dialog-screen")
        self._sender = sender
        self._account = account
        self._word = str(live.get("confirm_word") or "LIVE")
        self._last_error = live.get("last_error")
        self._sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="live"):
            yield TextLine("LIVE: REAL MONEY", classes="dialog-title")
            body = (
                f"This engine trades account {self._account} on Binance with real money. It is "
                f"connected to nothing until you type {self._word} here; then it connects, "
                "reconciles and trades as you tell it."
            )
            if self._last_error:
                body += f"\nThe last start failed: {self._last_error}"
            yield TextLine(body, classes="dialog-body")
            yield Input(placeholder=f"type {self._word}, then Enter (Esc: not now)", id="typed")
            yield TextLine("", id="live-answer", classes="refused")

    def on_mount(self) -> None:
        self.query_one("#typed", Input).focus()

    @on(Input.Submitted, "#typed")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm(event.value)

    @work(exclusive=True, group="live")
    async def _confirm(self, typed: str) -> None:
        if self._sending:
            return
        confirm = command_named("ConfirmLive")
        if confirm is None:
            self.query_one("#live-answer", TextLine).show("this engine has no ConfirmLive command")
            return
        self._sending = True
        result = await self._sender.send(confirm, {"typed": typed})
        self._sending = False
        if result.ok:
            self.dismiss(result)
        else:
            self.query_one("#live-answer", TextLine).show(result.message)

    def action_cancel(self) -> None:
        if not self._sending:
            self.dismiss(None)
