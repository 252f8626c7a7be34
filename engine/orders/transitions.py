"""The pure transition rules of one order: how a report or a fill moves its record forward.

Rules (RELIABILITY R7, I5, C5): a state only moves to a higher rank and a terminal state never
changes; an UNKNOWN order is settled by any report, never below the state it had; executed
quantity is the highest ever reported; a booked fill proves the order is at least partially
filled, and an executed quantity reaching the order's quantity proves it filled. Every rule is
a maximum or a sum, so the final record does not depend on the order reports arrive in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine.core.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderUpdated,
)
from engine.core.intents import OrderIntent
from engine.core.order import Order
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.types import OrderState, Origin

_TERMINAL_EVENTS: dict[OrderState, type[OrderCanceled | OrderExpired | OrderRejected]] = {
    OrderState.CANCELED: OrderCanceled,
    OrderState.EXPIRED: OrderExpired,
    OrderState.REJECTED: OrderRejected,
}


def order_from_intent(intent: OrderIntent) -> Order:
    return Order(
        client_order_id=intent.client_order_id,
        symbol=intent.symbol,
        origin=Origin.DESK,
        state=OrderState.PENDING_NEW,
        last_known_state=OrderState.PENDING_NEW,
        side=intent.side,
        type=intent.type,
        qty=intent.qty,
        price=intent.price,
        stop_price=intent.stop_price,
        quote_qty=intent.quote_qty,
        time_in_force=intent.time_in_force,
        order_list_id=intent.order_list_id,
        created_at=intent.created_at,
        updated_at=intent.created_at,
    )


def skeleton(client_order_id: str, symbol: str, origin: Origin, seen_at: datetime) -> Order:
    """An order the book first hears of from the venue; reports fill in the rest."""
    return Order(
        client_order_id=client_order_id,
        symbol=symbol,
        origin=origin,
        state=OrderState.PENDING_NEW,
        last_known_state=OrderState.PENDING_NEW,
        created_at=seen_at,
        updated_at=seen_at,
    )


def _later(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None else max(current, moment)


def _first_seen(order: Order, moment: datetime) -> datetime | None:
    """A desk order was created with its intent; others when the venue first showed them."""
    if order.origin is Origin.DESK or (order.created_at is not None and order.created_at <= moment):
        return order.created_at
    return moment


def _with_state(order: Order, state: OrderState) -> Order:
    """`order` in `state`, inferring what the executed quantity proves."""
    if state is not OrderState.UNKNOWN and not state.is_terminal:
        if order.qty is not None and order.qty > 0 and order.cum_qty >= order.qty:
            state = OrderState.FILLED
        elif order.cum_qty > 0 and state.rank < OrderState.PARTIALLY_FILLED.rank:
            state = OrderState.PARTIALLY_FILLED
    known = order.last_known_state if state is OrderState.UNKNOWN else state
    return replace(order, state=state, last_known_state=known)


def apply_status(order: Order, report: OrderStatusReport) -> Order:
    """`order` after the venue's `report` of its status."""
    current = order.last_known_state
    if order.state is OrderState.UNKNOWN:
        state = report.state if report.state.rank >= current.rank else current
    elif current.is_terminal or report.state.rank <= current.rank:
        state = current
    else:
        state = report.state
    moved = replace(
        order,
        order_id=order.order_id if order.order_id is not None else report.order_id,
        order_list_id=order.order_list_id
        if order.order_list_id is not None
        else report.order_list_id,
        side=order.side or report.side,
        type=order.type or report.type,
        time_in_force=order.time_in_force or report.time_in_force,
        qty=order.qty if order.qty is not None else report.qty,
        price=order.price if order.price is not None else report.price,
        stop_price=order.stop_price if order.stop_price is not None else report.stop_price,
        quote_qty=order.quote_qty if order.quote_qty is not None else report.quote_qty,
        cum_qty=max(order.cum_qty, report.cum_qty),
        cum_quote=max(order.cum_quote, report.cum_quote),
        created_at=_first_seen(order, report.transact_time),
        updated_at=_later(order.updated_at, report.transact_time),
    )
    if report.state is state:
        # Reasons and the cancel's own id come from the report that set the terminal state.
        moved = replace(
            moved,
            reject_reason=moved.reject_reason or report.reject_reason,
            expiry_reason=moved.expiry_reason or report.expiry_reason,
        )
        if state is OrderState.CANCELED and report.orig_client_order_id is not None:
            moved = replace(
                moved,
                cancel_client_order_id=moved.cancel_client_order_id or report.client_order_id,
            )
    return _with_state(moved, state)


def book_fill(order: Order, fill: FillReport) -> Order:
    """`order` after booking one new (already de-duplicated) fill."""
    filled_qty = order.filled_qty + fill.qty
    filled_quote = order.filled_quote + fill.quote_qty
    moved = replace(
        order,
        order_id=order.order_id if order.order_id is not None else fill.order_id,
        side=order.side or fill.side,
        filled_qty=filled_qty,
        filled_quote=filled_quote,
        fill_count=order.fill_count + 1,
        cum_qty=max(order.cum_qty, filled_qty),
        cum_quote=max(order.cum_quote, filled_quote),
        created_at=_first_seen(order, fill.time),
        updated_at=_later(order.updated_at, fill.time),
    )
    # A fill settles an UNKNOWN order: it exists and has executed.
    return _with_state(moved, moved.last_known_state)


def _progress(order: Order) -> tuple[object, ...]:
    return (order.state, order.cum_qty, order.cum_quote, order.order_id)


def status_events(before: Order, after: Order, *, fills_follow: bool) -> list[Event]:
    """Events for a status change; `fills_follow` when fill events will describe the progress."""
    events: list[Event] = []
    new = after.state
    accepted = before.last_known_state is OrderState.PENDING_NEW and new not in (
        OrderState.PENDING_NEW,
        OrderState.REJECTED,
        OrderState.UNKNOWN,
    )
    if accepted:
        events.append(OrderAccepted(after))
    terminal_event = _TERMINAL_EVENTS.get(new) if new is not before.state else None
    if terminal_event is not None:
        events.append(terminal_event(after))
    elif (
        not fills_follow
        and not (accepted and new is OrderState.NEW)
        and _progress(before) != _progress(after)
    ):
        events.append(OrderUpdated(after))
    return events


def fill_events(before: Order, after: Order, fill: FillReport) -> list[Event]:
    """Events for one booked fill (plus OrderAccepted if the fill is the first sign of life)."""
    events = status_events(before, after, fills_follow=True)
    completes = after.state is OrderState.FILLED and after.missing_fill_qty <= 0
    events.append(OrderFilled(after, fill) if completes else OrderPartiallyFilled(after, fill))
    return events
