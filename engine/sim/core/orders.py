"""Order, order-list and trade records, and the Binance JSON shapes they are reported in."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.sim.core.params import ZERO, fmt

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
MARKET_LIKE_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})


@dataclass(slots=True)
class Order:
    """One order as the exchange knows it; `locked` is what it still holds of `lock_asset`."""

    symbol: str
    order_id: int
    account_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    orig_qty: Decimal
    price: Decimal
    stop_price: Decimal
    quote_order_qty: Decimal
    stp_mode: str
    time: int
    update_time: int
    trailing_delta: int | None = None
    trailing_time: int = -1
    trail_extreme: Decimal | None = None
    iceberg_qty: Decimal | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    order_list_id: int = -1
    working_time: int = -1
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    prevented_qty: Decimal = ZERO
    prevented_match_id: int | None = None
    expiry_reason: str | None = None
    triggered: bool = True
    resting: bool = False
    lock_asset: str = ""
    locked: Decimal = ZERO
    seq: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_stop(self) -> bool:
        return self.type in STOP_TYPES

    @property
    def market_like(self) -> bool:
        return self.type in MARKET_LIKE_TYPES

    @property
    def triggers_up(self) -> bool:
        """STOP_LOSS BUY and TAKE_PROFIT SELL trigger when the price rises to the stop."""
        return (self.side == "BUY") == self.type.startswith("STOP_LOSS")

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty - self.prevented_qty

    @property
    def is_working(self) -> bool:
        return self.working_time != -1

    def to_state(self) -> dict[str, Any]:
        """Every field, decimals as strings (written out: dataclasses.asdict deep-copies
        slowly, and the store calls this for each changed order)."""
        return {
            "symbol": self.symbol,
            "order_id": self.order_id,
            "account_id": self.account_id,
            "client_order_id": self.client_order_id,
            "side": self.side,
            "type": self.type,
            "time_in_force": self.time_in_force,
            "orig_qty": str(self.orig_qty),
            "price": str(self.price),
            "stop_price": str(self.stop_price),
            "quote_order_qty": str(self.quote_order_qty),
            "stp_mode": self.stp_mode,
            "time": self.time,
            "update_time": self.update_time,
            "trailing_delta": self.trailing_delta,
            "trailing_time": self.trailing_time,
            "trail_extreme": _opt_str(self.trail_extreme),
            "iceberg_qty": _opt_str(self.iceberg_qty),
            "strategy_id": self.strategy_id,
            "strategy_type": self.strategy_type,
            "order_list_id": self.order_list_id,
            "working_time": self.working_time,
            "status": self.status,
            "executed_qty": str(self.executed_qty),
            "cum_quote": str(self.cum_quote),
            "prevented_qty": str(self.prevented_qty),
            "prevented_match_id": self.prevented_match_id,
            "expiry_reason": self.expiry_reason,
            "triggered": self.triggered,
            "resting": self.resting,
            "lock_asset": self.lock_asset,
            "locked": str(self.locked),
            "seq": self.seq,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Order:
        return cls(
            symbol=data["symbol"],
            order_id=data["order_id"],
            account_id=data["account_id"],
            client_order_id=data["client_order_id"],
            side=data["side"],
            type=data["type"],
            time_in_force=data["time_in_force"],
            orig_qty=Decimal(data["orig_qty"]),
            price=Decimal(data["price"]),
            stop_price=Decimal(data["stop_price"]),
            quote_order_qty=Decimal(data["quote_order_qty"]),
            stp_mode=data["stp_mode"],
            time=data["time"],
            update_time=data["update_time"],
            trailing_delta=data["trailing_delta"],
            trailing_time=data["trailing_time"],
            trail_extreme=_opt_decimal(data["trail_extreme"]),
            iceberg_qty=_opt_decimal(data["iceberg_qty"]),
            strategy_id=data["strategy_id"],
            strategy_type=data["strategy_type"],
            order_list_id=data["order_list_id"],
            working_time=data["working_time"],
            status=data["status"],
            executed_qty=Decimal(data["executed_qty"]),
            cum_quote=Decimal(data["cum_quote"]),
            prevented_qty=Decimal(data["prevented_qty"]),
            prevented_match_id=data["prevented_match_id"],
            expiry_reason=data["expiry_reason"],
            triggered=data["triggered"],
            resting=data["resting"],
            lock_asset=data["lock_asset"],
            locked=Decimal(data["locked"]),
            seq=data["seq"],
        )


def _opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _opt_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(slots=True)
class OrderList:
    """An OCO: two legs that share one balance lock until one of them starts working."""

    order_list_id: int
    symbol: str
    account_id: int
    list_client_order_id: str
    transaction_time: int
    order_ids: list[int]
    lock_asset: str
    locked: Decimal
    list_status_type: str = "EXEC_STARTED"
    list_order_status: str = "EXECUTING"
    contingency_type: str = "OCO"

    @property
    def is_open(self) -> bool:
        return self.list_order_status == "EXECUTING"

    def to_state(self) -> dict[str, Any]:
        return {
            "order_list_id": self.order_list_id,
            "symbol": self.symbol,
            "account_id": self.account_id,
            "list_client_order_id": self.list_client_order_id,
            "transaction_time": self.transaction_time,
            "order_ids": list(self.order_ids),
            "lock_asset": self.lock_asset,
            "locked": str(self.locked),
            "list_status_type": self.list_status_type,
            "list_order_status": self.list_order_status,
            "contingency_type": self.contingency_type,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> OrderList:
        return cls(
            order_list_id=data["order_list_id"],
            symbol=data["symbol"],
            account_id=data["account_id"],
            list_client_order_id=data["list_client_order_id"],
            transaction_time=data["transaction_time"],
            order_ids=list(data["order_ids"]),
            lock_asset=data["lock_asset"],
            locked=Decimal(data["locked"]),
            list_status_type=data["list_status_type"],
            list_order_status=data["list_order_status"],
            contingency_type=data["contingency_type"],
        )


@dataclass(slots=True)
class Trade:
    """One side of one fill, as GET /api/v3/myTrades reports it."""

    symbol: str
    trade_id: int
    order_id: int
    order_list_id: int
    account_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def shape(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.quote_qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }

    def to_state(self) -> list[Any]:
        return [
            self.symbol,
            self.trade_id,
            self.order_id,
            self.order_list_id,
            self.account_id,
            str(self.price),
            str(self.qty),
            str(self.quote_qty),
            str(self.commission),
            self.commission_asset,
            self.time,
            self.is_buyer,
            self.is_maker,
        ]

    @classmethod
    def from_state(cls, row: list[Any]) -> Trade:
        (
            symbol,
            trade_id,
            order_id,
            list_id,
            account_id,
            price,
            qty,
            quote,
            commission,
            asset,
            time,
            is_buyer,
            is_maker,
        ) = row
        return cls(
            symbol,
            trade_id,
            order_id,
            list_id,
            account_id,
            Decimal(price),
            Decimal(qty),
            Decimal(quote),
            Decimal(commission),
            asset,
            time,
            is_buyer,
            is_maker,
        )


@dataclass
class Fill:
    """One fill of a taker order, as listed in a FULL response's "fills"."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int

    def shape(self) -> dict[str, Any]:
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }


@dataclass
class Execution:
    """What a placement did right away: fills and prevented matches for the FULL response."""

    fills: list[Fill] = field(default_factory=list)
    prevented: list[dict[str, Any]] = field(default_factory=list)


# -- response shapes -------------------------------------------------------------------------


def _conditional(order: Order, out: dict[str, Any]) -> None:
    if order.is_stop:
        out["stopPrice"] = fmt(order.stop_price)
    if order.trailing_delta is not None:
        out["trailingDelta"] = order.trailing_delta
        out["trailingTime"] = order.trailing_time
    if order.iceberg_qty is not None:
        out["icebergQty"] = fmt(order.iceberg_qty)
    if order.strategy_id is not None:
        out["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        out["strategyType"] = order.strategy_type
    if order.prevented_match_id is not None:
        out["preventedMatchId"] = order.prevented_match_id
        out["preventedQuantity"] = fmt(order.prevented_qty)
    if order.expiry_reason is not None:
        out["expiryReason"] = order.expiry_reason


def _amounts(order: Order) -> dict[str, Any]:
    return {
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(order.quote_order_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }


def ack_shape(order: Order, transact_time: int) -> dict[str, Any]:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
    }


def result_shape(order: Order, transact_time: int) -> dict[str, Any]:
    out = ack_shape(order, transact_time) | _amounts(order)
    _conditional(order, out)
    out["workingTime"] = order.working_time
    out["selfTradePreventionMode"] = order.stp_mode
    return out


def full_shape(order: Order, transact_time: int, execution: Execution) -> dict[str, Any]:
    out = result_shape(order, transact_time)
    out["fills"] = [fill.shape() for fill in execution.fills]
    if execution.prevented:
        out["preventedMatches"] = execution.prevented
    return out


def response_shape(
    order: Order, transact_time: int, resp_type: str, execution: Execution
) -> dict[str, Any]:
    if resp_type == "ACK":
        return ack_shape(order, transact_time)
    if resp_type == "RESULT":
        return result_shape(order, transact_time)
    return full_shape(order, transact_time, execution)


def query_shape(order: Order) -> dict[str, Any]:
    """GET /api/v3/order, openOrders and allOrders."""
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
    } | _amounts(order)
    out["stopPrice"] = fmt(order.stop_price)
    out["icebergQty"] = fmt(order.iceberg_qty or ZERO)
    out["time"] = order.time
    out["updateTime"] = order.update_time
    out["isWorking"] = order.is_working
    out["workingTime"] = order.working_time
    out["origQuoteOrderQty"] = fmt(order.quote_order_qty)
    out["selfTradePreventionMode"] = order.stp_mode
    extra: dict[str, Any] = {}
    _conditional(order, extra)
    extra.pop("stopPrice", None)
    extra.pop("icebergQty", None)
    return out | extra


def cancel_shape(order: Order, cancel_client_id: str, transact_time: int) -> dict[str, Any]:
    """DELETE /api/v3/order: clientOrderId is the cancel's own id."""
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": cancel_client_id,
        "transactTime": transact_time,
    } | _amounts(order)
    _conditional(order, out)
    out["selfTradePreventionMode"] = order.stp_mode
    return out


def list_shape(order_list: OrderList, legs: list[Order]) -> dict[str, Any]:
    return {
        "orderListId": order_list.order_list_id,
        "contingencyType": order_list.contingency_type,
        "listStatusType": order_list.list_status_type,
        "listOrderStatus": order_list.list_order_status,
        "listClientOrderId": order_list.list_client_order_id,
        "transactionTime": order_list.transaction_time,
        "symbol": order_list.symbol,
        "orders": [
            {"symbol": o.symbol, "orderId": o.order_id, "clientOrderId": o.client_order_id}
            for o in legs
        ],
    }
