"""`DeskScreen`: every pane of the desk and the operator's actions on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen

from engine.service.api import CommandName, CommandResult
from tui.commands import CommandSender
from tui.format import amount
from tui.screens.confirm import ConfirmScreen
from tui.screens.live import AWAITING, LiveScreen, live_section
from tui.screens.reason import ReasonScreen
from tui.state import DeskState
from tui.widgets.difftable import DiffTable
from tui.widgets.eventlog import EventLog
from tui.widgets.footer import DeskFooter
from tui.widgets.gauges import RiskGauges
from tui.widgets.header import DeskHeader
from tui.widgets.tablepane import TablePane
from tui.widgets.tables import BALANCES, MARKET, ORDERS, POSITIONS, UNRESOLVED, protection_words
from tui.widgets.textline import TextLine

OPEN_STATES = ("NEW", "PARTIALLY_FILLED", "PENDING_NEW", "UNKNOWN")


class DeskScreen(Screen[None]):
    """The main screen; the app hands it each new state through `show_state`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n", "new_order", "New order", id="desk.new_order", tooltip="Open the order ticket"
        ),
        Binding(
            "c",
            "cancel_order",
            "Cancel",
            id="desk.cancel_order",
            tooltip="Cancel the order under the cursor in Orders",
        ),
        Binding(
            "C",
            "cancel_all",
            "Cancel all",
            id="desk.cancel_all",
            tooltip="Cancel every open order (asks first)",
        ),
        Binding(
            "x",
            "close_position",
            "Close",
            id="desk.close_position",
            tooltip="Sell the position under the cursor at market (asks first)",
        ),
        Binding(
            "p",
            "protect",
            "SL/TP",
            id="desk.protect",
            tooltip="Set, change or clear the selected position's stop-loss, take-profit, trailing",
        ),
        Binding("h", "halt", "Halt", id="desk.halt", tooltip="Stop new orders, with a reason"),
        Binding("a", "arm", "Arm", id="desk.arm", tooltip="Allow new orders again, with a reason"),
        Binding(
            "r",
            "reconcile",
            "Reconcile",
            id="desk.reconcile",
            tooltip="Compare with the exchange now",
        ),
        Binding(
            "L",
            "confirm_live",
            "Confirm LIVE",
            id="desk.confirm_live",
            tooltip="Type the word that connects a LIVE engine (shown only while it waits)",
        ),
        Binding(
            "l",
            "log_level",
            "Log level",
            id="desk.log_level",
            show=False,
            tooltip="Cycle the event log's minimum level",
        ),
    ]

    def __init__(self, sender: CommandSender, clock: Callable[[], datetime]) -> None:
        super().__init__(id="desk")
        self._sender = sender
        self._clock = clock
        self.state = DeskState()
        self._ready = False
        self._bindings_for: tuple[str, str] = ("", "")
        self._live_asked = False  # asked once per wait; L asks again

    def compose(self) -> ComposeResult:
        yield DeskHeader(self._clock)
        yield TextLine("", id="stale-banner")
        yield TablePane(UNRESOLVED)
        with Vertical(id="body"):
            with Horizontal(id="panes"):
                with Vertical(id="left"):
                    yield TablePane(ORDERS)
                    yield TablePane(POSITIONS)
                with Vertical(id="right"):
                    yield TablePane(BALANCES)
                    yield RiskGauges()
                    yield TablePane(MARKET)
            yield EventLog()
        yield DeskFooter()

    def on_mount(self) -> None:
        self._ready = True
        self.set_interval(1.0, self.query_one(DeskHeader).refresh_links)
        self.show_state(self.state)

    def show_state(self, state: DeskState) -> None:
        self.state = state
        if not self._ready:
            return  # composed later; on_mount shows the latest state
        try:
            self._render_state(state)
        except NoMatches:
            return  # the app is closing and the panes are already gone

    def _render_state(self, state: DeskState) -> None:
        self.query_one(DeskHeader).show_state(state)
        banner = self.query_one("#stale-banner", TextLine)
        banner.display = state.stale
        banner.show(f"STALE: {state.stale_reason}. Every pane shows the last data received.")
        self.set_class(state.stale, "stale")
        for pane in self.query(TablePane):
            pane.show_state(state)
        self.query_one(RiskGauges).show_state(state)
        self.query_one(EventLog).show_state(state)
        live = str(live_section(state.snapshot).get("state") or "")
        if (state.trading_state, live) != self._bindings_for:
            self._bindings_for = (state.trading_state, live)
            self.refresh_bindings()  # halt/arm follow the trading state, L the LIVE gate
        if live == AWAITING and not state.stale and not self._live_asked:
            self._live_asked = True
            self.action_confirm_live()
        elif live != AWAITING:
            self._live_asked = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply now (None greys it, False hides it)."""
        trading = self.state.trading_state
        if action == "halt":
            return trading != "HALTED" or None
        if action == "arm":
            return trading != "ACTIVE" or None
        if action == "confirm_live":
            return live_section(self.state.snapshot).get("state") == AWAITING
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _report(self, result: CommandResult) -> None:
        title = result.outcome.value.upper()
        if result.ok:
            self.notify(result.message[:300], title=title, markup=False)
        else:
            self.notify(result.message[:300], title=title, severity="warning", markup=False)

    def _selected(self, pane_id: str) -> str | None:
        return self.query_one(f"#{pane_id}", TablePane).table.selected_key

    # -- actions -------------------------------------------------------------------------------

    @work(group="desk-action")
    async def action_new_order(self) -> None:
        from tui.screens.ticket import OrderTicket  # with its preview: loaded when first used

        symbol = ""
        focused = self.focused
        if isinstance(focused, DiffTable) and focused.id in ("positions-table", "market-table"):
            symbol = focused.selected_key or ""  # a ticket for the row the operator is on
        ticket = OrderTicket(
            self._sender,
            self.state.symbols,
            lambda wanted: self.state.mark_price(wanted),  # the latest marks, not today's
            symbol=symbol,
        )
        result = await self.app.push_screen_wait(ticket)
        if result is not None:
            self._report(result)

    @work(group="desk-action")
    async def action_cancel_order(self) -> None:
        cid = self._selected("orders")
        if cid is None:
            self.notify("Select an order in the Orders pane first.", severity="warning")
            return
        order = next((o for o in self.state.open_orders if o.get("client_order_id") == cid), None)
        if order is None:
            self.notify(f"{cid} is not open any more: nothing to cancel.")
            return
        self._report(await self._sender.send(CommandName.CANCEL_ORDER, {"client_order_id": cid}))

    @work(group="desk-action")
    async def action_cancel_all(self) -> None:
        orders = self.state.open_orders
        symbols = sorted({str(o.get("symbol")) for o in orders})
        body = f"Cancel all {len(orders)} open order(s) on {', '.join(symbols) or 'no symbol'}?"
        if await self.app.push_screen_wait(ConfirmScreen("Cancel all orders", body, "Cancel all")):
            self._report(await self._sender.send(CommandName.CANCEL_ALL_ORDERS, {}))

    @work(group="desk-action")
    async def action_close_position(self) -> None:
        symbol = self._selected("positions")
        position = next((p for p in self.state.positions if p.get("symbol") == symbol), None)
        if symbol is None or position is None:
            self.notify("Select a position in the Positions pane first.", severity="warning")
            return
        if self.state.trading_state == "HALTED":
            self.notify(
                "Trading is HALTED: the engine places no order, a close neither. Arm first "
                "(a), or use the emergency stop.",
                severity="warning",
            )
            return
        protected = protection_words(position) != "-"
        sale = (
            f"SELL {amount(position.get('sellable_qty'))} of {amount(position.get('qty'))} "
            f"{position.get('base_asset')} ({symbol}) at market, mark "
            f"{amount(position.get('mark'))}, on {self.state.mode}."
        )
        body = sale
        if protected:
            # The protective orders lock the base asset: the engine sells only what is free.
            body = (
                f"1. Clear its protection ({protection_words(position)}): the orders that lock it."
                f"\n2. {sale}"
            )
        confirm = ConfirmScreen(f"Close {symbol}", body, "Sell at market")
        if not await self.app.push_screen_wait(confirm):
            return
        if protected:
            cleared = await self._sender.send(CommandName.CLEAR_PROTECTION, {"symbol": symbol})
            if not cleared.ok:
                self._report(cleared)
                return
        self._report(await self._sender.send(CommandName.CLOSE_POSITION, {"symbol": symbol}))

    @work(group="desk-action")
    async def action_protect(self) -> None:
        symbol = self._selected("positions")
        position = next((p for p in self.state.positions if p.get("symbol") == symbol), None)
        if symbol is None or position is None:
            self.notify("Select a position in the Positions pane first.", severity="warning")
            return
        from tui.screens.protection import ProtectionScreen  # loaded when first used

        screen = ProtectionScreen(self._sender, position, self.state.mark_price(symbol))
        result = await self.app.push_screen_wait(screen)
        if result is not None:
            self._report(result)

    async def _state_change(self, name: CommandName, title: str, body: str) -> None:
        reason = await self.app.push_screen_wait(ReasonScreen(title, body))
        if reason is not None:
            self._report(await self._sender.send(name, {"reason": reason}))

    @work(group="desk-action")
    async def action_halt(self) -> None:
        await self._state_change(
            CommandName.HALT, "Halt trading", "No new orders until armed; cancels still go."
        )

    @work(group="desk-action")
    async def action_arm(self) -> None:
        await self._state_change(
            CommandName.ARM, "Arm trading", f"Trading is {self.state.trading_state}; arm it?"
        )

    @work(group="desk-action")
    async def action_reconcile(self) -> None:
        self.notify("Reconciling with the exchange...")
        self._report(await self._sender.send(CommandName.RECONCILE, {}))

    @work(group="desk-action")
    async def action_confirm_live(self) -> None:
        if any(isinstance(screen, LiveScreen) for screen in self.app.screen_stack):
            return
        live = live_section(self.state.snapshot)
        result = await self.app.push_screen_wait(LiveScreen(self._sender, self.state.account, live))
        if result is not None:
            self._report(result)

    def action_log_level(self) -> None:
        self.query_one(EventLog).next_level()
