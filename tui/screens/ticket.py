"""`OrderTicket`: a new order, previewed by the engine's dry run, sent once on confirmation.

Enter in a field previews; the Send button is enabled only by a preview of exactly what is in
the form, any edit disables it again, and it never takes the focus by itself, so the Enter that
asked for the preview cannot also send. Sending happens once: a second Enter or a key repeat
finds the ticket already sending (F6). Above the soft notional limit the operator types the
side's word to confirm (F1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from engine.service.api import CommandName, CommandResult
from tui.commands import CommandSender
from tui.format import amount
from tui.preview import ORDER_TYPES, SIDES, TicketForm, base_quote_words, local_check

FORM_INPUTS = ("#symbol", "#quantity", "#quote-quantity", "#price")


class OrderTicket(ModalScreen[CommandResult | None]):
    """Returns the SubmitOrder result, or None when nothing was sent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ticket.cancel")
    ]

    def __init__(
        self,
        sender: CommandSender,
        symbols: Mapping[str, Mapping[str, Any]],
        *,
        symbol: str = "",
        side: str = "BUY",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._sender = sender
        self._symbols = dict(symbols)
        self._symbol = symbol
        self._side = side if side in SIDES else "BUY"
        self._previewed: dict[str, Any] | None = None
        self._needs_word: str | None = None
        self._sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="ticket"):
            yield Static("New order", classes="dialog-title")
            with Horizontal(classes="ticket-row"):
                yield Input(self._symbol, placeholder="symbol, e.g. BTCUSDT", id="symbol")
                yield Select(
                    [(s, s) for s in SIDES], value=self._side, allow_blank=False, id="side"
                )
                yield Select(
                    [(t.replace("_", " "), t) for t in ORDER_TYPES],
                    value="market",
                    allow_blank=False,
                    id="type",
                )
            with Horizontal(classes="ticket-row"):
                yield Input(placeholder="quantity (base)", id="quantity")
                yield Input(placeholder="or quote quantity", id="quote-quantity")
                yield Input(placeholder="price (limit)", id="price")
            yield Static("", id="side-words")
            yield Static(
                "Enter: preview with the engine's checks. Nothing is sent yet.", id="preview"
            )
            yield Input(placeholder="", id="confirm-word", classes="hidden")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="cancel")
                yield Button("Preview", id="preview-button", variant="primary")
                yield Button("Send", id="send", variant="success", disabled=True)

    def on_mount(self) -> None:
        self._show_side()
        self.query_one("#symbol" if not self._symbol else "#quantity", Input).focus()

    # -- the form ------------------------------------------------------------------------------

    def _form(self) -> TicketForm:
        return TicketForm(
            symbol=self.query_one("#symbol", Input).value,
            side=str(self.query_one("#side", Select).value),
            order_type=str(self.query_one("#type", Select).value),
            quantity=self.query_one("#quantity", Input).value,
            quote_quantity=self.query_one("#quote-quantity", Input).value,
            price=self.query_one("#price", Input).value,
        )

    def _show_side(self) -> None:
        form = self._form()
        words = self.query_one("#side-words", Static)
        info = self._symbols.get(form.symbol.strip().upper())
        words.update(base_quote_words(info, form.side) if info else form.side)
        words.set_class(form.side == "BUY", "side-buy")
        words.set_class(form.side == "SELL", "side-sell")
        send = self.query_one("#send", Button)
        send.label = f"Send {form.side}"
        send.variant = "success" if form.side == "BUY" else "error"

    @on(Input.Changed, ",".join(FORM_INPUTS))
    @on(Select.Changed)
    def _form_changed(self) -> None:
        if self._sending:
            return
        self._previewed = None
        self._needs_word = None
        self.query_one("#send", Button).disabled = True
        self.query_one("#confirm-word", Input).add_class("hidden")
        self._show_side()

    @on(Input.Changed, "#confirm-word")
    def _word_typed(self, event: Input.Changed) -> None:
        if self._previewed is not None and self._needs_word is not None:
            self.query_one("#send", Button).disabled = event.value.strip() != self._needs_word

    # -- preview and send ----------------------------------------------------------------------

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-word":
            self._send()
        elif self._previewed is None:
            self._preview()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "preview-button":
            self._preview()
        elif event.button.id == "send":
            self._send()

    @work(exclusive=True, group="ticket-preview")
    async def _preview(self) -> None:
        if self._sending:
            return
        preview = self.query_one("#preview", Static)
        check = local_check(self._form(), self._symbols)
        notes = "\n".join(check.notes)
        if check.error is not None:
            preview.update("\n".join(filter(None, [notes, f"Not sendable: {check.error}"])))
            preview.set_class(True, "refused")
            return
        args = check.args
        preview.update("Asking the engine for a preview...")
        result = await self._sender.send(CommandName.SUBMIT_ORDER, {**args, "dry_run": True})
        if self._form_args() != args:
            return  # edited while the engine answered: that preview is for another order
        lines = [_describe(result.data, args, self._symbols), *check.notes, result.message]
        text = "\n".join(line for line in lines if line)
        preview.update(text)
        ok = result.ok and bool(result.data.get("dry_run"))
        preview.set_class(not ok, "refused")
        if not ok:
            return
        self._previewed = args
        risk = result.data.get("risk") or {}
        send = self.query_one("#send", Button)
        if risk.get("needs_confirmation"):
            self._needs_word = str(args["side"])
            word = self.query_one("#confirm-word", Input)
            word.placeholder = f"above the soft limit: type {self._needs_word} to send"
            word.remove_class("hidden")
            word.focus()
        else:
            # Not focused on purpose: a burst of Enters must not turn a preview into a send.
            send.disabled = False
            preview.update(f"{text}\nTo send: move to Send (Tab) and press Enter.")

    def _form_args(self) -> dict[str, Any]:
        return local_check(self._form(), self._symbols).args

    @work(exclusive=False, group="ticket-send")
    async def _send(self) -> None:
        if self._sending or self._previewed is None:
            return
        if self._needs_word is not None:
            typed = self.query_one("#confirm-word", Input).value.strip()
            if typed != self._needs_word:
                return
        self._sending = True  # from here on, every further press is ignored
        self.query_one("#send", Button).disabled = True
        args = dict(self._previewed)
        if self._needs_word is not None:
            args["confirmed"] = True
        self.query_one("#preview", Static).update("Sending...")
        result = await self._sender.send(CommandName.SUBMIT_ORDER, args)
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self._sending:
            self.dismiss(None)


def _describe(data: Mapping[str, Any], args: Mapping[str, Any], symbols: Mapping[str, Any]) -> str:
    """The order as the engine would send it: side and symbol in words, amounts, value."""
    info = symbols.get(str(args["symbol"])) or {}
    side = str(data.get("side") or args["side"])
    qty = data.get("quantity") or args.get("quantity")
    text = f"{base_quote_words(info, side)}: "
    if qty:
        text += f"{amount(qty)} {info.get('base_asset', '')}"
    else:
        text += f"{amount(data.get('quote_quantity') or args.get('quote_quantity'))} "
        text += f"{info.get('quote_asset', '')} worth"
    text += f" {str(data.get('type') or args['type']).lower()}"
    price = data.get("price") or args.get("price")
    if price:
        text += f" at {amount(price)}"
    notional = (data.get("risk") or {}).get("notional")
    if notional:
        text += f", value about {amount(notional)} {info.get('quote_asset', '')}"
    return text
