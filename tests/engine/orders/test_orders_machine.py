"""Hypothesis over the order book: a venue model sends reports the book may get late, twice,
out of order or never; the book's invariants (RELIABILITY I3, I5, C4, C5) hold after every step.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from order_reports import Message, VenueOrder, intent, is_ours

from engine.core.order import Order
from engine.core.types import OrderState
from engine.orders import OrderBook

QTYS = st.sampled_from(["1", "0.5", "2.5"])
PARTS = st.sampled_from([Decimal("0.1"), Decimal("0.25"), Decimal("1"), Decimal("10")])


def _apply(book: OrderBook, message: Message) -> None:
    status, fills = message
    book.apply(status, fills)


class OrderBookMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    @initialize()
    def start(self) -> None:
        self.book = OrderBook(is_ours=is_ours, evicted_window=100)
        self.venue: dict[str, VenueOrder] = {}
        self.pending: list[Message] = []
        self.previous: dict[str, Order] = {}
        self.evicted: set[str] = set()
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    # -- the desk -------------------------------------------------------------------------------

    @rule(target=orders, qty=QTYS)
    def submit(self, qty: str) -> str:
        number = self._next()
        cid = f"sd-m-{number}"
        self.book.submit(intent(cid, qty=qty))
        self.venue[cid] = VenueOrder(cid, order_id=number, qty=Decimal(qty))
        return cid

    @rule(cid=orders)
    def rest_timeout(self, cid: str) -> None:
        if cid not in self.evicted:
            self.book.mark_unknown(cid)

    @rule(cid=orders)
    def request_cancel(self, cid: str) -> None:
        if cid not in self.evicted:
            self.book.request_cancel(cid, f"sd-m-{self._next()}")

    @rule(cid=orders)
    def rest_rejection(self, cid: str) -> None:
        if cid not in self.evicted and self.venue[cid].state is OrderState.REJECTED:
            self.book.reject(cid, "-2010 Account has insufficient balance")

    @rule(cid=orders)
    def cancel_refused(self, cid: str) -> None:
        """-2011: the order is no longer open at the venue when the cancel arrives."""
        if cid not in self.evicted and not self.venue[cid].is_open:
            self.book.cancel_rejected(cid, "-2011 Unknown order sent.")

    @rule(cid=orders)
    def evict(self, cid: str) -> None:
        order = self.book.get(cid)
        if order is not None and self.book.evictable(order):
            self.book.evict(cid)
            self.evicted.add(cid)

    # -- the venue ------------------------------------------------------------------------------

    @rule(cid=orders)
    def venue_accepts(self, cid: str) -> None:
        if self.venue[cid].state is OrderState.PENDING_NEW:
            self.pending.append(self.venue[cid].accept())

    @rule(cid=orders)
    def venue_rejects(self, cid: str) -> None:
        if self.venue[cid].state is OrderState.PENDING_NEW:
            self.pending.append(self.venue[cid].reject())

    @rule(cid=orders, part=PARTS)
    def venue_trades(self, cid: str, part: Decimal) -> None:
        if self.venue[cid].is_open:
            self.pending.append(self.venue[cid].trade(part, self._next()))

    @rule(cid=orders)
    def venue_cancels(self, cid: str) -> None:
        if self.venue[cid].is_open:
            self.pending.append(self.venue[cid].cancel(f"sd-m-{self._next()}"))

    @rule(cid=orders)
    def venue_expires(self, cid: str) -> None:
        if self.venue[cid].is_open:
            self.pending.append(self.venue[cid].expire())

    # -- delivery -------------------------------------------------------------------------------

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.pending) - 1))
        _apply(self.book, self.pending.pop(index))

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def deliver_twice(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.pending) - 1))
        _apply(self.book, self.pending[index])

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))

    @rule(cid=orders)
    def query(self, cid: str) -> None:
        """GET /order: the venue's truth now (-2013 while the venue has not seen it)."""
        if self.venue[cid].state is not OrderState.PENDING_NEW:
            self.book.apply_status(self.venue[cid].report())

    @rule(cid=orders)
    def fetch_trades(self, cid: str) -> None:
        self.book.apply(None, self.venue[cid].my_trades())

    @rule()
    def reconcile(self) -> None:
        """Deliver everything, query every order, fetch every trade: the book must converge."""
        for message in self.pending:
            _apply(self.book, message)
        self.pending.clear()
        for venue in self.venue.values():
            if venue.state is not OrderState.PENDING_NEW:
                self.book.apply_status(venue.report())
            self.book.apply(None, venue.my_trades())
        for cid, venue in self.venue.items():
            order = self.book.get(cid)
            if order is None:
                assert cid in self.evicted
                continue
            if venue.state is OrderState.PENDING_NEW:
                assert order.state in (OrderState.PENDING_NEW, OrderState.UNKNOWN)
                continue
            assert order.state is venue.state, (cid, order.state, venue.state)
            assert order.cum_qty == order.filled_qty == venue.cum
            assert order.fill_count == len(venue.fills)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def only_desk_orders_are_in_the_book(self) -> None:
        assert {order.client_order_id for order in self.book} == set(self.venue) - self.evicted

    @invariant()
    def states_and_quantities_only_move_forward(self) -> None:
        for cid in self.venue:
            order = self.book.get(cid)
            if order is None:
                continue
            before = self.previous.get(cid)
            if before is not None:
                assert order.rank >= before.rank
                assert order.cum_qty >= before.cum_qty
                assert order.filled_qty >= before.filled_qty
                if before.is_terminal:
                    assert order.state is before.state
            self.previous[cid] = order

    @invariant()
    def quantities_match_the_unique_fills(self) -> None:
        for cid, venue in self.venue.items():
            order = self.book.get(cid)
            if order is None:
                continue
            booked = {trade_id for _symbol, trade_id in self.book.trade_keys(cid)}
            assert len(booked) == order.fill_count == len(self.book.trade_keys(cid))
            assert order.filled_qty == sum(
                (f.qty for f in venue.fills if f.trade_id in booked), Decimal(0)
            )
            assert order.filled_qty <= order.cum_qty <= venue.cum

    @invariant()
    def the_book_never_runs_ahead_of_the_venue(self) -> None:
        for cid, venue in self.venue.items():
            order = self.book.get(cid)
            if order is None:
                continue
            if order.is_terminal:
                assert order.state is venue.state
            elif (
                order.state is not OrderState.UNKNOWN and venue.state is not OrderState.PENDING_NEW
            ):
                assert order.rank <= venue.state.rank


OrderBookMachine.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrderBookMachine = OrderBookMachine.TestCase


# -- C5: the same reports in any order give the same book ----------------------------------------


@st.composite
def venue_scripts(draw: st.DrawFn) -> tuple[list[VenueOrder], list[Message]]:
    count = draw(st.integers(1, 3))
    orders = [
        VenueOrder(f"sd-p-{n}", order_id=n, qty=Decimal(draw(QTYS))) for n in range(1, count + 1)
    ]
    messages: list[Message] = []
    trade_id = 100
    for _ in range(draw(st.integers(0, 12))):
        venue = draw(st.sampled_from(orders))
        action = draw(st.sampled_from(["accept", "reject", "trade", "cancel", "expire", "query"]))
        if venue.state is OrderState.PENDING_NEW:
            messages.append(venue.reject() if action == "reject" else venue.accept())
        elif venue.is_open and action == "trade":
            trade_id += 1
            messages.append(venue.trade(draw(PARTS), trade_id))
        elif venue.is_open and action == "cancel":
            trade_id += 1
            messages.append(venue.cancel(f"sd-p-c{trade_id}"))
        elif venue.is_open and action == "expire":
            messages.append(venue.expire())
        else:
            messages.append((venue.report(), ()))
    for venue in orders:
        messages.extend((None, (row,)) for row in venue.my_trades())
    return orders, messages


def _final_book(orders: list[VenueOrder], messages: list[Message]) -> list[Order | None]:
    book = OrderBook(is_ours=is_ours)
    for venue in orders:
        book.submit(intent(venue.cid, qty=str(venue.qty)))
    for message in messages:
        _apply(book, message)
    return [book.get(venue.cid) for venue in orders]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), script=venue_scripts())
def test_final_state_does_not_depend_on_delivery_order(
    data: st.DataObject, script: tuple[list[VenueOrder], list[Message]]
) -> None:
    orders, messages = script
    in_order = _final_book(orders, messages)
    duplicates = data.draw(st.lists(st.sampled_from(messages), max_size=5)) if messages else []
    shuffled = data.draw(st.permutations(messages + duplicates))
    assert _final_book(orders, shuffled) == in_order
    for venue, order in zip(orders, in_order, strict=True):
        assert order is not None
        if venue.state is not OrderState.PENDING_NEW:
            assert order.state is venue.state
        assert order.filled_qty == venue.cum
