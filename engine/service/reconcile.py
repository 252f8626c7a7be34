"""Reconciliation: fold the venue's truth into the book, the ledger and the journal.

Run before trading at start, after every stream gap, periodically and on demand; each run:

1. balances from the account snapshot;
2. open orders (ours, adopted and external), and a query for every order the book holds open
   that the list leaves out (it was filled or cancelled while we did not hear);
3. each symbol's trades after the journal's last trade id (myTrades fromId), their orders
   fetched first when the book does not know them;
4. fills of orders whose executed quantity is larger than what is booked (myTrades orderId);
5. orders whose create went unanswered: queried again; still not found, they stay UNKNOWN on
   the watch list (see `settle.py` for why that proves nothing yet);
6. holdings that predate the desk become positions (see `engine.ledger.adoption`).

A symbol's first reconciliation has no trade id to start from: its history is read for adoption
only (those trades were not the desk's), and a trade cursor is journaled so later runs fetch
what follows it. A run is clean when every venue call answered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from engine.core.order import Order
from engine.core.reports import FillReport
from engine.core.types import OrderState
from engine.service.parts import Parts
from engine.service.records import Adoption
from engine.service.restore import ADOPTIONS_KEY
from engine.service.settle import QueryOutcome, Settler
from engine.venue.errors import VenueError

log = logging.getLogger(__name__)


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
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        text = (
            f"{self.open_orders} open order(s), {self.queried} queried, "
            f"{self.trades_folded} trade(s) folded in, {self.fills_pulled} order(s) with "
            f"missing fills, adopted: {', '.join(self.adopted) or 'none'}, "
            f"watch list: {self.watch_list}"
        )
        if self.problems:
            text += f"; problems: {'; '.join(self.problems)}"
        return text


class Reconciler:
    """One reconciliation at a time (the engine serializes runs)."""

    def __init__(self, parts: Parts, settler: Settler, adoptions: list[Adoption]) -> None:
        self._parts = parts
        self._settler = settler
        self._adoptions = adoptions

    async def run(self) -> ReconcileReport:
        parts = self._parts
        report = ReconcileReport()
        if parts.gate.journal_failure is not None:
            # Nothing found could be recorded; the engine stays halted until restarted.
            report.problems.append(f"journal: {parts.gate.journal_failure}")
            return report
        try:
            account = await parts.link.call(parts.venue.account())
            parts.pipeline.apply_account(account.balances, account.update_time)
            await self._open_orders(report)
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
        report.watch_list = len(parts.watch)
        return report

    async def _open_orders(self, report: ReconcileReport) -> None:
        parts = self._parts
        listed = await parts.link.call(parts.venue.open_orders())
        report.open_orders = len(listed)
        seen = {status.order_client_id for status in listed}
        for status in listed:
            parts.pipeline.apply(status)
        for order in list(parts.book.open_orders()):
            cid = order.client_order_id
            if cid in seen or cid in parts.in_flight or cid not in parts.book:
                continue
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
                parts.pipeline.record(parts.book.mark_unknown(current.client_order_id))
                current = parts.book.get(current.client_order_id)
            if current is not None and current.state is OrderState.UNKNOWN:
                self._settler.watch(current)
            else:
                report.problems.append(
                    f"{order.client_order_id} (order id {order.order_id}) is open in the book "
                    "but the exchange does not find it"
                )

    async def _trades(self, symbol: str, report: ReconcileReport) -> list[FillReport] | None:
        """Fold in the symbol's trades after the cursor; the history when there is none."""
        parts = self._parts
        journal = parts.journal
        page = parts.options.trade_page
        last_ids = [
            value
            for value in (
                await journal.last_trade_id(symbol),
                await journal.max_counter(trade_cursor_name(symbol)),
            )
            if value is not None
        ]
        if not last_ids:
            history = await parts.link.call(parts.venue.my_trades(symbol, limit=page))
            cursor = max((trade.trade_id for trade in history), default=0)
            await journal.advance_counter(trade_cursor_name(symbol), cursor)
            return history
        from_id = max(last_ids) + 1
        while True:
            trades = await parts.link.call(
                parts.venue.my_trades(symbol, from_id=from_id, limit=page)
            )
            await self._fold(symbol, trades, report)
            if trades:
                from_id = max(trade.trade_id for trade in trades) + 1
                await journal.advance_counter(trade_cursor_name(symbol), from_id - 1)
            if len(trades) < page:
                return None

    async def _fold(self, symbol: str, trades: list[FillReport], report: ReconcileReport) -> None:
        parts = self._parts
        book = parts.book
        by_order: dict[int, list[FillReport]] = defaultdict(list)
        for trade in trades:
            if not book.has_seen_fill(trade.symbol, trade.trade_id):
                by_order[trade.order_id].append(trade)
        for order_id, fills in by_order.items():
            if book.find(symbol, order_id) is None:
                found = await parts.link.call(
                    parts.venue.all_orders(symbol, order_id=order_id, limit=1)
                )
                for status in found:
                    if status.order_id == order_id:
                        parts.pipeline.apply(status)
            parts.pipeline.apply(fills=fills)
            report.trades_folded += len(fills)

    async def _watch_list(self, report: ReconcileReport) -> None:
        parts = self._parts
        for cid in list(parts.watch):
            order = parts.book.get(cid)
            if order is None:
                parts.watch.pop(cid, None)
                continue
            await self._query(order, report)

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
