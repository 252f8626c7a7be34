"""`OrderTicket`: a new order, previewed live by the engine's dry run, sent once on confirmation.

Every edit asks the engine for a fresh preview a moment later (Enter asks at once): the rounded
values, the sizing from a risk stop, the value, the fee and every risk check with its numbers.
The Send button is enabled only by a passing preview of exactly what is in the form, any edit
disables it again, and it never takes the focus by itself, so no burst of Enters turns a preview
into a send. What is sent is what the preview showed (the engine's rounded quantity and price).
Sending happens once: a second Enter or a key repeat finds the ticket already sending (F6).
Above the soft notional limit the operator also types the side's word to confirm (F1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Select

from engine.service.api import CommandName, CommandResult, Outcome
from tui.commands import CommandSender
from tui.preview import (
    ORDER_TYPES,
    SIDES,
    TicketForm,
    base_quote_words,
    check_lines,
    describe,
    form_args,
    send_args,
)
from tui.widgets.levels import LeveledLines
from tui.widgets.textline import TextLine

# (input id, label, placeholder, TicketForm field)
FIELDS = (
    ("quantity", "Quantity", "base asset", "quantity"),
    ("quote-quantity", "Quote qty", "market only", "quote_quantity"),
    ("risk-stop", "Risk stop", "size from stop", "risk_stop"),
    ("price", "Price", "limit price", "price"),
    ("stop-loss", "Stop-loss", "on fill", "stop_loss"),
    ("take-profit", "Take-profit", "on fill", "take_profit"),
)
FORM_INPUTS = ",".join(["#symbol", *(f"#{field_id}" for field_id, *_ in FIELDS)])
PREVIEW_DELAY_S = 0.35  # typing pauses this long before the engine is asked
HINT = "Type the order; the engine previews it as you type. Nothing is sent yet."


class OrderTicket(ModalScreen[CommandResult | None]):
    """Returns the SubmitOrder result, or None when nothing was sent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ticket.cancel"),
        Binding("pageup", "scroll_preview(-1)", "Preview up", id="ticket.preview_up"),
        Binding("pagedown", "scroll_preview(1)", "Preview down", id="ticket.preview_down"),
    ]

    def __init__(
        self,
        sender: CommandSender,
        symbols: Mapping[str, Mapping[str, Any]],
        mark: Callable[[str], Decimal | None],
        *,
        symbol: str = "",
        side: str = "BUY",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._sender = sender
        self._symbols = dict(symbols)
        self._mark = mark
        self._symbol = symbol
        self._side = side if side in SIDES else "BUY"
        self._to_send: dict[str, Any] | None = None  # set only by a passing preview
        self._needs_word: str | None = None
        self._sending = False
        self._timer: Timer | None = None
        self.preview_shown: CommandResult | None = None  # the last preview on screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="ticket"):
            yield TextLine("New order", classes="dialog-title")
            with Grid(id="ticket-form"):
                yield TextLine("Symbol", classes="label")
                yield Input(self._symbol, placeholder="e.g. BTCUSDT", id="symbol", compact=True)
                yield TextLine("Side", classes="label")
                yield Select(
                    [(s, s) for s in SIDES],
                    value=self._side,
                    allow_blank=False,
                    id="side",
                    compact=True,
                )
                yield TextLine("Type", classes="label")
                yield Select(
                    [(t.replace("_", " "), t) for t in ORDER_TYPES],
                    value="market",
                    allow_blank=False,
                    id="type",
                    compact=True,
                )
                for field_id, label, placeholder, _ in FIELDS:
                    yield TextLine(label, classes="label")
                    yield Input(placeholder=placeholder, id=field_id, compact=True)
            yield TextLine("", id="side-words")
            # Scrolled with PageUp/PageDown from any field, so it takes no Tab stop of its own.
            with VerticalScroll(id="preview-box", can_focus=False):
                yield TextLine(HINT, id="preview")
                yield LeveledLines(id="checks")
            yield Input(placeholder="", id="confirm-word", classes="hidden", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Send", id="send", variant="success", disabled=True, compact=True)

    def on_mount(self) -> None:
        self._show_side()
        self.query_one("#symbol" if not self._symbol else "#quantity", Input).focus()

    # -- the form ------------------------------------------------------------------------------

    def _form(self) -> TicketForm:
        values = {
            name: self.query_one(f"#{field_id}", Input).value for field_id, _, _, name in FIELDS
        }
        return TicketForm(
            symbol=self.query_one("#symbol", Input).value,
            side=str(self.query_one("#side", Select).value),
            order_type=str(self.query_one("#type", Select).value),
            **values,
        )

    def _asked(self) -> tuple[dict[str, str] | None, str | None]:
        """The form's SubmitOrder arguments, or why it cannot be sent."""
        form = self._form()
        check = form_args(form, self._symbols, self._mark(form.symbol.strip().upper()))
        return check.args, check.error

    def _show_side(self) -> None:
        form = self._form()
        words = self.query_one("#side-words", TextLine)
        info = self._symbols.get(form.symbol.strip().upper())
        words.update(base_quote_words(info, form.side) if info else form.side)
        words.set_class(form.side == "BUY", "side-buy")
        words.set_class(form.side == "SELL", "side-sell")
        send = self.query_one("#send", Button)
        send.label = f"Send {form.side}"
        send.variant = "success" if form.side == "BUY" else "error"

    @on(Input.Changed, FORM_INPUTS)
    @on(Select.Changed)
    def _form_changed(self) -> None:
        if self._sending:
            return
        self._to_send = None
        self._needs_word = None
        self.query_one("#send", Button).disabled = True
        self.query_one("#confirm-word", Input).add_class("hidden")
        self.query_one("#preview-box").add_class("outdated")
        self._show_side()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(PREVIEW_DELAY_S, self._preview)

    @on(Input.Changed, "#confirm-word")
    def _word_typed(self, event: Input.Changed) -> None:
        if self._to_send is not None and self._needs_word is not None:
            self.query_one("#send", Button).disabled = event.value.strip() != self._needs_word

    # -- preview and send ----------------------------------------------------------------------

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-word":
            self._send()
        elif self._to_send is None:
            self._preview()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "send":
            self._send()

    def _show_preview(self, lines: list[str], result: CommandResult) -> None:
        self.query_one("#preview", TextLine).show("\n".join(line for line in lines if line))
        risk = result.data.get("risk") or {}
        self.query_one("#checks", LeveledLines).show_lines(check_lines(risk))
        box = self.query_one("#preview-box")
        box.remove_class("outdated")
        box.set_class(not result.ok, "refused")
        self.preview_shown = result

    @work(exclusive=True, group="ticket-preview")
    async def _preview(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._sending:
            return
        asked, error = self._asked()
        if asked is None and not self.query_one("#symbol", Input).value.strip():
            self.query_one("#preview", TextLine).show(HINT)  # nothing typed yet to complain of
            return
        if asked is None:
            result = CommandResult(Outcome.USAGE, f"Not sendable: {error}")
            self._show_preview([result.message], result)
            return
        self.query_one("#preview", TextLine).show("Asking the engine for a preview...")
        result = await self._sender.send(CommandName.SUBMIT_ORDER, {**asked, "dry_run": True})
        if self._asked()[0] != asked or self._sending:
            return  # edited while the engine answered: that preview is for another order
        info = self._symbols.get(asked["symbol"]) or {}
        ok = result.ok and bool(result.data.get("dry_run"))
        lines = (
            [*describe(result.data, asked, info), result.message]
            if ok or result.data
            else [result.message]
        )
        risk = result.data.get("risk") or {}
        if ok and risk.get("needs_confirmation"):
            self._needs_word = asked["side"]
            word = self.query_one("#confirm-word", Input)
            word.placeholder = f"above the soft limit: type {self._needs_word} to send"
            word.remove_class("hidden")
            lines.append(f"Above the soft limit: type {self._needs_word} below, then Enter.")
        elif ok:
            lines.append("To send: move to Send (Tab) and press Enter.")
        self._show_preview(lines, result)
        if not ok:
            return
        self._to_send = send_args(asked, result.data)
        if self._needs_word is not None:
            self.query_one("#confirm-word", Input).focus()
        else:
            # Not focused on purpose: a burst of Enters must not turn a preview into a send.
            self.query_one("#send", Button).disabled = False

    @work(exclusive=False, group="ticket-send")
    async def _send(self) -> None:
        if self._sending or self._to_send is None:
            return
        if self._needs_word is not None:
            typed = self.query_one("#confirm-word", Input).value.strip()
            if typed != self._needs_word:
                return
        self._sending = True  # from here on, every further press is ignored
        self.query_one("#send", Button).disabled = True
        args = dict(self._to_send)
        if self._needs_word is not None:
            args["confirmed"] = True
        self.query_one("#preview", TextLine).show("Sending...")
        result = await self._sender.send(CommandName.SUBMIT_ORDER, args)
        self.dismiss(result)

    def action_scroll_preview(self, pages: int) -> None:
        box = self.query_one("#preview-box", VerticalScroll)
        if pages < 0:
            box.scroll_page_up()
        else:
            box.scroll_page_down()

    def action_cancel(self) -> None:
        if not self._sending:
            self.dismiss(None)
