"""The pure transition rules of one order: how a report or a fill moves its record forward.

Rules (RELIABILITY R7, I5, C5): a state only moves to a higher rank and a terminal state never
changes; an UNKNOWN order is settled by any report, never below the state it had; executed
quantity is the highest ever reported; a booked fill proves the order is at least partially
filled, and an executed quantity reaching the order's quantity proves it filled. Every rule is
a maximum or a sum, so the final record does not depend on the order reports arrive in.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

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


def _settled(state: OrderState, qty: Decimal | None, cum_qty: Decimal) -> OrderState:
    """`state`, raised to what the executed quantity proves."""
    if state is not OrderState.UNKNOWN and not state.is_terminal:
        if qty is not None and qty > 0 and cum_qty >= qty:
            return OrderState.FILLED
        if cum_qty > 0 and state.rank < OrderState.PARTIALLY_FILLED.rank:
            return OrderState.PARTIALLY_FILLED
    return state


# Both transitions build the next record in one constructor call, every field written out:
# they run for every report, and `dataclasses.replace` (one call per step) cost more than the
# rest of the order book together.


def apply_status(order: Order, report: OrderStatusReport) -> Order:
    """`order` after the venue's `report` of its status."""
    current = order.last_known_state
    if order.state is OrderState.UNKNOWN:
        state = report.state if report.state.rank >= current.rank else current
    elif current.is_terminal or report.state.rank <= current.rank:
        state = current
    else:
        state = report.state
    reject_reason, expiry_reason = order.reject_reason, order.expiry_reason
    cancel_client_order_id = order.cancel_client_order_id
    if report.state is state:
        # Reasons and the cancel's own id come from the report that set the terminal state.
        reject_reason = reject_reason or report.reject_reason
        expiry_reason = expiry_reason or report.expiry_reason
        if state is OrderState.CANCELED and report.orig_client_order_id is not None:
            cancel_client_order_id = cancel_client_order_id or report.client_order_id
    qty = order.qty if order.qty is not None else report.qty
    cum_qty = max(order.cum_qty, report.cum_qty)
    state = _settled(state, qty, cum_qty)
    return Order(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        origin=order.origin,
        state=state,
        last_known_state=order.last_known_state if state is OrderState.UNKNOWN else state,
        side=order.side or report.side,
        type=order.type or report.type,
        qty=qty,
        price=order.price if order.price is not None else report.price,
        stop_price=order.stop_price if order.stop_price is not None else report.stop_price,
        quote_qty=order.quote_qty if order.quote_qty is not None else report.quote_qty,
        time_in_force=order.time_in_force or report.time_in_force,
        order_id=order.order_id if order.order_id is not None else report.order_id,
        order_list_id=(
            order.order_list_id if order.order_list_id is not None else report.order_list_id
        ),
        cum_qty=cum_qty,
        cum_quote=max(order.cum_quote, report.cum_quote),
        filled_qty=order.filled_qty,
        filled_quote=order.filled_quote,
        fill_count=order.fill_count,
        cancel_requested=order.cancel_requested,
        cancel_client_order_id=cancel_client_order_id,
        reject_reason=reject_reason,
        expiry_reason=expiry_reason,
        created_at=_first_seen(order, report.transact_time),
        updated_at=_later(order.updated_at, report.transact_time),
    )


def book_fill(order: Order, fill: FillReport) -> Order:
    """`order` after booking one new (already de-duplicated) fill."""
    filled_qty = order.filled_qty + fill.qty
    filled_quote = order.filled_quote + fill.quote_qty
    cum_qty = max(order.cum_qty, filled_qty)
    # A fill settles an UNKNOWN order: it exists and has executed.
    state = _settled(order.last_known_state, order.qty, cum_qty)
    return Order(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        origin=order.origin,
        state=state,
        last_known_state=state,
        side=order.side or fill.side,
        type=order.type,
        qty=order.qty,
        price=order.price,
        stop_price=order.stop_price,
        quote_qty=order.quote_qty,
        time_in_force=order.time_in_force,
        order_id=order.order_id if order.order_id is not None else fill.order_id,
        order_list_id=order.order_list_id,
        cum_qty=cum_qty,
        cum_quote=max(order.cum_quote, filled_quote),
        filled_qty=filled_qty,
        filled_quote=filled_quote,
        fill_count=order.fill_count + 1,
        cancel_requested=order.cancel_requested,
        cancel_client_order_id=order.cancel_client_order_id,
        reject_reason=order.reject_reason,
        expiry_reason=order.expiry_reason,
        created_at=_first_seen(order, fill.time),
        updated_at=_later(order.updated_at, fill.time),
    )


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
