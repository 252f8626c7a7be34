"""Reconciliation: fold the venue's truth into the book, the ledger and the journal.

Run before trading at start, after every stream gap, periodically and on demand; each run:

1. balances from the account snapshot;
2. open orders (ours, adopted and external), and a query for every order the book holds open
   that the list leaves out (it was filled or cancelled while we did not hear);
3. each symbol's trades after the journal's last trade id (myTrades fromId), their orders
   fetched first when the book does not know them;
4. fills of orders whose executed quantity is larger than what is booked (myTrades orderId);
5. the watch list (creates that went unanswered): each order queried again, the proof of
   absence applied once its time has come, late arrivals adopted (see `absence.py`);
6. holdings that predate the desk become positions (see `engine.ledger.adoption`).

An order the book holds open (acknowledged, past the visibility grace) that the exchange does
not find is a difference, not a venue failure: the run is not clean and new orders stay blocked
(at start too: the engine starts, blocked, so the operator can see the differences). The
operator's "reconcile, accepting the differences" closes each such order here as EXPIRED with
`ACCEPTED_REASON`; nothing is sent. Orders placed outside the desk are adopted as EXTERNAL and
never touched by the engine on its own (only the operator's cancel-all or emergency stop,
which use the exchange's per-symbol cancel-all, cancel them).

A symbol's first reconciliation has no trade id to start from: its history is read for adoption
only (those trades were not the desk's), and a trade cursor is journaled so later runs fetch
what follows it. A run is clean when every venue call answered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.core import failpoints
from engine.core.order import Order
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.types import OrderState
from engine.journal import JournalError
from engine.service.parts import Parts
from engine.service.records import Adoption
from engine.service.restore import ADOPTIONS_KEY
from engine.service.settle import QueryOutcome, Settler
from engine.venue.errors import VenueError

log = logging.getLogger(__name__)


ACCEPTED_REASON = "not found at the exchange; closed as the operator accepted"


def trade_cursor_name(symbol: str) -> str:
    return f"trade_cursor:{symbol}"


class ReconcileError(Exception):
    """A venue call of the reconciliation failed; the state may be incomplete."""


@dataclass
class ReconcileReport:
    """What one run found and did."""

    open_orders: int = 0
    queried: int = 0
    trades_folded: int = 0
    fills_pulled: int = 0
    adopted: list[str] = field(default_factory=list)
    watch_list: int = 0
    presumed_absent: int = 0
    accepted: list[str] = field(default_factory=list)
    not_visible: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems and not self.differences

    @property
    def only_differences(self) -> bool:
        """The venue answered everything; what is left is for the operator to judge."""
        return not self.problems and bool(self.differences)

    def summary(self) -> str:
        text = (
            f"{self.open_orders} open order(s), {self.queried} queried, "
            f"{self.trades_folded} trade(s) folded in, {self.fills_pulled} order(s) with "
            f"missing fills, adopted: {', '.join(self.adopted) or 'none'}, "
            f"watch list: {self.watch_list} ({self.presumed_absent} presumed absent)"
        )
        if self.not_visible:
            text += f", not visible yet: {', '.join(self.not_visible)}"
        if self.accepted:
            text += f", closed as accepted: {', '.join(self.accepted)}"
        if self.differences:
            listed = "; ".join(f"{d['client_order_id']}: {d['detail']}" for d in self.differences)
            text += f"; differences: {listed}"
        if self.problems:
            text += f"; problems: {'; '.join(self.problems)}"
        return text


class Reconciler:
    """One reconciliation at a time (the engine serializes runs)."""

    def __init__(self, parts: Parts, settler: Settler, adoptions: list[Adoption]) -> None:
        self._parts = parts
        self._settler = settler
        self._adoptions = adoptions
        # Set by the operator's "reconcile, accepting the differences": the next run takes the
        # exchange's side of each difference.
        self.accept_next = False
        self._accept = False
        self._journaled: set[tuple[str, int]] | None = None

    async def run(self) -> ReconcileReport:
        parts = self._parts
        report = ReconcileReport()
        self._accept, self.accept_next = self.accept_next, False
        if parts.gate.journal_failure is not None:
            # Nothing found could be recorded; the engine stays halted until restarted.
            report.problems.append(f"journal: {parts.gate.journal_failure}")
            return report
        try:
            account = await parts.link.call(parts.venue.account())
            parts.pipeline.apply_account(account.balances, account.update_time)
            await self._open_orders(report)
            failpoints.hit("mid_reconcile")
            histories: dict[str, list[FillReport]] = {}
            for symbol in parts.symbols:
                history = await self._trades(symbol, report)
                if history is not None:
                    histories[symbol] = history
            for order in list(parts.book):
                if order.missing_fill_qty > 0 and order.order_id is not None:
                    await self._settler.pull_fills(order.client_order_id)
                    report.fills_pulled += 1
            await self._watch_list(report)
            await self._adopt(histories, report)
        except VenueError as error:
            report.problems.append(f"venue: {error}")
        except JournalError as error:
            # The write that failed has halted the engine already (the pipeline saw it); the
            # run is simply not clean.
            report.problems.append(f"journal: {error}")
        report.watch_list = len(parts.watch)
        return report

    async def _open_orders(self, report: ReconcileReport) -> None:
        parts = self._parts
        listed = await parts.link.call(parts.venue.open_orders())
        report.open_orders = len(listed)
        seen = {status.order_client_id for status in listed}
        for status in listed:
            parts.pipeline.apply(status)
        self._settler.observe()  # watched orders the list shows are settled: off the list
        for order in list(parts.book.open_orders()):
            cid = order.client_order_id
            if cid in seen or cid in parts.in_flight or cid not in parts.book or cid in parts.watch:
                continue  # (the watch list has a step of its own)
            await self._query(order, report)

    async def _query(self, order: Order, report: ReconcileReport) -> None:
        parts = self._parts
        report.queried += 1
        outcome = await self._settler.query(order)
        if outcome is QueryOutcome.FAILED:
            report.problems.append(f"query of {order.client_order_id} failed")
        elif outcome is QueryOutcome.NOT_FOUND:
            current = parts.book.get(order.client_order_id)
            if current is None:
                return
            if current.order_id is None:
                # Never acknowledged: the create may still be on its way (settle.py).
                parts.pipeline.record(parts.book.mark_unknown(current.client_order_id))
                entry = parts.watch.get(current.client_order_id)
                if entry is None or not entry.presumed_absent:
                    self._settler.schedule(current.client_order_id)  # unless under way
            elif self._maybe_lagging(current):
                report.not_visible.append(current.client_order_id)  # E8: asked again next run
            elif self._accept:
                self._close_accepted(current)
                report.accepted.append(current.client_order_id)
            else:
                report.differences.append(
                    {
                        "client_order_id": current.client_order_id,
                        "symbol": current.symbol,
                        "order_id": current.order_id,
                        "book": current.state.value,
                        "exchange": "not found",
                        "detail": f"{current.state.value} here (order id {current.order_id}), "
                        "not found at the exchange",
                    }
                )

    def _close_accepted(self, order: Order) -> None:
        """The operator accepted the exchange's side: the order is gone there, so it is closed
        here (EXPIRED, with what it executed), never cancelled or sent."""
        assert order.order_id is not None
        closed = OrderStatusReport(
            symbol=order.symbol,
            client_order_id=order.client_order_id,
            order_id=order.order_id,
            state=OrderState.EXPIRED,
            cum_qty=order.cum_qty,
            cum_quote=order.cum_quote,
            transact_time=self._parts.clock.now(),
            expiry_reason=ACCEPTED_REASON,
        )
        self._parts.pipeline.apply(closed)

    def _maybe_lagging(self, order: Order) -> bool:
        """An acknowledged order the exchange's queries may not show yet (visibility lag)."""
        grace_s = self._parts.options.absence.visibility_grace_s
        seen = order.updated_at or order.created_at
        return seen is not None and (self._parts.clock.now() - seen).total_seconds() < grace_s

    async def _trades(self, symbol: str, report: ReconcileReport) -> list[FillReport] | None:
        """Fold in the symbol's trades after the cursor; the history when there is none.

        The cursor is what reconciliation itself has read, not the highest trade journaled: a
        trade missed while the stream was down can have a lower id than one booked since.
        """
        parts = self._parts
        journal = parts.journal
        page = parts.options.trade_page
        cursor = await journal.max_counter(trade_cursor_name(symbol))
        if cursor is None:  # a journal from before the cursor existed: its last trade
            cursor = await journal.last_trade_id(symbol)
        if cursor is None:
            history = await parts.link.call(parts.venue.my_trades(symbol, limit=page))
            cursor = max((trade.trade_id for trade in history), default=0)
            await journal.advance_counter(trade_cursor_name(symbol), cursor)
            return history
        from_id = cursor + 1
        while True:
            trades = await parts.link.call(
                parts.venue.my_trades(symbol, from_id=from_id, limit=page)
            )
            held = await self._fold(symbol, trades, report)
            if held is not None:  # read it again next time, and what follows it
                if held - 1 >= from_id:
                    await journal.advance_counter(trade_cursor_name(symbol), held - 1)
                return None
            if trades:
                from_id = max(trade.trade_id for trade in trades) + 1
                await journal.advance_counter(trade_cursor_name(symbol), from_id - 1)
            if len(trades) < page:
                return None

    async def _journaled_fills(self) -> set[tuple[str, int]]:
        """Fills journaled past each symbol's cursor (booked from the stream or a reply before
        a restart), read once: the book may no longer hold their orders."""
        if self._journaled is None:
            journal = self._parts.journal
            found: set[tuple[str, int]] = set()
            for symbol in self._parts.symbols:
                cursor = await journal.max_counter(trade_cursor_name(symbol))
                if cursor is not None:
                    trade_ids = await journal.trade_ids_after(symbol, cursor)
                    found.update((symbol, trade_id) for trade_id in trade_ids)
            self._journaled = found
        return self._journaled

    async def _fold(
        self, symbol: str, trades: list[FillReport], report: ReconcileReport
    ) -> int | None:
        """Book the trades not booked yet, their orders fetched first when the book does not
        know them. Returns the lowest trade id whose order the exchange does not show yet
        (visibility lag): it and what follows stay unread (a problem, so the run is retried)."""
        parts = self._parts
        book = parts.book
        journaled = await self._journaled_fills()
        by_order: dict[int, list[FillReport]] = defaultdict(list)
        for trade in trades:
            if not book.has_seen_fill(trade.symbol, trade.trade_id) and trade.key not in journaled:
                by_order[trade.order_id].append(trade)
        held: int | None = None
        for order_id, fills in sorted(by_order.items(), key=lambda item: item[1][0].trade_id):
            if held is not None:
                break
            if book.find(symbol, order_id) is None:
                found = await parts.link.call(
                    parts.venue.all_orders(symbol, order_id=order_id, limit=1)
                )
                status = next((s for s in found if s.order_id == order_id), None)
                if status is None:
                    held = min(fill.trade_id for fill in fills)
                    report.problems.append(
                        f"{symbol} trade {held} of order {order_id}: the order is not visible "
                        "yet; read again at the next reconciliation"
                    )
                    break
                parts.pipeline.apply(status)
            parts.pipeline.apply(fills=fills)
            report.trades_folded += len(fills)
        return held

    async def _watch_list(self, report: ReconcileReport) -> None:
        parts = self._parts
        self._settler.observe()
        for cid in list(parts.watch):
            order = parts.book.get(cid)
            if order is None or order.state is not OrderState.UNKNOWN:
                continue
            await self._query(order, report)
            await self._settler.prove(cid)
        self._settler.observe()
        report.presumed_absent = sum(1 for e in parts.watch.values() if e.presumed_absent)

    async def _adopt(self, histories: dict[str, list[FillReport]], report: ReconcileReport) -> None:
        """Holdings of a base asset with no position yet become a position of the first symbol
        (in the configured order) that trades it; dust below the symbol's minimum quantity is
        left alone."""
        parts = self._parts
        ledger = parts.ledger
        held_bases = {p.base_asset for p in ledger.positions() if not p.is_flat}
        changed = False
        for symbol in parts.symbols:
            rules = parts.rules.get(symbol)
            if rules is None or rules.base_asset in held_bases:
                continue
            holding = ledger.balances.total(rules.base_asset)
            min_qty = rules.lot_size.min_qty if rules.lot_size is not None else Decimal(0)
            if holding <= 0 or holding < min_qty:
                continue  # nothing, or dust no order could ever sell
            history = histories.get(symbol)
            if history is None:
                history = await parts.link.call(
                    parts.venue.my_trades(symbol, limit=parts.options.trade_page)
                )
            # Adoptions are replayed at restart after the fills journaled before them.
            await parts.journal.flush()
            events = ledger.adopt(symbol, history, parts.clock.now())
            position = ledger.position(symbol)
            if not events or position is None:
                continue
            held_bases.add(rules.base_asset)
            self._adoptions.append(
                Adoption(
                    symbol=symbol,
                    qty=position.qty,
                    cost_basis=position.cost_basis,
                    time=position.updated_at or parts.clock.now(),
                    after_fills=parts.pipeline.journal_fill_count,
                )
            )
            parts.pipeline.record(events)
            report.adopted.append(symbol)
            changed = True
        if changed:
            await parts.journal.set_state(
                ADOPTIONS_KEY, [adoption.to_json() for adoption in self._adoptions]
            )
