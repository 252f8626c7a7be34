"""`ProtectionScreen`: set, change or clear a position's stop-loss, take-profit and trailing stop.

The form says what will rest on the exchange; Set and Clear each ask a yes first and then send
one SetProtection or ClearProtection. The engine places (or replaces) the protective orders: an
OCO for a stop-loss with a take-profit, a trailing stop on the exchange for a delta in BIPS, or
a stop the engine moves up itself for a trailing percentage.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from engine.service.api import CommandName, CommandResult
from tui.commands import CommandSender
from tui.format import amount
from tui.preview import plain
from tui.screens.confirm import ConfirmScreen
from tui.widgets.tables import protection_words
from tui.widgets.textline import TextLine

# (input id, label, placeholder, SetProtection argument)
FIELDS = (
    ("stop-loss", "Stop-loss", "price", "stop_loss"),
    ("take-profit", "Take-profit", "price", "take_profit"),
    ("trailing-percent", "Trailing %", "engine moves it", "trailing_percent"),
    ("trailing-bips", "Trailing BIPS", "on the exchange", "trailing_delta_bips"),
)


def protection_args(
    symbol: str, typed: Mapping[str, str], mark: Decimal | None
) -> tuple[dict[str, str] | None, str | None]:
    """SetProtection arguments from the typed fields, or why not (a long is protected below
    the mark by its stop and above it by its target)."""
    values: dict[str, Decimal] = {}
    for name, text in typed.items():
        text = text.strip()
        if not text:
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, f"{name.replace('_', ' ')} is not a number"
        if not value.is_finite() or value <= 0:
            return None, f"{name.replace('_', ' ')} must be a positive number"
        values[name] = value
    if not values:
        return None, "give a stop-loss, a take-profit or a trailing stop"
    if "trailing_percent" in values and "trailing_delta_bips" in values:
        return None, "give a trailing % or trailing BIPS, not both"
    if "trailing_percent" in values and "stop_loss" in values:
        return None, "a trailing % sets its own stop-loss: leave the stop-loss empty"
    bips = values.get("trailing_delta_bips")
    if bips is not None and bips != bips.to_integral_value():
        return None, "trailing BIPS is a whole number (100 BIPS = 1%)"
    stop, target = values.get("stop_loss"), values.get("take_profit")
    if mark is not None and stop is not None and stop >= mark:
        return None, f"the stop-loss {plain(stop)} must be below the mark {plain(mark)}"
    if mark is not None and target is not None and target <= mark:
        return None, f"the take-profit {plain(target)} must be above the mark {plain(mark)}"
    args = {"symbol": symbol}
    args.update({name: plain(value) for name, value in values.items()})
    return args, None


def plan_words(args: Mapping[str, str], position: Mapping[str, Any]) -> str:
    """What SetProtection will rest on the exchange, in words."""
    base = position.get("base_asset", "")
    legs = []
    if "stop_loss" in args:
        legs.append(f"a stop-loss at {args['stop_loss']}")
    if "take_profit" in args:
        legs.append(f"a take-profit at {args['take_profit']}")
    if "trailing_percent" in args:
        legs.append(f"a stop {args['trailing_percent']}% under the high, moved up by the engine")
    if "trailing_delta_bips" in args:
        legs.append(f"a trailing stop {args['trailing_delta_bips']} BIPS under the high")
    oco = " (one cancels the other)" if len(legs) > 1 else ""
    return (
        f"SELL {amount(position.get('qty'))} {base} ({args['symbol']}): "
        f"{' and '.join(legs)}{oco}. It replaces the current protection."
    )


class ProtectionScreen(ModalScreen[CommandResult | None]):
    """Returns the engine's result of SetProtection or ClearProtection, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="protection.cancel")
    ]

    def __init__(
        self, sender: CommandSender, position: Mapping[str, Any], mark: Decimal | None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._sender = sender
        self._position = dict(position)
        self._symbol = str(position.get("symbol"))
        self._mark = mark
        self._busy = False

    def compose(self) -> ComposeResult:
        position = self._position
        current = (
            position.get("protection") if isinstance(position.get("protection"), Mapping) else {}
        )
        with Vertical(classes="dialog", id="protection"):
            yield TextLine(f"Protect {self._symbol}", classes="dialog-title")
            yield TextLine(
                f"Position {amount(position.get('qty'))} {position.get('base_asset', '')}, "
                f"mark {amount(position.get('mark'))}, entry {amount(position.get('avg_entry'))}."
                f"\nNow: {protection_words(position)}",
                classes="dialog-body",
            )
            with Grid(id="protection-form"):
                for field_id, label, placeholder, name in FIELDS:
                    value = current.get(name) if current else None
                    yield TextLine(label, classes="label")
                    yield Input(
                        "" if value is None else amount(value),
                        placeholder=placeholder,
                        id=field_id,
                        compact=True,
                    )
            yield TextLine("", id="protection-plan")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Clear protection", id="clear", variant="warning", compact=True)
                yield Button("Set protection", id="set", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#stop-loss", Input).focus()
        self._show_plan()

    def _typed(self) -> dict[str, str]:
        return {
            name: self.query_one(f"#{field_id}", Input).value for field_id, _, _, name in FIELDS
        }

    @on(Input.Changed)
    def _show_plan(self) -> None:
        args, error = protection_args(self._symbol, self._typed(), self._mark)
        plan = self.query_one("#protection-plan", TextLine)
        plan.show(f"Not sendable: {error}" if args is None else plan_words(args, self._position))
        plan.set_class(args is None, "refused")

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self._set()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "set":
            self._set()
        elif event.button.id == "clear":
            self._clear()

    @work(exclusive=True, group="protection")
    async def _set(self) -> None:
        args, error = protection_args(self._symbol, self._typed(), self._mark)
        if args is None or self._busy:
            if error is not None:
                self.notify(error, severity="warning")
            return
        question = ConfirmScreen(f"Protect {self._symbol}", plan_words(args, self._position), "Set")
        if not await self.app.push_screen_wait(question):
            return
        await self._run(CommandName.SET_PROTECTION, args)

    @work(exclusive=True, group="protection")
    async def _clear(self) -> None:
        if self._busy:
            return
        body = (
            f"Cancel {self._symbol}'s protective orders: the position stays, unprotected. "
            f"Now: {protection_words(self._position)}"
        )
        question = ConfirmScreen(f"Clear {self._symbol}'s protection", body, "Clear")
        if not await self.app.push_screen_wait(question):
            return
        await self._run(CommandName.CLEAR_PROTECTION, {"symbol": self._symbol})

    async def _run(self, name: CommandName, args: dict[str, Any]) -> None:
        self._busy = True  # one command per dialog
        self.query_one("#protection-plan", TextLine).show("Sending...")
        self.dismiss(await self._sender.send(name, args))

    def action_cancel(self) -> None:
        if not self._busy:
            self.dismiss(None)
