"""Binance JSON to reports: pure functions, strict about what they need, lenient about extras.

Covers the user data stream (executionReport, outboundAccountPosition, balanceUpdate) and the
REST shapes (order responses ACK/RESULT/FULL, cancels, GET /order, open and all orders,
myTrades rows, account balances). Unknown extra fields are ignored; a missing field, a float
where a decimal string belongs, or an unknown status raises `MalformedPayload`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeGuard, TypeVar

from engine.core.reports import (
    BalanceDeltaReport,
    BalanceReport,
    FillReport,
    OrderStatusReport,
)
from engine.core.times import utc_from_ms
from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.core.wire import (
    MalformedPayload,
    bool_field,
    decimal_field,
    int_field,
    optional_int,
    optional_text,
    require_mapping,
    text_field,
)

__all__ = [
    "AccountPosition",
    "ExecutionUpdate",
    "MalformedPayload",
    "OrderResponse",
    "parse_account",
    "parse_account_position",
    "parse_balance_update",
    "parse_execution_report",
    "parse_my_trade",
    "parse_order",
    "parse_order_response",
    "parse_user_event",
]

E = TypeVar("E", bound=StrEnum)

# Binance's order statuses that the desk's states absorb.
_STATES: dict[str, OrderState] = {
    "PENDING_NEW": OrderState.PENDING_NEW,
    "NEW": OrderState.NEW,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "REJECTED": OrderState.REJECTED,
    "EXPIRED": OrderState.EXPIRED,
    "EXPIRED_IN_MATCH": OrderState.EXPIRED,  # expired by self-trade prevention
}


@dataclass(frozen=True, slots=True)
class ExecutionUpdate:
    """One executionReport: the order's status, and its fill when `x` is TRADE."""

    status: OrderStatusReport
    fill: FillReport | None


@dataclass(frozen=True, slots=True)
class OrderResponse:
    """A POST /order response: the status (NEW at least for ACK) and the FULL response's fills."""

    status: OrderStatusReport
    fills: tuple[FillReport, ...]


@dataclass(frozen=True, slots=True)
class AccountPosition:
    """One outboundAccountPosition: absolute balances of the assets that changed."""

    balances: tuple[BalanceReport, ...]


def _members(kind: type[E]) -> dict[str, E]:
    return {member.value: member for member in kind}


# Known values by their wire text: a dictionary hit needs no other check (an enum's value is a
# safe string), so only unknown or malformed values take the checking path.
_SIDES = _members(Side)
_ORDER_TYPES = _members(OrderType)
_TIME_IN_FORCE = _members(TimeInForce)


def _enum(
    kind: type[E], members: Mapping[str, E], obj: Mapping[str, Any], key: str, what: str
) -> E:
    raw = obj.get(key)
    if type(raw) is str and raw in members:
        return members[raw]
    value = text_field(obj, key, what)
    try:
        return kind(value)
    except ValueError:
        raise MalformedPayload(f"{what}.{key}: unknown {kind.__name__} {value!r:.40}") from None


def _state(obj: Mapping[str, Any], key: str, what: str) -> tuple[OrderState, str]:
    raw = obj.get(key)
    if type(raw) is str and raw in _STATES:
        return _STATES[raw], raw
    raw = text_field(obj, key, what)
    try:
        return _STATES[raw], raw
    except KeyError:
        raise MalformedPayload(f"{what}.{key}: unknown order status {raw!r:.40}") from None


def _amount(obj: Mapping[str, Any], key: str, what: str) -> Decimal:
    """A non-negative decimal field (`decimal_field`), with the usual case checked inline.

    Nine amounts per executionReport: a decimal string that parses to a finite, non-negative
    number is returned directly; anything else goes to `decimal_field`, which refuses it with
    its usual message (or accepts what it accepts, such as "-0").
    """
    value = obj.get(key)
    if type(value) is str:
        number = _plain_amount(value)
        if number is not None:
            return number
    return decimal_field(obj, key, what)


@functools.lru_cache(maxsize=4096)
def _plain_amount(text: str) -> Decimal | None:
    """The value of a decimal string if it is finite and not negative, else None; remembered,
    because a stream repeats the same few texts ("0.00000000", the order's quantity and price,
    the book's levels) and a Decimal is immutable, so one instance can serve every report."""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and not number.is_signed() else None


# Strings this short that are printable (which excludes every control character) are accepted
# without the full check; anything else takes `text_field`/`optional_text`, which refuse or
# accept it exactly as before. Symbols, ids and reasons are all far shorter.
_SHORT_TEXT = 64


def _usual_text(value: object) -> TypeGuard[str]:
    return type(value) is str and 0 < len(value) <= _SHORT_TEXT and value.isprintable()


def _text(obj: Mapping[str, Any], key: str, what: str) -> str:
    """`text_field`, with the usual case checked inline (a few per report)."""
    value = obj.get(key)
    return value if _usual_text(value) else text_field(obj, key, what)


def _optional_text(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """`optional_text`, with the usual case checked inline."""
    value = obj.get(key)
    return value if _usual_text(value) else optional_text(obj, key, what)


def _int(obj: Mapping[str, Any], key: str, what: str) -> int:
    """`int_field`, with the usual case (an exact int, never a bool) checked inline."""
    value = obj.get(key)
    return value if type(value) is int else int_field(obj, key, what)


def _optional_int(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    """`optional_int`, with the usual case checked inline."""
    return None if obj.get(key) is None else _int(obj, key, what)


def _optional_amount(obj: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    """An amount Binance omits or sends as zero when it does not apply (`optional_decimal`)."""
    if obj.get(key) is None:
        return None
    number = _amount(obj, key, what)
    return None if number == 0 else number


def _time(obj: Mapping[str, Any], key: str, what: str) -> datetime:
    return utc_from_ms(_int(obj, key, what))


def _list_id(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    number = _optional_int(obj, key, what)
    return None if number is None or number < 0 else number


def _qty(obj: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    """An order quantity; zero (a MARKET order by quote quantity may show it) means unknown."""
    qty = _amount(obj, key, what)
    return None if qty == 0 else qty


def _reason(value: str | None) -> str | None:
    return None if value in (None, "NONE") else value


def _expiry(raw_state: str, reason: str | None) -> str | None:
    if reason is None and raw_state == "EXPIRED_IN_MATCH":
        return "EXPIRED_IN_MATCH"
    return reason


def _commission(
    obj: Mapping[str, Any], amount_key: str, asset_key: str, what: str
) -> tuple[Decimal, str | None]:
    amount = _amount(obj, amount_key, what)
    asset = _optional_text(obj, asset_key, what)
    if asset is None and amount != 0:
        raise MalformedPayload(f"{what}: commission {amount} without a commission asset")
    return amount, asset


# -- user data stream ---------------------------------------------------------------------------


def parse_execution_report(msg: Mapping[str, Any]) -> ExecutionUpdate:
    """An `executionReport` event (bare, as python-binance hands it over)."""
    raw = msg if type(msg) is dict else require_mapping(msg, "executionReport")
    what = "executionReport"
    if raw.get("e") != "executionReport":
        raise MalformedPayload(f"{what}: event type is {raw.get('e')!r:.40}")
    symbol = _text(raw, "s", what)
    state, raw_state = _state(raw, "X", what)
    execution_type = _text(raw, "x", what)
    side = _enum(Side, _SIDES, raw, "S", what)
    order_id = _int(raw, "i", what)
    client_order_id = _text(raw, "c", what)
    transact_time = _time(raw, "T", what)
    status = OrderStatusReport(
        symbol=symbol,
        client_order_id=client_order_id,
        orig_client_order_id=_optional_text(raw, "C", what),
        order_id=order_id,
        order_list_id=_list_id(raw, "g", what),
        side=side,
        type=_enum(OrderType, _ORDER_TYPES, raw, "o", what),
        time_in_force=_enum(TimeInForce, _TIME_IN_FORCE, raw, "f", what),
        qty=_qty(raw, "q", what),
        price=_optional_amount(raw, "p", what),
        stop_price=_optional_amount(raw, "P", what),
        quote_qty=_optional_amount(raw, "Q", what),
        trailing_delta=_optional_int(raw, "d", what),
        state=state,
        cum_qty=_amount(raw, "z", what),
        cum_quote=_amount(raw, "Z", what),
        transact_time=transact_time,
        execution_type=execution_type,
        reject_reason=_reason(_optional_text(raw, "r", what)),
        expiry_reason=_expiry(raw_state, _optional_text(raw, "eR", what)),
    )
    if execution_type != "TRADE":
        return ExecutionUpdate(status, None)
    trade_id = _int(raw, "t", what)
    if trade_id < 0:
        raise MalformedPayload(f"{what}: TRADE without a trade id")
    qty = _amount(raw, "l", what)
    price = _amount(raw, "L", what)
    quote = _amount(raw, "Y", what) if raw.get("Y") is not None else qty * price
    commission, commission_asset = _commission(raw, "n", "N", what)
    fill = FillReport(
        symbol=symbol,
        trade_id=trade_id,
        order_id=order_id,
        client_order_id=client_order_id,
        side=side,
        qty=qty,
        price=price,
        quote_qty=quote,
        commission=commission,
        commission_asset=commission_asset,
        is_maker=bool_field(raw, "m", what),
        time=transact_time,
    )
    return ExecutionUpdate(status, fill)


def _balance(
    entry: Any, asset_key: str, free_key: str, locked_key: str, time: datetime, what: str
) -> BalanceReport:
    item = require_mapping(entry, what)
    return BalanceReport(
        asset=text_field(item, asset_key, what),
        free=_amount(item, free_key, what),
        locked=_amount(item, locked_key, what),
        time=time,
    )


def _entries(obj: Mapping[str, Any], key: str, what: str) -> Sequence[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise MalformedPayload(f"{what}.{key}: expected a list")
    return value


def parse_account_position(msg: Mapping[str, Any]) -> AccountPosition:
    """An `outboundAccountPosition`: absolute balances at `u`, the last account update."""
    raw = require_mapping(msg, "outboundAccountPosition")
    what = "outboundAccountPosition"
    time = _time(raw, "u", what) if raw.get("u") is not None else _time(raw, "E", what)
    return AccountPosition(
        tuple(_balance(entry, "a", "f", "l", time, what) for entry in _entries(raw, "B", what))
    )


def parse_balance_update(msg: Mapping[str, Any]) -> BalanceDeltaReport:
    """A `balanceUpdate` (deposit, withdrawal, transfer); the delta may be negative."""
    raw = require_mapping(msg, "balanceUpdate")
    what = "balanceUpdate"
    return BalanceDeltaReport(
        asset=text_field(raw, "a", what),
        delta=decimal_field(raw, "d", what, signed=True),
        time=_time(raw, "T", what),
    )


UserEvent = ExecutionUpdate | AccountPosition | BalanceDeltaReport


def parse_user_event(msg: Mapping[str, Any]) -> UserEvent | None:
    """Any user data stream event; None for kinds without a report (listStatus, ...).

    Accepts the bare event or the WebSocket API's `{"subscriptionId", "event"}` envelope.
    """
    # A decoded frame is a dict: checked by its exact type first, the Mapping ABC costs more.
    raw = msg if type(msg) is dict else require_mapping(msg, "user data event")
    if "e" not in raw and isinstance(raw.get("event"), Mapping):
        raw = raw["event"]
    kind = raw.get("e")
    if kind == "executionReport":
        return parse_execution_report(raw)
    if kind == "outboundAccountPosition":
        return parse_account_position(raw)
    if kind == "balanceUpdate":
        return parse_balance_update(raw)
    if not isinstance(kind, str):
        raise MalformedPayload("user data event: no event type `e`")
    return None


# -- REST ---------------------------------------------------------------------------------------


def _order_time(raw: Mapping[str, Any], what: str) -> datetime:
    for key in ("transactTime", "updateTime", "time"):
        if raw.get(key) is not None:
            return _time(raw, key, what)
    raise MalformedPayload(f"{what}: no transactTime, updateTime or time")


def parse_order(body: Mapping[str, Any]) -> OrderStatusReport:
    """An order as REST returns it: RESULT/FULL responses, cancels, GET /order, order lists."""
    raw = require_mapping(body, "order")
    what = "order"
    state, raw_state = _state(raw, "status", what)
    quote_key = "cummulativeQuoteQty" if "cummulativeQuoteQty" in raw else "cumulativeQuoteQty"
    # Binance reports a negative cumulative quote for some historical orders: not available.
    cum_quote = max(decimal_field(raw, quote_key, what, signed=True), Decimal(0))
    qty_key = "origQty" if "origQty" in raw else "qty"
    return OrderStatusReport(
        symbol=text_field(raw, "symbol", what),
        client_order_id=text_field(raw, "clientOrderId", what),
        orig_client_order_id=optional_text(raw, "origClientOrderId", what),
        order_id=int_field(raw, "orderId", what),
        order_list_id=_list_id(raw, "orderListId", what),
        side=_enum(Side, _SIDES, raw, "side", what),
        type=_enum(OrderType, _ORDER_TYPES, raw, "type", what),
        time_in_force=_enum(TimeInForce, _TIME_IN_FORCE, raw, "timeInForce", what),
        qty=_qty(raw, qty_key, what),
        price=_optional_amount(raw, "price", what),
        stop_price=_optional_amount(raw, "stopPrice", what),
        quote_qty=_optional_amount(raw, "origQuoteOrderQty", what),
        trailing_delta=optional_int(raw, "trailingDelta", what),
        state=state,
        cum_qty=_amount(raw, "executedQty", what),
        cum_quote=cum_quote,
        transact_time=_order_time(raw, what),
        expiry_reason=_expiry(raw_state, optional_text(raw, "expiryReason", what)),
    )


def parse_order_response(body: Mapping[str, Any]) -> OrderResponse:
    """A POST /order response of any `newOrderRespType`.

    An ACK carries no status; the order exists, so it is reported as NEW with nothing executed,
    which can never move a better-informed order backwards.
    """
    raw = require_mapping(body, "order response")
    what = "order response"
    if "status" not in raw:
        status = OrderStatusReport(
            symbol=text_field(raw, "symbol", what),
            client_order_id=text_field(raw, "clientOrderId", what),
            order_id=int_field(raw, "orderId", what),
            order_list_id=_list_id(raw, "orderListId", what),
            state=OrderState.NEW,
            cum_qty=Decimal(0),
            cum_quote=Decimal(0),
            transact_time=_time(raw, "transactTime", what),
        )
        return OrderResponse(status, ())
    status = parse_order(raw)
    fills = raw.get("fills") or []
    if not isinstance(fills, list):
        raise MalformedPayload(f"{what}.fills: expected a list")
    return OrderResponse(status, tuple(_response_fill(status, entry) for entry in fills))


def _response_fill(status: OrderStatusReport, entry: Any) -> FillReport:
    what = "order response fill"
    item = require_mapping(entry, what)
    qty = _amount(item, "qty", what)
    price = _amount(item, "price", what)
    commission, commission_asset = _commission(item, "commission", "commissionAsset", what)
    assert status.side is not None  # parse_order always sets it
    return FillReport(
        symbol=status.symbol,
        trade_id=int_field(item, "tradeId", what),
        order_id=status.order_id,
        client_order_id=status.client_order_id,
        side=status.side,
        qty=qty,
        price=price,
        quote_qty=qty * price,
        commission=commission,
        commission_asset=commission_asset,
        # The response lists the trades made while placing the order: it took liquidity.
        is_maker=False,
        time=status.transact_time,
    )


def parse_my_trade(row: Mapping[str, Any]) -> FillReport:
    """One GET /myTrades row; it has no client order id (map it by order id)."""
    raw = require_mapping(row, "myTrades row")
    what = "myTrades row"
    commission, commission_asset = _commission(raw, "commission", "commissionAsset", what)
    return FillReport(
        symbol=text_field(raw, "symbol", what),
        trade_id=int_field(raw, "id", what),
        order_id=int_field(raw, "orderId", what),
        side=Side.BUY if bool_field(raw, "isBuyer", what) else Side.SELL,
        qty=_amount(raw, "qty", what),
        price=_amount(raw, "price", what),
        quote_qty=_amount(raw, "quoteQty", what),
        commission=commission,
        commission_asset=commission_asset,
        is_maker=bool_field(raw, "isMaker", what),
        time=_time(raw, "time", what),
    )


def parse_account(body: Mapping[str, Any]) -> list[BalanceReport]:
    """GET /account: every balance, stamped with the account's `updateTime`."""
    raw = require_mapping(body, "account")
    what = "account"
    time = _time(raw, "updateTime", what)
    return [
        _balance(entry, "asset", "free", "locked", time, f"{what}.balances")
        for entry in _entries(raw, "balances", what)
    ]
