"""`EmergencyScreen`: what the emergency stop will do, an explicit yes, then its progress.

Focus starts on Cancel; only the `y` key or the red button sends, and only once. The phases
shown come from the engine's event stream, so the screen reports what the engine did, not what
the desk hoped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from engine.service.api import CommandName, CommandResult
from tui.commands import CommandSender, command_named
from tui.format import amount
from tui.state import DeskState
from tui.widgets.textline import TextLine

PHASE_EVENTS = ("EmergencyStopPhase", "TradingStateChanged")
REASON = "emergency stop from the desk"


def stop_command() -> CommandName:
    """EmergencyStop when this engine has it, else a plain Halt."""
    return command_named("EmergencyStop") or CommandName.HALT


def consequences(state: DeskState) -> str:
    """What pressing yes will do, with today's numbers."""
    orders = state.open_orders
    symbols = sorted({str(o.get("symbol")) for o in orders})
    lines = ["1. Trading becomes HALTED: no new orders until you arm again."]
    if stop_command() is CommandName.EMERGENCY_STOP:
        where = f" on {', '.join(symbols)}" if symbols else ""
        lines.append(f"2. Cancel all {len(orders)} open order(s){where}, verified at the exchange.")
        protective = _protective_ids(state) & {o.get("client_order_id") for o in orders}
        if protective:
            lines.append(
                f"   {len(protective)} of them protect positions (SL/TP): those are left "
                "unprotected."
            )
        lines.append("3. Positions are kept (not sold):")
    else:
        lines.append("2. This engine has no EmergencyStop: open orders are NOT cancelled.")
        lines.append("3. Positions are kept:")
    for position in state.positions:
        value = _value(position)
        lines.append(f"   - {position.get('symbol')} {amount(position.get('qty'))}{value}")
    if not state.positions:
        lines.append("   - none")
    exposure = next((g for g in state.gauges or [] if g.get("name") == "exposure"), None)
    if exposure is not None:
        lines.append(f"Exposure now: {amount(exposure.get('value'))} {exposure.get('unit', '')}")
    return "\n".join(lines)


def _protective_ids(state: DeskState) -> set[Any]:
    """Client order ids of the orders that carry the positions' protection."""
    found: set[Any] = set()
    for position in state.positions:
        protection = position.get("protection")
        if isinstance(protection, Mapping):
            found.update(protection.get("order_ids") or ())
    return found


def _value(position: Mapping[str, Any]) -> str:
    mark = position.get("mark")
    return "" if mark is None else f" at mark {amount(mark)}"


class EmergencyScreen(ModalScreen[CommandResult | None]):
    """Returns the engine's result, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="emergency.close"),
        Binding("y", "confirm", "Yes, stop", id="emergency.confirm"),
    ]

    def __init__(self, sender: CommandSender, state: DeskState) -> None:
        super().__init__(classes="dialog-screen", id="emergency-screen")
        self._sender = sender
        self._state = state
        self._started_after: int | None = None
        self._result: CommandResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="emergency"):
            yield TextLine("EMERGENCY STOP", classes="dialog-title")
            yield TextLine(consequences(self._state), id="emergency-plan", classes="dialog-body")
            yield TextLine("", id="emergency-progress", classes="hidden")
            with Horizontal(classes="dialog-buttons", id="emergency-buttons"):
                yield Button("Cancel (Esc)", id="cancel")
                yield Button("STOP EVERYTHING (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_close()

    def action_close(self) -> None:
        if self._started_after is None:
            self.dismiss(None)
        elif self._result is not None:
            self.dismiss(self._result)
        # while it runs, the screen stays: its progress is the operator's only view of it

    def action_confirm(self) -> None:
        if self._started_after is not None:
            return  # once only
        self._started_after = self._state.event_seq
        self.query_one("#emergency-buttons").display = False
        progress = self.query_one("#emergency-progress", TextLine)
        progress.remove_class("hidden")
        progress.show("Sending the emergency stop...")
        self._run()

    @work(exclusive=True, group="emergency")
    async def _run(self) -> None:
        name = stop_command()
        args: dict[str, Any] = {"reason": REASON}
        result = await self._sender.send(name, args)
        self._result = result
        self._show_progress()

    def show_state(self, state: DeskState) -> None:
        self._state = state
        if self._started_after is not None:
            self._show_progress()

    def _show_progress(self) -> None:
        assert self._started_after is not None
        lines = [line.text for line in self._state.log_since(self._started_after, PHASE_EVENTS)]
        if self._result is not None:
            lines.append(f"Result: {self._result.outcome.value}: {self._result.message}")
            lines.append("Esc to close.")
        else:
            lines.append("Working...")
        progress = self.query_one("#emergency-progress", TextLine)
        progress.show("\n".join(lines))
        progress.set_class(self._result is not None and not self._result.ok, "refused")
