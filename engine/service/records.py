"""Journal payloads of the engine's records: orders, fills, intents and adoptions, both ways.

The journal stores JSON payloads with decimals as strings; these functions are the only place
that knows their fields, so what the engine writes is exactly what a restart reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.intents import OrderIntent
from engine.core.jsonable import to_jsonable
from engine.core.order import Order
from engine.core.reports import FillReport
from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce
from engine.service.payloads import decimal_text, fill_json


def _dec(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


def _time(raw: Any) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(str(raw))


def _required_time(raw: Any) -> datetime:
    moment = _time(raw)
    if moment is None:
        raise ValueError("a journal record lacks its time")
    return moment


# -- orders -------------------------------------------------------------------------------------


def order_payload(order: Order) -> dict[str, Any]:
    """Every field of the order, JSON-ready (written out: this runs for every order change)."""
    side, kind, tif = order.side, order.type, order.time_in_force
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "origin": order.origin.value,
        "state": order.state.value,
        "last_known_state": order.last_known_state.value,
        "side": None if side is None else side.value,
        "type": None if kind is None else kind.value,
        "qty": decimal_text(order.qty),
        "price": decimal_text(order.price),
        "stop_price": decimal_text(order.stop_price),
        "quote_qty": decimal_text(order.quote_qty),
        "time_in_force": None if tif is None else tif.value,
        "order_id": order.order_id,
        "order_list_id": order.order_list_id,
        "cum_qty": decimal_text(order.cum_qty),
        "cum_quote": decimal_text(order.cum_quote),
        "filled_qty": decimal_text(order.filled_qty),
        "filled_quote": decimal_text(order.filled_quote),
        "fill_count": order.fill_count,
        "cancel_requested": order.cancel_requested,
        "cancel_client_order_id": order.cancel_client_order_id,
        "reject_reason": order.reject_reason,
        "expiry_reason": order.expiry_reason,
        "created_at": None if order.created_at is None else order.created_at.isoformat(),
        "updated_at": None if order.updated_at is None else order.updated_at.isoformat(),
    }


def order_from_payload(raw: Mapping[str, Any]) -> Order:
    """The inverse of `order_payload`."""

    def enum_or_none(kind: Any, key: str) -> Any:
        value = raw.get(key)
        return None if value is None else kind(value)

    return Order(
        client_order_id=str(raw["client_order_id"]),
        symbol=str(raw["symbol"]),
        origin=Origin(raw["origin"]),
        state=OrderState(raw["state"]),
        last_known_state=OrderState(raw["last_known_state"]),
        side=enum_or_none(Side, "side"),
        type=enum_or_none(OrderType, "type"),
        qty=_dec(raw.get("qty")),
        price=_dec(raw.get("price")),
        stop_price=_dec(raw.get("stop_price")),
        quote_qty=_dec(raw.get("quote_qty")),
        time_in_force=enum_or_none(TimeInForce, "time_in_force"),
        order_id=raw.get("order_id"),
        order_list_id=raw.get("order_list_id"),
        cum_qty=Decimal(str(raw.get("cum_qty", "0"))),
        cum_quote=Decimal(str(raw.get("cum_quote", "0"))),
        filled_qty=Decimal(str(raw.get("filled_qty", "0"))),
        filled_quote=Decimal(str(raw.get("filled_quote", "0"))),
        fill_count=int(raw.get("fill_count", 0)),
        cancel_requested=bool(raw.get("cancel_requested", False)),
        cancel_client_order_id=raw.get("cancel_client_order_id"),
        reject_reason=raw.get("reject_reason"),
        expiry_reason=raw.get("expiry_reason"),
        created_at=_time(raw.get("created_at")),
        updated_at=_time(raw.get("updated_at")),
    )


# -- intents ------------------------------------------------------------------------------------


def intent_payload(intent: OrderIntent) -> dict[str, Any]:
    payload: dict[str, Any] = to_jsonable(intent)
    return payload


def intent_from_payload(raw: Mapping[str, Any]) -> OrderIntent:
    tif = raw.get("time_in_force")
    return OrderIntent(
        client_order_id=str(raw["client_order_id"]),
        symbol=str(raw["symbol"]),
        side=Side(raw["side"]),
        type=OrderType(raw["type"]),
        qty=_dec(raw.get("qty")),
        created_at=_required_time(raw.get("created_at")),
        price=_dec(raw.get("price")),
        stop_price=_dec(raw.get("stop_price")),
        quote_qty=_dec(raw.get("quote_qty")),
        time_in_force=None if tif is None else TimeInForce(tif),
        order_list_id=raw.get("order_list_id"),
    )


# -- fills --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournaledFill:
    """A fill as journaled: the report, the order it was booked to, and the price used to value
    a third-asset commission (kept so that a replay values it the same way)."""

    fill: FillReport
    client_order_id: str
    fee_price: Decimal | None


def fill_payload(
    fill: FillReport, client_order_id: str, fee_price: Decimal | None
) -> dict[str, Any]:
    payload = fill_json(fill)
    payload["client_order_id"] = client_order_id
    payload["fee_price"] = None if fee_price is None else str(fee_price)
    return payload


def fill_from_payload(raw: Mapping[str, Any]) -> JournaledFill:
    is_maker = raw.get("is_maker")
    fill = FillReport(
        symbol=str(raw["symbol"]),
        trade_id=int(raw["trade_id"]),
        order_id=int(raw["order_id"]),
        side=Side(raw["side"]),
        qty=Decimal(str(raw["qty"])),
        price=Decimal(str(raw["price"])),
        quote_qty=Decimal(str(raw["quote_qty"])),
        commission=Decimal(str(raw["commission"])),
        commission_asset=raw.get("commission_asset"),
        time=_required_time(raw.get("time")),
        client_order_id=raw.get("client_order_id"),
        is_maker=None if is_maker is None else bool(is_maker),
    )
    return JournaledFill(fill, str(raw["client_order_id"]), _dec(raw.get("fee_price")))


# -- adoptions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adoption:
    """A holding that predates the desk, adopted as a position once the journal held
    `after_fills` fills: a replay of the journal puts it back at exactly that point."""

    symbol: str
    qty: Decimal
    cost_basis: Decimal | None
    time: datetime
    after_fills: int

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "qty": str(self.qty),
            "cost_basis": None if self.cost_basis is None else str(self.cost_basis),
            "time": self.time.isoformat(),
            "after_fills": self.after_fills,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Adoption:
        qty = _dec(raw["qty"])
        assert qty is not None
        return cls(
            symbol=str(raw["symbol"]),
            qty=qty,
            cost_basis=_dec(raw.get("cost_basis")),
            time=_required_time(raw["time"]),
            after_fills=int(raw["after_fills"]),
        )
