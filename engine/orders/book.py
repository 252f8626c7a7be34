"""The book of our own orders: a pure state machine keyed by client order id, moved by reports.

Orders enter from an intent (PENDING_NEW) and then move only by what the venue reports: stream
events, REST responses, queries, trade lists, in any order and any number of times. Each call
returns the events it caused. Reports for orders the book does not know create them: EXTERNAL
when the id is not ours, ADOPTED (an alarm) when it carries our prefix. Terminal orders can be
evicted; a bounded window (see `window.py`) keeps recognising their late duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from engine.core.events import (
    Event,
    ExternalOrderDetected,
    OrderAdopted,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderRejected,
    OrderStateUnknown,
    OrderSubmitted,
    ReportUnmatched,
)
from engine.core.intents import OrderIntent
from engine.core.order import Order
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.types import OrderState, Origin
from engine.orders.transitions import (
    apply_status,
    book_fill,
    fill_events,
    order_from_intent,
    skeleton,
    status_events,
)
from engine.orders.window import EvictedWindow

TradeKey = tuple[str, int]


def _seen_at(status: OrderStatusReport | None, fills: Sequence[FillReport]) -> datetime:
    return status.transact_time if status is not None else fills[0].time


DEFAULT_EVICTED_WINDOW = 10_000


class DuplicateClientOrderId(ValueError):
    """An intent reused a client order id the book knows (ids are unique forever)."""


class OrderBook:
    """Our orders by client order id, with indexes by exchange order id and by trade id."""

    def __init__(
        self,
        *,
        is_ours: Callable[[str], bool],
        evicted_window: int = DEFAULT_EVICTED_WINDOW,
    ) -> None:
        self._is_ours = is_ours
        self._orders: dict[str, Order] = {}
        self._by_order_id: dict[tuple[str, int], str] = {}
        self._trades: dict[str, list[TradeKey]] = {}
        self._trade_owner: dict[TradeKey, str] = {}
        self._evicted = EvictedWindow(evicted_window)

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def __iter__(self) -> Iterator[Order]:
        return iter(list(self._orders.values()))

    def get(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def find(self, symbol: str, order_id: int) -> Order | None:
        """The order with this exchange order id, if the book holds it."""
        client_order_id = self._by_order_id.get((symbol, order_id))
        return None if client_order_id is None else self._orders[client_order_id]

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            order
            for order in self._orders.values()
            if order.is_open and (symbol is None or order.symbol == symbol)
        ]

    def has_seen_fill(self, symbol: str, trade_id: int) -> bool:
        key = (symbol, trade_id)
        return key in self._trade_owner or self._evicted.has_trade(key)

    def trade_keys(self, client_order_id: str) -> tuple[TradeKey, ...]:
        """The (symbol, trade id) of every fill booked for an order held in the book."""
        return tuple(self._trades.get(client_order_id, ()))

    # -- commands from the desk ---------------------------------------------------------------

    def submit(self, intent: OrderIntent) -> list[Event]:
        """Enter an intent as PENDING_NEW (after the journal committed it, before sending)."""
        self._refuse_known(intent.client_order_id)
        order = order_from_intent(intent)
        self._store(order)
        return [OrderSubmitted(order)]

    def restore(self, order: Order, trade_keys: Iterable[TradeKey] = ()) -> None:
        """Put back an order read from the journal at start, with the trades booked for it."""
        self._refuse_known(order.client_order_id)
        self._store(order)
        for key in trade_keys:
            self._remember_trade(order.client_order_id, key)

    def mark_unknown(self, client_order_id: str) -> list[Event]:
        """The outcome of a request is unknown (timeout, 5xx, -1007): settle it by query."""
        order = self._unless_evicted(client_order_id)
        if order is None:
            return []  # settled and evicted already: a late request changes nothing
        if order.is_terminal or order.state is OrderState.UNKNOWN:
            return []  # a stream report already settled it: a timeout never downgrades
        return [OrderStateUnknown(self._store(replace(order, state=OrderState.UNKNOWN)))]

    def reject(self, client_order_id: str, reason: str) -> list[Event]:
        """A definite rejection of the create request (-2010, -1013...): the venue never had it.

        Ignored once the venue has shown the order exists (its reports win).
        """
        order = self._unless_evicted(client_order_id)
        if order is None:
            return []  # settled and evicted already: a late request changes nothing
        if order.last_known_state is not OrderState.PENDING_NEW or order.order_id is not None:
            return []
        rejected = replace(
            order,
            state=OrderState.REJECTED,
            last_known_state=OrderState.REJECTED,
            reject_reason=reason,
        )
        return [OrderRejected(self._store(rejected))]

    def request_cancel(
        self, client_order_id: str, cancel_client_order_id: str | None = None
    ) -> list[Event]:
        """Flag a cancel as in flight; a second request while one is in flight does nothing."""
        order = self._unless_evicted(client_order_id)
        if order is None:
            return []  # settled and evicted already: a late request changes nothing
        if order.is_terminal or order.cancel_requested:
            return []
        flagged = replace(
            order,
            cancel_requested=True,
            cancel_client_order_id=cancel_client_order_id or order.cancel_client_order_id,
        )
        return [OrderCancelRequested(self._store(flagged))]

    def cancel_rejected(self, client_order_id: str, reason: str) -> list[Event]:
        """The venue refused the cancel (-2011...): clear the flag and say why."""
        order = self._unless_evicted(client_order_id)
        if order is None:
            return []  # settled and evicted already: a late request changes nothing
        if not order.cancel_requested:
            return []
        cleared = replace(order, cancel_requested=False)
        return [OrderCancelRejected(self._store(cleared), reason)]

    # -- reports from the venue ---------------------------------------------------------------

    def apply(
        self, status: OrderStatusReport | None = None, fills: Sequence[FillReport] = ()
    ) -> list[Event]:
        """Fold one venue message in: an executionReport (status and its fill), a REST order
        response (status and its `fills`), a query (status only) or myTrades rows (fills only).
        """
        if status is None:
            events: list[Event] = []
            for fill in fills:
                events.extend(self._apply_one(None, (fill,)))
            return events
        return self._apply_one(status, fills)

    def apply_status(self, status: OrderStatusReport) -> list[Event]:
        return self._apply_one(status, ())

    def apply_fill(self, fill: FillReport) -> list[Event]:
        return self._apply_one(None, (fill,))

    def _apply_one(
        self, status: OrderStatusReport | None, fills: Sequence[FillReport]
    ) -> list[Event]:
        new_fills = [fill for fill in fills if not self.has_seen_fill(fill.symbol, fill.trade_id)]
        if status is None and not new_fills:
            return []  # every fill is a duplicate
        found = self._resolve(status, new_fills)
        if not isinstance(found, Order):
            return [] if found is None else [found]
        events: list[Event] = []
        if status is not None and found.state is OrderState.REJECTED and found.order_id is None:
            events.append(
                ReportUnmatched("the venue reports an order the desk took as rejected", status)
            )
        order = found
        if status is not None:
            order = apply_status(found, status)
            events.extend(status_events(found, order, fills_follow=bool(new_fills)))
        for fill in new_fills:
            previous = order
            order = book_fill(order, fill)
            self._remember_trade(order.client_order_id, fill.key)
            events.extend(fill_events(previous, order, fill))
        if order.client_order_id not in self._orders:
            first = OrderAdopted if order.origin is Origin.ADOPTED else ExternalOrderDetected
            events.insert(0, first(order))
        self._store(order)
        return events

    def _resolve(
        self, status: OrderStatusReport | None, new_fills: Sequence[FillReport]
    ) -> Order | ReportUnmatched | None:
        """The order a message is about: one in the book (by exchange order id, else by client
        order id) or a new EXTERNAL / ADOPTED one; ReportUnmatched when it cannot be attributed;
        None for a late duplicate about an evicted order.
        """
        probe = status if status is not None else new_fills[0]
        symbol, order_id = probe.symbol, probe.order_id
        client_order_id = (
            status.order_client_id if status is not None else new_fills[0].client_order_id
        )
        order = self.find(symbol, order_id)
        if order is not None:
            return order
        if client_order_id is not None and client_order_id in self._orders:
            order = self._orders[client_order_id]
            if order.order_id is None:
                return order
            return self._unmatched("another exchange order has this client id", status, new_fills)
        if self._evicted.has_order(symbol, order_id):
            if new_fills:
                return self._unmatched("new fill for an evicted order", status, new_fills)
            return None
        if client_order_id is None:
            return self._unmatched("fill of an order the book does not know", None, new_fills)
        if self._evicted.has_client_id(client_order_id):
            return self._unmatched("another exchange order has this client id", status, new_fills)
        origin = Origin.ADOPTED if self._is_ours(client_order_id) else Origin.EXTERNAL
        return skeleton(client_order_id, symbol, origin, _seen_at(status, new_fills))

    # -- memory -------------------------------------------------------------------------------

    def evictable(self, order: Order) -> bool:
        """Terminal with every executed quantity booked: nothing more can change it."""
        return order.is_terminal and order.missing_fill_qty <= 0

    def evict(self, client_order_id: str) -> None:
        """Forget a settled order (the journal keeps it); its ids stay in the bounded window."""
        order = self._require(client_order_id)
        if not self.evictable(order):
            raise ValueError(f"order {client_order_id} is not settled; it cannot be evicted")
        del self._orders[client_order_id]
        if order.order_id is not None:
            del self._by_order_id[(order.symbol, order.order_id)]
        keys = self._trades.pop(client_order_id, [])
        for key in keys:
            del self._trade_owner[key]
        self._evicted.add(client_order_id, order.symbol, order.order_id, keys)

    def evict_settled(self) -> list[str]:
        """Evict every settled order; returns their client order ids."""
        settled = [cid for cid, order in self._orders.items() if self.evictable(order)]
        for client_order_id in settled:
            self.evict(client_order_id)
        return settled

    # -- internals ----------------------------------------------------------------------------

    def _unless_evicted(self, client_order_id: str) -> Order | None:
        """The order, or None when it settled and left the book (e.g. a create's late timeout
        after the stream reported its fill); KeyError for an id the book never had."""
        if client_order_id not in self._orders and self._evicted.has_client_id(client_order_id):
            return None
        return self._require(client_order_id)

    def _require(self, client_order_id: str) -> Order:
        try:
            return self._orders[client_order_id]
        except KeyError:
            raise KeyError(f"no order {client_order_id!r} in the book") from None

    def _refuse_known(self, client_order_id: str) -> None:
        if client_order_id in self._orders or self._evicted.has_client_id(client_order_id):
            raise DuplicateClientOrderId(f"client order id {client_order_id} is already used")

    def _store(self, order: Order) -> Order:
        self._orders[order.client_order_id] = order
        if order.order_id is not None:
            self._by_order_id[(order.symbol, order.order_id)] = order.client_order_id
        return order

    def _remember_trade(self, client_order_id: str, key: TradeKey) -> None:
        self._trades.setdefault(client_order_id, []).append(key)
        self._trade_owner[key] = client_order_id

    @staticmethod
    def _unmatched(
        reason: str, status: OrderStatusReport | None, fills: Sequence[FillReport]
    ) -> ReportUnmatched:
        return ReportUnmatched(reason, status, tuple(fills))
