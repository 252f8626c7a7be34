"""New-order parameters to an OrderRequest, and the symbol filters an order must pass."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from engine.sim.core import params as p
from engine.sim.core.errors import (
    MSG_STP_NOT_ALLOWED,
    SimError,
    bad_symbol,
    filter_failure,
    invalid_param,
    mandatory,
    not_required,
    one_of_required,
    order_rejected,
)
from engine.sim.core.symbols import ORDER_TYPES, STP_MODES, SymbolSpec

SIDES = ("BUY", "SELL")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
RESP_TYPES = ("ACK", "RESULT", "FULL")
LIMIT_PRICED = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
WITH_TIF = frozenset({"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
WITH_STOP = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
STP_ALL_KNOWN = (*STP_MODES, "TRANSFER")


@dataclass
class OrderRequest:
    """A validated new order (or OCO leg): what Exchange places."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    trailing_delta: int | None
    iceberg_qty: Decimal | None
    client_order_id: str | None
    resp_type: str
    stp_mode: str
    strategy_id: int | None = None
    strategy_type: int | None = None

    @property
    def triggers_up(self) -> bool:
        return (self.side == "BUY") == self.type.startswith("STOP_LOSS")


def symbol_of(params: p.Params, specs: dict[str, SymbolSpec]) -> SymbolSpec:
    spec = specs.get(p.required_text(params, "symbol"))
    if spec is None:
        raise bad_symbol()
    return spec


def enum(params: p.Params, name: str, allowed: tuple[str, ...], error: SimError) -> str | None:
    value = p.text(params, name)
    if value is not None and value not in allowed:
        raise error
    return value


def side_of(params: p.Params, name: str = "side") -> str:
    side = enum(params, name, SIDES, SimError(-1117, "Invalid side."))
    if side is None:
        raise mandatory(name)
    return side


def stp_mode_of(params: p.Params, spec: SymbolSpec) -> str:
    mode = enum(
        params, "selfTradePreventionMode", STP_ALL_KNOWN, invalid_param("selfTradePreventionMode")
    )
    if mode is None:
        return spec.default_stp_mode
    if mode not in STP_MODES:
        raise SimError(-1013, MSG_STP_NOT_ALLOWED)
    return mode


def resp_type_of(params: p.Params, default: str) -> str:
    value = enum(params, "newOrderRespType", RESP_TYPES, invalid_param("newOrderRespType"))
    return value or default


def parse_order(params: p.Params, spec: SymbolSpec) -> OrderRequest:
    """POST /api/v3/order parameters, checked in Binance's order: presence, enums, formats."""
    side = side_of(params)
    order_type = enum(params, "type", ORDER_TYPES, SimError(-1116, "Invalid orderType."))
    if order_type is None:
        raise mandatory("type")
    tif = enum(params, "timeInForce", TIME_IN_FORCE, SimError(-1115, "Invalid timeInForce."))
    quantity = p.decimal(params, "quantity")
    quote_qty = p.decimal(params, "quoteOrderQty")
    price = p.decimal(params, "price")
    stop_price = p.decimal(params, "stopPrice")
    trailing = p.integer(params, "trailingDelta")
    iceberg = p.decimal(params, "icebergQty")

    if order_type == "MARKET":
        if quantity is None and quote_qty is None:
            raise one_of_required("quantity", "quoteOrderQty")
        if quantity is not None and quote_qty is not None:
            raise not_required("quoteOrderQty")
    else:
        if quantity is None:
            raise mandatory("quantity")
        if quote_qty is not None:
            raise not_required("quoteOrderQty")
    if order_type in WITH_TIF and tif is None:
        raise mandatory("timeInForce")
    if order_type in LIMIT_PRICED and price is None:
        raise mandatory("price")
    if order_type in WITH_STOP and stop_price is None and trailing is None:
        raise one_of_required("stopPrice", "trailingDelta")
    if order_type not in LIMIT_PRICED and price is not None:
        raise not_required("price")
    if order_type not in WITH_TIF and tif is not None:
        raise not_required("timeInForce")
    if order_type not in WITH_STOP:
        if stop_price is not None:
            raise not_required("stopPrice")
        if trailing is not None:
            raise not_required("trailingDelta")
    if iceberg is not None:
        if order_type not in LIMIT_PRICED:
            raise not_required("icebergQty")
        if order_type != "LIMIT_MAKER" and tif != "GTC":
            raise order_rejected("Unsupported order combination")
    strategy_type = p.integer(params, "strategyType")
    if strategy_type is not None and strategy_type < 1_000_000:
        raise SimError(-1134, "strategyType was less than 1000000.")
    default_resp = "FULL" if order_type in ("LIMIT", "MARKET") else "ACK"
    return OrderRequest(
        symbol=spec.symbol,
        side=side,
        type=order_type,
        time_in_force=tif or "GTC",
        quantity=quantity,
        quote_order_qty=quote_qty,
        price=price,
        stop_price=stop_price,
        trailing_delta=trailing,
        iceberg_qty=iceberg,
        client_order_id=p.client_id(params, "newClientOrderId"),
        resp_type=resp_type_of(params, default_resp),
        stp_mode=stp_mode_of(params, spec),
        strategy_id=p.integer(params, "strategyId"),
        strategy_type=strategy_type,
    )


@dataclass(frozen=True)
class OpenCounts:
    """An account's open orders on a symbol, for the MAX_NUM_* filters."""

    orders: int
    algo_orders: int
    order_lists: int


def check_filters(
    req: OrderRequest,
    spec: SymbolSpec,
    avg_price: Decimal,
    counts: OpenCounts,
    new_orders: int = 1,
    new_algo: int | None = None,
) -> None:
    """Raise -1013 "Filter failure: NAME" for the first filter the order fails."""
    for value in (req.price, req.stop_price):
        if value is not None and not _price_ok(value, spec):
            raise filter_failure("PRICE_FILTER")
    if req.price is not None:
        up, down = (
            (spec.bid_multiplier_up, spec.bid_multiplier_down)
            if req.side == "BUY"
            else (spec.ask_multiplier_up, spec.ask_multiplier_down)
        )
        if req.price > avg_price * up or req.price < avg_price * down:
            raise filter_failure("PERCENT_PRICE_BY_SIDE")
    for qty in (req.quantity, req.iceberg_qty):
        if qty is not None and not (
            spec.min_qty <= qty <= spec.max_qty and p.is_multiple(qty, spec.step_size)
        ):
            raise filter_failure("LOT_SIZE")
    market_like = req.type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
    if market_like and req.quantity is not None and req.quantity > spec.market_max_qty:
        raise filter_failure("MARKET_LOT_SIZE")
    _check_notional(req, spec, avg_price, market_like)
    if req.trailing_delta is not None and not (
        spec.min_trailing_delta <= req.trailing_delta <= spec.max_trailing_delta
    ):
        raise filter_failure("TRAILING_DELTA")
    if req.iceberg_qty is not None and req.quantity is not None:
        if req.iceberg_qty <= 0:
            raise filter_failure("LOT_SIZE")
        parts = (req.quantity / req.iceberg_qty).to_integral_value(ROUND_CEILING)
        if parts > spec.iceberg_parts:
            raise filter_failure("ICEBERG_PARTS")
    if counts.orders + new_orders > spec.max_num_orders:
        raise filter_failure("MAX_NUM_ORDERS")
    algo = new_algo if new_algo is not None else int(req.type in WITH_STOP)
    if algo and counts.algo_orders + algo > spec.max_num_algo_orders:
        raise filter_failure("MAX_NUM_ALGO_ORDERS")


def _price_ok(value: Decimal, spec: SymbolSpec) -> bool:
    return (
        value > 0
        and (spec.min_price == 0 or value >= spec.min_price)
        and (spec.max_price == 0 or value <= spec.max_price)
        and p.is_multiple(value, spec.tick_size)
    )


def _check_notional(
    req: OrderRequest, spec: SymbolSpec, avg_price: Decimal, market_like: bool
) -> None:
    if req.quote_order_qty is not None:
        notional = req.quote_order_qty
    elif market_like or req.price is None:
        notional = avg_price * (req.quantity or 0)
    else:
        notional = req.price * (req.quantity or 0)
    if notional < spec.min_notional:
        raise filter_failure("NOTIONAL")
    if not market_like and notional > spec.max_notional:
        raise filter_failure("NOTIONAL")
