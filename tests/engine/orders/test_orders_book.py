"""The order book, rule by rule, with exact values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from order_reports import SYMBOL, T0, at, fill, intent, is_ours, status

from engine.core.events import (
    ExternalOrderDetected,
    OrderAccepted,
    OrderAdopted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderStateUnknown,
    OrderSubmitted,
    OrderUpdated,
    ReportUnmatched,
)
from engine.core.types import OrderState, Origin
from engine.orders import DuplicateClientOrderId, OrderBook

CID = "sd-t1-1"
S = OrderState


def names(events: list[object]) -> list[str]:
    return [type(e).__name__ for e in events]


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(is_ours=is_ours)


@pytest.fixture
def submitted(book: OrderBook) -> OrderBook:
    book.submit(intent(CID))
    return book


def test_submit_enters_pending_new(book: OrderBook) -> None:
    events = book.submit(intent(CID))
    assert names(events) == ["OrderSubmitted"]
    assert isinstance(events[0], OrderSubmitted)
    order = events[0].order
    assert (order.state, order.last_known_state, order.origin) == (
        S.PENDING_NEW,
        S.PENDING_NEW,
        Origin.DESK,
    )
    assert (order.qty, order.price, order.order_id, order.created_at) == (
        Decimal(1),
        Decimal(100),
        None,
        T0,
    )
    assert book.get(CID) == order and CID in book and len(book) == 1


def test_a_client_order_id_is_used_once(submitted: OrderBook) -> None:
    with pytest.raises(DuplicateClientOrderId):
        submitted.submit(intent(CID))


def test_new_is_accepted_once(submitted: OrderBook) -> None:
    events = submitted.apply_status(status(CID, S.NEW, order_id=42, t=5))
    assert names(events) == ["OrderAccepted"]
    order = submitted.get(CID)
    assert order is not None
    assert (order.state, order.order_id, order.updated_at) == (S.NEW, 42, at(5))
    assert submitted.find(SYMBOL, 42) == order
    assert submitted.apply_status(status(CID, S.NEW, order_id=42, t=5)) == []


def test_stream_fill_before_the_rest_reply_then_the_full_response_changes_nothing(
    submitted: OrderBook,
) -> None:
    trade = fill(7, "1", cid=CID)
    events = submitted.apply(status(CID, S.FILLED, "1"), [trade])
    assert names(events) == ["OrderAccepted", "OrderFilled"]
    assert isinstance(events[1], OrderFilled) and events[1].fill == trade
    before = submitted.get(CID)
    # The REST FULL response arrives later with the same trade.
    assert submitted.apply(status(CID, S.FILLED, "1"), [fill(7, "1", cid=CID)]) == []
    assert submitted.get(CID) == before


def test_a_rest_timeout_after_a_stream_fill_does_not_downgrade(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.FILLED, "1"), [fill(7, "1")])
    assert submitted.mark_unknown(CID) == []
    order = submitted.get(CID)
    assert order is not None and order.state is S.FILLED


def test_unknown_is_settled_by_a_query(submitted: OrderBook) -> None:
    events = submitted.mark_unknown(CID)
    assert names(events) == ["OrderStateUnknown"]
    assert isinstance(events[0], OrderStateUnknown)
    assert (events[0].order.state, events[0].order.last_known_state) == (S.UNKNOWN, S.PENDING_NEW)
    assert submitted.mark_unknown(CID) == []
    assert names(submitted.apply_status(status(CID, S.NEW))) == ["OrderAccepted"]
    order = submitted.get(CID)
    assert order is not None and (order.state, order.last_known_state) == (S.NEW, S.NEW)


def test_unknown_is_settled_to_any_state(submitted: OrderBook) -> None:
    submitted.mark_unknown(CID)
    events = submitted.apply_status(status(CID, S.REJECTED, reject_reason="INSUFFICIENT_BALANCES"))
    assert names(events) == ["OrderRejected"]
    order = submitted.get(CID)
    assert order is not None and (order.state, order.reject_reason) == (
        S.REJECTED,
        "INSUFFICIENT_BALANCES",
    )


def test_unknown_never_settles_below_what_was_known(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.PARTIALLY_FILLED, "0.4"), [fill(1, "0.4")])
    submitted.mark_unknown(CID)
    events = submitted.apply_status(status(CID, S.NEW))
    assert names(events) == ["OrderUpdated"]
    order = submitted.get(CID)
    assert order is not None and (order.state, order.cum_qty) == (
        S.PARTIALLY_FILLED,
        Decimal("0.4"),
    )


def test_a_fill_settles_an_unknown_order(submitted: OrderBook) -> None:
    submitted.mark_unknown(CID)
    events = submitted.apply_fill(fill(1, "0.25"))
    assert names(events) == ["OrderAccepted", "OrderPartiallyFilled"]
    order = submitted.get(CID)
    assert order is not None and order.state is S.PARTIALLY_FILLED and order.order_id == 1


def test_a_late_new_after_filled_changes_nothing(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.FILLED, "1", t=9), [fill(1, "1", t=9)])
    before = submitted.get(CID)
    assert submitted.apply_status(status(CID, S.NEW, t=1)) == []
    assert submitted.get(CID) == before


def test_a_lower_cumulative_quantity_never_moves_back(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.PARTIALLY_FILLED, "0.5"))
    assert submitted.apply_status(status(CID, S.PARTIALLY_FILLED, "0.3")) == []
    order = submitted.get(CID)
    assert order is not None and (order.cum_qty, order.cum_quote) == (
        Decimal("0.5"),
        Decimal("50.0"),
    )


def test_filled_before_partially_filled(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.FILLED, "1", t=2), [fill(2, "0.6", t=2)])
    events = submitted.apply(status(CID, S.PARTIALLY_FILLED, "0.4", t=1), [fill(1, "0.4", t=1)])
    assert names(events) == ["OrderFilled"]  # the fill that completes the booking
    order = submitted.get(CID)
    assert order is not None
    assert (order.state, order.cum_qty, order.filled_qty, order.fill_count) == (
        S.FILLED,
        Decimal(1),
        Decimal(1),
        2,
    )
    assert order.updated_at == at(2)


def test_canceled_before_new_stays_canceled(submitted: OrderBook) -> None:
    events = submitted.apply_status(status("sd-t1-9", S.CANCELED, orig=CID))
    assert names(events) == ["OrderAccepted", "OrderCanceled"]
    assert submitted.apply_status(status(CID, S.NEW)) == []
    order = submitted.get(CID)
    assert order is not None and order.state is S.CANCELED


def test_a_cancel_report_maps_by_the_original_id(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    events = submitted.apply_status(status("sd-t1-9", S.CANCELED, orig=CID))
    assert names(events) == ["OrderCanceled"]
    assert isinstance(events[0], OrderCanceled)
    assert events[0].order.cancel_client_order_id == "sd-t1-9"
    assert "sd-t1-9" not in submitted and len(submitted) == 1


def test_a_partially_filled_order_is_canceled_and_its_late_fill_still_booked(
    submitted: OrderBook,
) -> None:
    submitted.apply_status(status(CID, S.NEW))
    events = submitted.apply_status(status("sd-t1-9", S.CANCELED, "0.3", orig=CID))
    assert names(events) == ["OrderCanceled"]
    order = submitted.get(CID)
    assert order is not None and order.missing_fill_qty == Decimal("0.3")
    assert not submitted.evictable(order)
    events = submitted.apply(status(CID, S.PARTIALLY_FILLED, "0.3"), [fill(1, "0.3")])
    assert names(events) == ["OrderPartiallyFilled"]
    order = submitted.get(CID)
    assert order is not None
    assert (order.state, order.filled_qty, order.missing_fill_qty) == (
        S.CANCELED,
        Decimal("0.3"),
        0,
    )
    assert order.remaining_qty == 0


def test_cancel_request_flag(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    events = submitted.request_cancel(CID, "sd-t1-9")
    assert names(events) == ["OrderCancelRequested"]
    assert isinstance(events[0], OrderCancelRequested)
    assert (events[0].order.cancel_requested, events[0].order.cancel_client_order_id) == (
        True,
        "sd-t1-9",
    )
    assert submitted.request_cancel(CID) == []  # one cancel in flight at a time
    rejected = submitted.cancel_rejected(CID, "-2011 Unknown order sent.")
    assert isinstance(rejected[0], OrderCancelRejected)
    assert rejected[0].reason == "-2011 Unknown order sent."
    assert rejected[0].order.cancel_requested is False
    assert submitted.cancel_rejected(CID, "again") == []
    assert names(submitted.request_cancel(CID)) == ["OrderCancelRequested"]
    order = submitted.get(CID)
    assert order is not None and order.cancel_client_order_id == "sd-t1-9"


def test_cancel_of_a_terminal_order_does_nothing(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.FILLED, "1"), [fill(1, "1")])
    assert submitted.request_cancel(CID) == []


def test_unknown_client_order_id_is_a_key_error(book: OrderBook) -> None:
    with pytest.raises(KeyError, match="no order 'nope'"):
        book.request_cancel("nope")


def test_definite_rejection(submitted: OrderBook) -> None:
    events = submitted.reject(CID, "-2010 Account has insufficient balance")
    assert names(events) == ["OrderRejected"]
    assert isinstance(events[0], OrderRejected)
    order = events[0].order
    assert (order.state, order.reject_reason) == (
        S.REJECTED,
        "-2010 Account has insufficient balance",
    )
    assert submitted.reject(CID, "again") == []


def test_a_rejection_after_the_venue_showed_the_order_is_ignored(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    assert submitted.reject(CID, "late") == []
    order = submitted.get(CID)
    assert order is not None and order.state is S.NEW


def test_a_report_for_a_locally_rejected_order_raises_an_alarm(submitted: OrderBook) -> None:
    submitted.mark_unknown(CID)
    submitted.reject(CID, "PRESUMED_ABSENT")
    events = submitted.apply(status(CID, S.FILLED, "1"), [fill(1, "1")])
    assert names(events) == ["ReportUnmatched", "OrderPartiallyFilled"]
    assert events[0].is_alarm
    order = submitted.get(CID)
    assert order is not None
    assert (order.state, order.order_id, order.filled_qty) == (S.REJECTED, 1, Decimal(1))


def test_an_external_order_is_created_from_its_report(book: OrderBook) -> None:
    events = book.apply_status(status("web_abc", S.NEW, order_id=77, t=3))
    assert names(events) == ["ExternalOrderDetected", "OrderAccepted"]
    assert isinstance(events[0], ExternalOrderDetected) and not events[0].is_alarm
    order = book.get("web_abc")
    assert order is not None
    assert (order.origin, order.state, order.order_id, order.qty, order.created_at) == (
        Origin.EXTERNAL,
        S.NEW,
        77,
        Decimal(1),
        at(3),
    )


def test_an_unknown_fill_with_our_prefix_is_adopted_as_an_alarm(book: OrderBook) -> None:
    events = book.apply_fill(fill(5, "0.5", cid="sd-x9-3", order_id=8, t=4))
    assert names(events) == ["OrderAdopted", "OrderAccepted", "OrderPartiallyFilled"]
    assert isinstance(events[0], OrderAdopted) and events[0].is_alarm
    order = book.get("sd-x9-3")
    assert order is not None
    assert (order.origin, order.state, order.filled_qty, order.qty) == (
        Origin.ADOPTED,
        S.PARTIALLY_FILLED,
        Decimal("0.5"),
        None,
    )


def test_external_creation_time_is_the_earliest_report(book: OrderBook) -> None:
    book.apply_status(status("web_abc", S.PARTIALLY_FILLED, "0.5", order_id=77, t=9))
    book.apply_status(status("web_abc", S.NEW, order_id=77, t=3))
    order = book.get("web_abc")
    assert order is not None and (order.created_at, order.updated_at) == (at(3), at(9))


def test_trade_list_rows_map_by_order_id(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.FILLED, "1", order_id=42))
    events = submitted.apply(
        None, [fill(1, "0.4", cid=None, order_id=42), fill(2, "0.6", cid=None, order_id=42)]
    )
    assert names(events) == ["OrderPartiallyFilled", "OrderFilled"]
    assert submitted.apply(None, [fill(1, "0.4", cid=None, order_id=42)]) == []


def test_a_trade_row_of_an_unknown_order_is_unmatched(book: OrderBook) -> None:
    row = fill(1, "0.4", cid=None, order_id=99)
    events = book.apply_fill(row)
    assert names(events) == ["ReportUnmatched"]
    assert isinstance(events[0], ReportUnmatched)
    assert (events[0].reason, events[0].fills) == (
        "fill of an order the book does not know",
        (row,),
    )
    assert not book.has_seen_fill(SYMBOL, 1)  # it can be applied again once attributed


def test_fills_are_deduplicated_by_symbol_and_trade_id(submitted: OrderBook) -> None:
    submitted.apply_fill(fill(1, "0.25"))
    assert submitted.apply_fill(fill(1, "0.25")) == []
    assert submitted.has_seen_fill(SYMBOL, 1) and not submitted.has_seen_fill("ETHUSDT", 1)
    submitted.apply_status(status("sd-t1-2", S.NEW, symbol="ETHUSDT", order_id=1))
    events = submitted.apply_fill(fill(1, "0.25", cid="sd-t1-2", symbol="ETHUSDT"))
    assert names(events) == ["OrderPartiallyFilled"]
    assert submitted.trade_keys(CID) == ((SYMBOL, 1),)


def test_another_exchange_order_with_our_client_id_is_unmatched(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW, order_id=1))
    report = status(CID, S.NEW, order_id=2)
    events = submitted.apply_status(report)
    assert names(events) == ["ReportUnmatched"]
    assert isinstance(events[0], ReportUnmatched) and events[0].status == report
    order = submitted.get(CID)
    assert order is not None and order.order_id == 1


def test_executed_quantity_proves_the_state(submitted: OrderBook) -> None:
    events = submitted.apply_fill(fill(1, "0.5"))
    assert names(events) == ["OrderAccepted", "OrderPartiallyFilled"]
    events = submitted.apply_fill(fill(2, "0.5"))
    assert names(events) == ["OrderFilled"]
    order = submitted.get(CID)
    assert order is not None and order.state is S.FILLED
    assert order.average_fill_price == Decimal(100)


def test_a_query_can_report_progress_before_its_fills(submitted: OrderBook) -> None:
    events = submitted.apply_status(status(CID, S.FILLED, "1"))
    assert names(events) == ["OrderAccepted", "OrderUpdated"]
    assert isinstance(events[1], OrderUpdated)
    order = events[1].order
    assert (order.state, order.missing_fill_qty, order.average_fill_price) == (
        S.FILLED,
        Decimal(1),
        None,
    )
    assert names(submitted.apply_fill(fill(1, "0.3"))) == ["OrderPartiallyFilled"]
    assert names(submitted.apply_fill(fill(2, "0.7"))) == ["OrderFilled"]


def test_a_full_response_reports_acceptance_then_each_fill(submitted: OrderBook) -> None:
    events = submitted.apply(status(CID, S.FILLED, "1"), [fill(1, "0.3"), fill(2, "0.7")])
    assert names(events) == ["OrderAccepted", "OrderPartiallyFilled", "OrderFilled"]
    assert isinstance(events[1], OrderPartiallyFilled)
    assert events[1].order.filled_qty == Decimal("0.3")


def test_partially_filled_progress_without_a_fill_is_an_update(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    assert names(submitted.apply_status(status(CID, S.PARTIALLY_FILLED, "0.2"))) == ["OrderUpdated"]
    assert names(submitted.apply_status(status(CID, S.PARTIALLY_FILLED, "0.3"))) == ["OrderUpdated"]


def test_expired_keeps_its_reason_and_its_fills(submitted: OrderBook) -> None:
    submitted.apply(status(CID, S.PARTIALLY_FILLED, "0.4"), [fill(1, "0.4")])
    events = submitted.apply_status(
        status(CID, S.EXPIRED, "0.4", expiry_reason="INSUFFICIENT_LIQUIDITY")
    )
    assert names(events) == ["OrderExpired"]
    assert isinstance(events[0], OrderExpired)
    assert (events[0].order.state, events[0].order.expiry_reason) == (
        S.EXPIRED,
        "INSUFFICIENT_LIQUIDITY",
    )


def test_a_quote_quantity_market_order_learns_its_quantity(book: OrderBook) -> None:
    book.submit(intent(CID, qty=None, price=None, quote_qty="50", order_type=intent().type.MARKET))
    book.apply_status(status(CID, S.FILLED, "0.5", qty="0.5", price=None, cum_quote="50"))
    order = book.get(CID)
    assert order is not None
    assert (order.qty, order.quote_qty, order.price, order.state) == (
        Decimal("0.5"),
        Decimal(50),
        None,
        S.FILLED,
    )


def test_open_orders_and_iteration(book: OrderBook) -> None:
    book.submit(intent("sd-t1-1"))
    book.submit(intent("sd-t1-2", symbol="ETHUSDT"))
    book.submit(intent("sd-t1-3"))
    book.reject("sd-t1-3", "no")
    assert [o.client_order_id for o in book.open_orders()] == ["sd-t1-1", "sd-t1-2"]
    assert [o.client_order_id for o in book.open_orders("ETHUSDT")] == ["sd-t1-2"]
    assert [o.client_order_id for o in book] == ["sd-t1-1", "sd-t1-2", "sd-t1-3"]
    assert book.find(SYMBOL, 5) is None and book.get("x") is None


def test_eviction_and_the_bounded_window() -> None:
    book = OrderBook(is_ours=is_ours, evicted_window=2)
    for n in (1, 2, 3):
        cid = f"sd-t1-{n}"
        book.submit(intent(cid))
        book.apply(status(cid, S.FILLED, "1", order_id=n), [fill(n, "1", cid=cid, order_id=n)])
    book.submit(intent("sd-t1-4"))
    with pytest.raises(ValueError, match="not settled"):
        book.evict("sd-t1-4")
    assert book.evict_settled() == ["sd-t1-1", "sd-t1-2", "sd-t1-3"]
    assert len(book) == 1 and book.find(SYMBOL, 2) is None
    # The window remembers the last two evicted orders: duplicates are ignored.
    assert (
        book.apply(
            status("sd-t1-3", S.FILLED, "1", order_id=3), [fill(3, "1", cid="sd-t1-3", order_id=3)]
        )
        == []
    )
    assert book.apply_status(status("sd-t1-2", S.FILLED, "1", order_id=2)) == []
    assert book.has_seen_fill(SYMBOL, 2) and book.has_seen_fill(SYMBOL, 3)
    with pytest.raises(DuplicateClientOrderId):
        book.submit(intent("sd-t1-3"))
    # The oldest has left the window.
    assert not book.has_seen_fill(SYMBOL, 1)
    book.submit(intent("sd-t1-1"))  # only the journal can refuse it now


def test_a_new_fill_or_another_order_for_an_evicted_id_is_unmatched() -> None:
    book = OrderBook(is_ours=is_ours)
    book.submit(intent(CID))
    book.apply(status(CID, S.FILLED, "1", order_id=1), [fill(1, "1", order_id=1)])
    book.evict(CID)
    events = book.apply_fill(fill(9, "1", order_id=1))
    assert names(events) == ["ReportUnmatched"]
    assert (
        isinstance(events[0], ReportUnmatched)
        and events[0].reason == "new fill for an evicted order"
    )
    events = book.apply_status(status(CID, S.NEW, order_id=5))
    assert isinstance(events[0], ReportUnmatched)
    assert events[0].reason == "another exchange order has this client id"


def test_a_window_of_zero_remembers_nothing() -> None:
    book = OrderBook(is_ours=is_ours, evicted_window=0)
    book.submit(intent(CID))
    book.reject(CID, "no")
    book.evict(CID)
    assert len(book) == 0 and not book.has_seen_fill(SYMBOL, 1)


def test_restore_brings_back_orders_and_their_trades(submitted: OrderBook) -> None:
    submitted.apply(
        status(CID, S.PARTIALLY_FILLED, "0.4", order_id=3), [fill(1, "0.4", order_id=3)]
    )
    order = submitted.get(CID)
    assert order is not None
    fresh = OrderBook(is_ours=is_ours)
    fresh.restore(order, submitted.trade_keys(CID))
    assert fresh.get(CID) == order and fresh.find(SYMBOL, 3) == order
    assert fresh.apply_fill(fill(1, "0.4", order_id=3)) == []
    with pytest.raises(DuplicateClientOrderId):
        fresh.restore(order)


def test_unknown_origin_orders_report_events_in_a_fixed_order(book: OrderBook) -> None:
    events = book.apply(
        status("web_1", S.FILLED, "1", order_id=4), [fill(1, "1", cid="web_1", order_id=4)]
    )
    assert [type(e) for e in events] == [ExternalOrderDetected, OrderAccepted, OrderFilled]
    assert all(e.order.client_order_id == "web_1" for e in events if hasattr(e, "order"))


def test_a_mark_unknown_rejected_order_settles_by_rejection_report(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    submitted.mark_unknown(CID)
    events = submitted.apply_status(status(CID, S.CANCELED))
    assert names(events) == ["OrderCanceled"]
    order = submitted.get(CID)
    assert order is not None and (order.state, order.cancel_client_order_id) == (S.CANCELED, None)


def test_unknown_without_fills_never_settles_below_what_was_known(submitted: OrderBook) -> None:
    submitted.apply_status(status(CID, S.NEW))
    submitted.mark_unknown(CID)
    events = submitted.apply_status(status(CID, S.PENDING_NEW))
    assert names(events) == ["OrderUpdated"]
    order = submitted.get(CID)
    assert order is not None and (order.state, order.last_known_state) == (S.NEW, S.NEW)


def test_the_window_forgets_orders_that_never_had_an_exchange_id() -> None:
    book = OrderBook(is_ours=is_ours, evicted_window=1)
    book.submit(intent("sd-t1-1"))
    book.reject("sd-t1-1", "no")
    book.evict("sd-t1-1")
    with pytest.raises(DuplicateClientOrderId):
        book.submit(intent("sd-t1-1"))
    book.submit(intent("sd-t1-2"))
    book.reject("sd-t1-2", "no")
    book.evict("sd-t1-2")
    book.submit(intent("sd-t1-1"))  # forgotten by the window


def test_a_window_cannot_have_a_negative_size() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        OrderBook(is_ours=is_ours, evicted_window=-1)


def test_late_requests_about_an_evicted_order_change_nothing() -> None:
    """A create's timeout (or a cancel) that arrives after the stream filled the order and the
    book evicted it: nothing to change, no KeyError; an id never seen is still an error."""
    book = OrderBook(is_ours=is_ours, evicted_window=4)
    book.submit(intent("sd-t1-1"))
    book.apply(status("sd-t1-1", S.FILLED, "1", order_id=1), [fill(1, "1", cid="sd-t1-1")])
    assert book.evict_settled() == ["sd-t1-1"]
    assert book.mark_unknown("sd-t1-1") == []
    assert book.reject("sd-t1-1", "not sent: connection closed") == []
    assert book.request_cancel("sd-t1-1") == []
    assert book.cancel_rejected("sd-t1-1", "unknown order") == []
    assert book.get("sd-t1-1") is None
    with pytest.raises(KeyError, match="no order 'sd-t1-9'"):
        book.mark_unknown("sd-t1-9")
