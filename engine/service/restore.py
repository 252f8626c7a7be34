"""Rebuilding the order book and the ledger from what the journal loaded at start.

The book gets back every order that is not settled, each with the trades booked for it, and the
recent settled ones pass through it into its window of evicted orders (so late duplicates are
still recognised). Intents without an order row were maybe sent before a crash: they re-enter
as orders in flight. An order whose journaled fills show it further along than its row (a row
committed apart from its fills, before rows committed with them) is moved forward to where the
fills put it, never back to a state its subscribers saw it leave. Positions are not stored:
they are replayed from every journaled fill, in journal order, with each adoption put back at
the point where it happened.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from engine.core.order import Order
from engine.core.position import Position
from engine.core.types import OrderState
from engine.journal import FillRow, JournalSnapshot
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.orders.transitions import order_from_intent
from engine.service.records import (
    Adoption,
    fill_from_payload,
    intent_from_payload,
    order_from_payload,
)

log = logging.getLogger(__name__)

ADOPTIONS_KEY = "adoptions"


@dataclass(frozen=True)
class RestoredBook:
    """What `restore_book` put back: settled recent orders (for the snapshot), the ids of
    orders whose create request may have gone out without an answer, and the orders moved
    forward from a record behind their fills (their rows are to be written again)."""

    recent: tuple[Order, ...]
    in_flight: tuple[str, ...]
    forwarded: tuple[Order, ...] = ()


def restore_book(book: OrderBook, loaded: JournalSnapshot) -> RestoredBook:
    fills: dict[str, list[FillRow]] = defaultdict(list)
    for row in loaded.fills:
        fills[row.client_order_id].append(row)

    forwarded: list[Order] = []

    def restore(order: Order) -> Order:
        booked = fills.get(order.client_order_id, [])
        stale = order.fill_count < len(booked)
        order = with_booked_fills(order, booked)
        book.restore(order, [(row.symbol, row.trade_id) for row in booked])
        if stale:
            forwarded.append(order)
        return order

    recent: list[Order] = []
    rows = (*loaded.recent_terminal_orders, *loaded.open_orders)
    for order_row in rows:
        order = restore(order_from_payload(order_row.payload))
        if book.evictable(order):  # an open row whose fills show it filled settles here too
            book.evict(order.client_order_id)
            recent.append(order)
    with_rows = {order_row.client_order_id for order_row in rows}
    in_flight: list[str] = []
    for intent_row in loaded.unsettled_intents:
        cid = intent_row.client_order_id
        order_or_none = book.get(cid)
        if order_or_none is None and cid not in with_rows:
            # Committed, then the process died (or the order row's write failed) before the
            # order row: it may have been sent, and fills journaled for it still count.
            order = restore(order_from_intent(intent_from_payload(intent_row.payload)))
            if order.order_id is None:  # its fills, if any, name the exchange's order
                in_flight.append(cid)
        elif order_or_none is not None and order_or_none.order_id is None and order_or_none.is_open:
            in_flight.append(cid)
    return RestoredBook(tuple(recent), tuple(in_flight), tuple(forwarded))


def with_booked_fills(order: Order, booked: Sequence[FillRow]) -> Order:
    """The order with its booked fills taken from the journal's fill rows, which are the truth.

    A record with fewer fills than the journal holds for it (a row written before rows were
    committed with their fills, or an intent whose row never was) is behind what subscribers
    saw: it gets the exchange's order id from the fills (so it is not taken for a create in
    flight and marked UNKNOWN) and at least the state the fills prove.
    """
    filled_qty = sum((Decimal(str(row.payload["qty"])) for row in booked), Decimal(0))
    filled_quote = sum((Decimal(str(row.payload["quote_qty"])) for row in booked), Decimal(0))
    restored = replace(
        order,
        filled_qty=filled_qty,
        filled_quote=filled_quote,
        fill_count=len(booked),
        cum_qty=max(order.cum_qty, filled_qty),
        cum_quote=max(order.cum_quote, filled_quote),
    )
    if order.fill_count >= len(booked):
        return restored
    log.warning(
        "order %s: its journal record (%s, %d fills) is behind its %d journaled fills",
        order.client_order_id,
        order.state.value,
        order.fill_count,
        len(booked),
    )
    return _forward_to_fills(restored, booked)


def _forward_to_fills(order: Order, booked: Sequence[FillRow]) -> Order:
    """A stale record moved to where its fills show it: executed, fully once its quantity is."""
    order_id = order.order_id
    if order_id is None:
        order_id = next((row.payload.get("order_id") for row in booked), None)
    state = order.last_known_state
    if not state.is_terminal:
        full = order.qty is not None and order.cum_qty >= order.qty
        state = OrderState.FILLED if full else OrderState.PARTIALLY_FILLED
    return replace(
        order,
        order_id=order_id if isinstance(order_id, int) else None,
        state=order.state if order.state is OrderState.UNKNOWN else state,
        last_known_state=state,
    )


def adoptions_from_state(state: Mapping[str, object]) -> list[Adoption]:
    raw = state.get(ADOPTIONS_KEY) or []
    if not isinstance(raw, list):
        raise ValueError("journal state 'adoptions' is not a list")
    return [Adoption.from_json(item) for item in raw]


def replay_positions(
    ledger: Ledger, fills: Sequence[FillRow], adoptions: Iterable[Adoption]
) -> None:
    """Rebuild positions: every fill in journal order, adoptions at their recorded points."""
    pending = sorted(adoptions, key=lambda adoption: adoption.after_fills)
    index = 0
    for count, row in enumerate(fills):
        while index < len(pending) and pending[index].after_fills <= count:
            restore_adoption(ledger, pending[index])
            index += 1
        journaled = fill_from_payload(row.payload)
        try:
            ledger.apply_fill(journaled.fill, fee_price=journaled.fee_price)
        except KeyError:
            log.warning("replay: no rules for %s; fill %s left out", row.symbol, row.trade_id)
    for adoption in pending[index:]:
        restore_adoption(ledger, adoption)


def restore_adoption(ledger: Ledger, adoption: Adoption) -> None:
    """Put an adopted holding back as the position it became."""
    try:
        rules = ledger.rules(adoption.symbol)
    except KeyError:
        log.warning("replay: no rules for adopted %s", adoption.symbol)
        return
    ledger.restore(
        Position(
            symbol=adoption.symbol,
            base_asset=rules.base_asset,
            quote_asset=rules.quote_asset,
            qty=adoption.qty,
            cost_basis=adoption.cost_basis,
            adopted=True,
            updated_at=adoption.time,
        )
    )
