"""The report pipeline: venue truth -> order book -> ledger -> journal -> event stream.

Every report (a stream event, a REST response, a query, a trade list, a balance snapshot) is
folded in synchronously, so nothing interleaves with it on the event loop. Journal writes are
queued, never awaited here: the journal batches them into group commits, and each event reaches
subscribers once its row is durable, in seq order. A write that fails calls `on_failure` once
(the engine halts). Settled orders leave the book (the journal keeps them); the newest of them
stay in a short `recent` list for the snapshot.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core import failpoints
from engine.core.events import (
    BalanceChanged,
    Event,
    OrderEvent,
    OrderFilled,
    OrderPartiallyFilled,
)
from engine.core.order import Order
from engine.core.reports import BalanceReport, FillReport, OrderStatusReport
from engine.journal import Journal
from engine.journal.codec import format_ts
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.service.events import EngineAlarm
from engine.service.eventstream import EventHub
from engine.service.payloads import event_payload
from engine.service.records import fill_payload, order_payload

log = logging.getLogger(__name__)

FeePricer = Callable[[str, str], Decimal | None]
"""(commission asset, quote asset) -> the asset's price in the quote asset, if known."""


class Pipeline:
    """Applies reports and commands' book changes, journals the results, publishes events."""

    def __init__(
        self,
        *,
        journal: Journal,
        book: OrderBook,
        ledger: Ledger,
        hub: EventHub,
        now: Callable[[], datetime],
        fee_pricer: FeePricer,
        on_failure: Callable[[str], None],
        halt: Callable[[str], None],
        journal_fill_count: int,
        recent: Iterable[Order] = (),
        recent_limit: int = 50,
    ) -> None:
        self.journal = journal
        self.book = book
        self.ledger = ledger
        self.hub = hub
        self._now = now
        self._fee_pricer = fee_pricer
        self._on_failure = on_failure
        self._halt = halt
        self._failed = False
        self.journal_fill_count = journal_fill_count
        self.recent: collections.deque[Order] = collections.deque(recent, maxlen=recent_limit)
        self._dirty: dict[str, None] = {}
        self._flush_scheduled = False
        # Journaled events not yet published, in seq order: (write, ts text, payload).
        self._unpublished: collections.deque[tuple[asyncio.Future[int], str, dict[str, Any]]] = (
            collections.deque()
        )

    # -- inputs --------------------------------------------------------------------------------

    def apply(
        self, status: OrderStatusReport | None = None, fills: Sequence[FillReport] = ()
    ) -> list[Event]:
        """Fold one venue message about orders in (see `OrderBook.apply`)."""
        return self.record(self.book.apply(status, fills))

    def apply_balances(self, reports: Iterable[BalanceReport]) -> list[Event]:
        """Absolute balances of the assets that changed (an outboundAccountPosition)."""
        return self.record(self.ledger.apply_balances(reports))

    def apply_account(self, reports: Iterable[BalanceReport], time: datetime) -> list[Event]:
        """A complete account snapshot (GET /account)."""
        return self.record(self.ledger.apply_account_snapshot(reports, time))

    def record(self, events: Sequence[Event]) -> list[Event]:
        """Journal and publish events that already changed the book or the ledger; the fills
        among them are booked to the ledger here. Returns every event, the ledger's included."""
        out: list[Event] = []
        for event in events:
            out.append(event)
            if isinstance(event, OrderEvent):
                if not self._flush_scheduled:
                    self._open_unit()
                self._dirty[event.order.client_order_id] = None
            if isinstance(event, OrderFilled | OrderPartiallyFilled):
                out.extend(self._book_fill(event.order, event.fill))
            elif isinstance(event, BalanceChanged):
                self._journal_balance(event.balance)
        if out:
            ts = self._now()
            ts_text = format_ts(ts)
            for event in out:
                last = self._emit(event, ts, ts_text)
            last.add_done_callback(self._publish_committed)
        return out

    def _open_unit(self) -> None:
        """An order moves: what this loop pass journals, its rows included, commits as one."""
        self.journal.begin_unit()
        self._flush_scheduled = True
        asyncio.get_running_loop().call_soon(self.write_orders)

    def write_orders(self) -> None:
        """Journal the latest record of every order changed since the last call, end the
        journal unit, then let the settled ones leave the book.

        Runs once per event-loop pass (scheduled by `record` with the unit it opens): a stream
        burst that moves one order five times writes one order row, not five, and the row
        commits in the same transaction as the fills and events that moved it (and everything
        else queued meanwhile): a crash or a failed write never leaves a row behind them.
        """
        unit_open, self._flush_scheduled = self._flush_scheduled, False
        dirty, self._dirty = self._dirty, {}
        orders = [order for cid in dirty if (order := self.book.get(cid)) is not None]
        try:
            self.journal_orders(orders)
        finally:
            if unit_open:
                self.journal.end_unit()
        for order in orders:
            if self.book.evictable(order):
                self.book.evict(order.client_order_id)
                self.recent.append(order)

    def journal_orders(self, orders: Iterable[Order]) -> None:
        """Write these orders' rows as they stand, with no event (also how a restart replaces
        rows it found behind their journaled fills, see `restore.py`)."""
        last: asyncio.Future[None] | None = None
        for order in orders:
            last = self._journal_order(order)
        if last is not None:
            # Writes commit in order and a failed write fails every later one, so the last
            # write's outcome is the whole pass's: one check instead of one per order.
            last.add_done_callback(self._check_write)

    def emit(self, event: Event) -> asyncio.Future[int]:
        """Journal one event; it reaches subscribers once committed. Resolves to its seq."""
        ts = self._now()
        future = self._emit(event, ts, format_ts(ts))
        future.add_done_callback(self._publish_committed)
        return future

    def _emit(self, event: Event, ts: datetime, ts_text: str) -> asyncio.Future[int]:
        """Queue one event's row; the caller adds `_publish_committed` to its last write."""
        payload = event_payload(event)
        future = self.journal.append_event(event.name, payload, ts=ts)
        self._unpublished.append((future, ts_text, payload))
        return future

    # -- internals -----------------------------------------------------------------------------

    def _book_fill(self, order: Order, fill: FillReport) -> list[Event]:
        fee_price = self._fee_price(fill)
        future = self.journal.record_fill(
            fill.symbol,
            fill.trade_id,
            client_order_id=order.client_order_id,
            payload=fill_payload(fill, order.client_order_id, fee_price),
            ts=fill.time,
        )
        future.add_done_callback(self._fill_committed)
        failpoints.hit("after_fill_event_before_commit")
        try:
            return self.ledger.apply_fill(fill, fee_price=fee_price)
        except KeyError as missing:
            return [EngineAlarm("ledger", f"fill {fill.symbol} #{fill.trade_id}: {missing}")]

    def _fee_price(self, fill: FillReport) -> Decimal | None:
        asset = fill.commission_asset
        if asset is None or fill.commission == 0:
            return None
        try:
            rules = self.ledger.rules(fill.symbol)
        except KeyError:
            return None
        if asset in (rules.base_asset, rules.quote_asset):
            return None
        return self._fee_pricer(asset, rules.quote_asset)

    def _journal_order(self, order: Order) -> asyncio.Future[None]:
        return self.journal.upsert_order(
            order.client_order_id,
            symbol=order.symbol,
            state=order.state.value,
            # "terminal" in the journal means settled: no fills left to fetch, so a restart
            # never needs it in the book again.
            terminal=self.book.evictable(order),
            payload=order_payload(order),
            updated_at=order.updated_at,
        )

    def _journal_balance(self, balance: BalanceReport) -> None:
        future = self.journal.set_balance(
            balance.asset, free=balance.free, locked=balance.locked, updated_at=balance.time
        )
        future.add_done_callback(self._check_write)

    def _fill_committed(self, future: asyncio.Future[bool]) -> None:
        if self._check_write(future):
            if future.result():
                self.journal_fill_count += 1
            else:
                # Only past the book's window of evicted orders can a known fill get this far;
                # the ledger in memory counted it twice, the journal did not.
                message = "a fill already journaled was booked again in memory"
                self.emit(EngineAlarm("duplicate_fill", message))
                self._halt(f"{message}; restart the engine to rebuild the ledger")

    def _publish_committed(self, _settled: asyncio.Future[int]) -> None:
        """Publish, in seq order, every queued event whose write has settled.

        Called back by the last event write of each `record` or `emit`: writes settle in the
        order they were queued, so when one has, every event queued before it has too, and a
        burst's events reach subscribers with one callback instead of one each.
        """
        unpublished = self._unpublished
        while unpublished and unpublished[0][0].done():
            future, ts_text, payload = unpublished.popleft()
            if self._check_write(future):
                self.hub.publish({"seq": future.result(), "ts": ts_text, **payload})

    def _check_write(self, future: asyncio.Future[Any]) -> bool:
        """True when the write committed; otherwise report the journal's failure once."""
        if future.cancelled():
            return False
        error = future.exception()
        if error is None:
            return True
        if not self._failed:
            self._failed = True
            log.error("journal write failed: %s", error)
            self._on_failure(f"journal write failed: {error}")
        return False
