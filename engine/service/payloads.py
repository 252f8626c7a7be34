"""JSON-ready views of orders, fills, positions, balances and events, as clients receive them.

Written out field by field rather than walked generically: every event of the hot path goes
through here once, and the generic walk over dataclass fields cost more than the rest of the
pipeline. The same `order_json` view is used in the snapshot, in events and in command results,
so a client sees one shape of order everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.core.events import (
    BalanceChanged,
    Event,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderPartiallyFilled,
    PositionChanged,
    PositionOversold,
)
from engine.core.jsonable import event_to_json
from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport, FillReport
from engine.journal.codec import PlainPayload, format_ts


def decimal_text(value: Decimal | None) -> str | None:
    """Fixed-point text ("0.00000000", never "0E-8"), None for None."""
    if value is None:
        return None
    # str() takes half the time of format() and writes the same text unless it uses an
    # exponent; a dozen amounts per event come through here.
    text = str(value)
    return text if "E" not in text else format(value, "f")


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc_text(value) if value.tzinfo is UTC else value.isoformat()


@functools.lru_cache(maxsize=1024)
def _utc_text(moment: datetime) -> str:
    """`isoformat()` of a UTC time, remembered: one report's events repeat the same instants
    (its transact time in the order, the fill and the position; the order's creation), and
    formatting one costs a microsecond. Only UTC times come here, so two equal keys (the same
    instant) always have the same text. Cut from the journal's text of the same instant (which
    it formats anyway, for the rows), which differs only by always writing the microseconds."""
    text = format_ts(moment)  # "YYYY-MM-DDTHH:MM:SS.ffffff+00:00"
    return text if moment.microsecond else text[:19] + text[26:]


def order_json(order: Order) -> dict[str, Any]:
    """One order: the snapshot's, the events' and the command results' shape."""
    avg = order.average_fill_price
    if avg is None and order.cum_qty > 0:
        avg = order.cum_quote / order.cum_qty
    side, kind, tif = order.side, order.type, order.time_in_force
    # `_value_` is the member's value as a plain attribute; `.value` is a descriptor call,
    # several times slower, and this runs for every order event.
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": None if side is None else side._value_,
        "type": None if kind is None else kind._value_,
        "time_in_force": None if tif is None else tif._value_,
        "qty": decimal_text(order.qty),
        "quote_qty": decimal_text(order.quote_qty),
        "price": decimal_text(order.price),
        "state": order.state._value_,
        "cum_qty": decimal_text(order.cum_qty),
        "cum_quote": decimal_text(order.cum_quote),
        "avg_price": decimal_text(avg),
        "origin": order.origin._value_,
        "order_id": order.order_id,
        "cancel_requested": order.cancel_requested,
        "reject_reason": order.reject_reason,
        "expiry_reason": order.expiry_reason,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
    }


def fill_json(fill: FillReport) -> dict[str, Any]:
    """One fill: in fill events, and (with the order's id and the fee's price added) the
    journal's fill rows, which it encodes unchecked like the events (see `event_payload`)."""
    return PlainPayload(
        symbol=fill.symbol,
        trade_id=fill.trade_id,
        order_id=fill.order_id,
        side=fill.side._value_,
        qty=decimal_text(fill.qty),
        price=decimal_text(fill.price),
        quote_qty=decimal_text(fill.quote_qty),
        commission=decimal_text(fill.commission),
        commission_asset=fill.commission_asset,
        is_maker=fill.is_maker,
        time=_time(fill.time),
    )


def position_record(position: Position) -> dict[str, Any]:
    """A position without valuation (events carry no mark)."""
    return {
        "symbol": position.symbol,
        "base_asset": position.base_asset,
        "quote_asset": position.quote_asset,
        "qty": decimal_text(position.qty),
        "avg_entry": decimal_text(position.avg_entry_price),
        "cost_basis": decimal_text(position.cost_basis),
        "realized_pnl": decimal_text(position.realized_pnl),
        "fees": decimal_text(position.fees_paid),
        "entry_known": position.entry_known,
        "realized_complete": position.realized_complete,
        "adopted": position.adopted,
        "updated_at": _time(position.updated_at),
    }


def balance_json(balance: BalanceReport) -> dict[str, Any]:
    return {
        "asset": balance.asset,
        "free": decimal_text(balance.free),
        "locked": decimal_text(balance.locked),
        "time": _time(balance.time),
    }


_ONLY_ORDER: dict[type[Event], bool] = {}


def _only_order(kind: type[Event]) -> bool:
    """Whether an order event class has no field besides `order` (cached per class)."""
    known = _ONLY_ORDER.get(kind)
    if known is None:
        known = _ONLY_ORDER[kind] = [f.name for f in dataclasses.fields(kind)] == ["order"]
    return known


def event_payload(event: Event) -> dict[str, Any]:
    """An event as journaled and streamed: `event` (its name), `alarm`, then its fields.

    The kinds written out here are `PlainPayload`s (only JSON types, amounts as text), which the
    journal encodes without checking each value again; other kinds take the generic walk.
    """
    head = PlainPayload(event=event.name, alarm=event.is_alarm)
    if isinstance(event, OrderEvent):
        head["order"] = order_json(event.order)
        if isinstance(event, OrderFilled | OrderPartiallyFilled):
            head["fill"] = fill_json(event.fill)
        elif isinstance(event, OrderCancelRejected):
            head["reason"] = event.reason
        elif not _only_order(type(event)):
            return event_to_json(event)  # a kind with fields this function does not know
        return head
    if isinstance(event, PositionChanged):
        head["position"] = position_record(event.position)
        # The fill itself travels in the order's fill event, just before this one.
        head["trade_id"] = None if event.fill is None else event.fill.trade_id
        return head
    if isinstance(event, BalanceChanged):
        head["balance"] = balance_json(event.balance)
        head["previous"] = None if event.previous is None else balance_json(event.previous)
        return head
    if isinstance(event, PositionOversold):
        head["position"] = position_record(event.position)
        head["excess_qty"] = decimal_text(event.excess_qty)
        head["fill"] = fill_json(event.fill)
        return head
    return event_to_json(event)
