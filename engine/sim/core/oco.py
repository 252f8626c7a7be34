"""OCO order lists (POST /api/v3/orderList/oco): parameters, Binance's rules, placement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.sim.core import params as p
from engine.sim.core.errors import (
    MSG_DUPLICATE_ORDER,
    MSG_INSUFFICIENT_BALANCE,
    MSG_OCO_BAD_PRICES,
    MSG_WOULD_MATCH,
    SimError,
    filter_failure,
    mandatory,
    not_required,
    one_of_required,
    order_rejected,
)
from engine.sim.core.lifecycle import (
    check_duplicate,
    check_trading,
    create_order,
    start,
    would_take,
)
from engine.sim.core.orders import Execution, OrderList, list_shape, response_shape
from engine.sim.core.settlement import emit_list_status, lock_amount
from engine.sim.core.symbols import SymbolSpec
from engine.sim.core.validation import (
    TIME_IN_FORCE,
    WITH_STOP,
    OrderRequest,
    check_filters,
    enum,
    resp_type_of,
    side_of,
    stp_mode_of,
)
from engine.sim.core.venue import Venue

ABOVE_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
BELOW_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER")
_LEG_TYPE_ERROR = SimError(-1158, "Order type not supported in OCO.")


def _leg(
    params: p.Params,
    prefix: str,
    spec: SymbolSpec,
    side: str,
    quantity: Decimal,
    stp: str,
    allowed: tuple[str, ...],
) -> OrderRequest:
    order_type = enum(params, f"{prefix}Type", allowed, _LEG_TYPE_ERROR)
    if order_type is None:
        raise mandatory(f"{prefix}Type")
    tif = enum(
        params, f"{prefix}TimeInForce", TIME_IN_FORCE, SimError(-1115, "Invalid timeInForce.")
    )
    price = p.decimal(params, f"{prefix}Price")
    stop_price = p.decimal(params, f"{prefix}StopPrice")
    trailing = p.integer(params, f"{prefix}TrailingDelta")
    iceberg = p.decimal(params, f"{prefix}IcebergQty")
    priced = order_type in ("LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    if priced and price is None:
        raise mandatory(f"{prefix}Price")
    if not priced and price is not None:
        raise not_required(f"{prefix}Price")
    if order_type in WITH_STOP and stop_price is None and trailing is None:
        raise one_of_required(f"{prefix}StopPrice", f"{prefix}TrailingDelta")
    if order_type == "LIMIT_MAKER" and (stop_price is not None or trailing is not None):
        raise not_required(f"{prefix}StopPrice")
    needs_tif = order_type in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    if needs_tif and tif is None:
        raise mandatory(f"{prefix}TimeInForce")
    if not needs_tif and tif is not None:
        raise not_required(f"{prefix}TimeInForce")
    if iceberg is not None and tif not in (None, "GTC"):
        raise SimError(
            -1160,
            f"Parameter '{prefix}IcebergQty' is not supported if '{prefix}TimeInForce' is not GTC.",
        )
    return OrderRequest(
        symbol=spec.symbol,
        side=side,
        type=order_type,
        time_in_force=tif or "GTC",
        quantity=quantity,
        quote_order_qty=None,
        price=price,
        stop_price=stop_price,
        trailing_delta=trailing,
        iceberg_qty=iceberg,
        client_order_id=p.client_id(params, f"{prefix}ClientOrderId"),
        resp_type="ACK",
        stp_mode=stp,
        strategy_id=p.integer(params, f"{prefix}StrategyId"),
        strategy_type=p.integer(params, f"{prefix}StrategyType"),
    )


def _check_placement(side: str, above: OrderRequest, below: OrderRequest) -> None:
    """Which leg may sit where: the stop-loss leg on the side the price must not go."""
    if side == "SELL":
        if above.type.startswith("STOP_LOSS"):
            raise SimError(-1197, "A stop loss order in a sell OCO must be below.")
        if not below.type.startswith("STOP_LOSS"):
            raise SimError(-1199, "A take profit order in a sell OCO must be above.")
    else:
        if above.type == "LIMIT_MAKER":
            raise SimError(-1165, "A limit order in a buy OCO must be below.")
        if not above.type.startswith("STOP_LOSS"):
            raise SimError(-1198, "A take profit order in a buy OCO must be below.")
        if below.type.startswith("STOP_LOSS"):
            raise SimError(-1196, "A stop loss order in a buy OCO must be above.")


def _prices_ok(above: OrderRequest, below: OrderRequest, last: Decimal) -> bool:
    """Every price of the above leg above the last price, every price of the below leg below."""
    above_prices = [x for x in (above.price, above.stop_price) if x is not None]
    below_prices = [x for x in (below.price, below.stop_price) if x is not None]
    if above.type.startswith("STOP_LOSS"):
        above_prices = [above.stop_price] if above.stop_price is not None else []
    if below.type.startswith("STOP_LOSS"):
        below_prices = [below.stop_price] if below.stop_price is not None else []
    return all(x > last for x in above_prices) and all(x < last for x in below_prices)


def place_oco(v: Venue, account_id: int, spec: SymbolSpec, params: p.Params) -> dict[str, Any]:
    side = side_of(params)
    quantity = p.required_decimal(params, "quantity")
    stp = stp_mode_of(params, spec)
    above = _leg(params, "above", spec, side, quantity, stp, ABOVE_TYPES)
    below = _leg(params, "below", spec, side, quantity, stp, BELOW_TYPES)
    _check_placement(side, above, below)
    list_client_id = p.client_id(params, "listClientOrderId")
    resp_type = resp_type_of(params, "RESULT")
    market = v.markets[spec.symbol]
    counts = v.counts(account_id, spec.symbol)
    avg = market.avg_price(v.now)
    algo = sum(1 for leg in (above, below) if leg.type in WITH_STOP)
    for leg in (below, above):
        check_filters(leg, spec, avg, counts, new_orders=2, new_algo=algo)
    if counts.order_lists + 1 > spec.max_num_order_lists:
        raise filter_failure("MAX_NUM_ORDER_LISTS")

    check_trading(v, spec.symbol)
    for leg in (below, above):
        check_duplicate(v, account_id, spec.symbol, leg.client_order_id)
    if below.client_order_id is not None and below.client_order_id == above.client_order_id:
        raise order_rejected(MSG_DUPLICATE_ORDER)
    if list_client_id is not None and any(
        lst.is_open and lst.list_client_order_id == list_client_id
        for lst in v.account_lists.get(account_id, ())
    ):
        raise order_rejected(MSG_DUPLICATE_ORDER)
    if not _prices_ok(above, below, market.last):
        raise order_rejected(MSG_OCO_BAD_PRICES)
    for leg in (below, above):
        if leg.type == "LIMIT_MAKER" and would_take(v, leg):
            raise order_rejected(MSG_WOULD_MATCH)
    lock_asset = spec.quote_asset if side == "BUY" else spec.base_asset
    locked = max(
        lock_amount(side, quantity, leg.price, leg.stop_price, market.last)
        for leg in (below, above)
    )
    account = v.accounts[account_id]
    if account.free(lock_asset) < locked:
        raise order_rejected(MSG_INSUFFICIENT_BALANCE)

    list_id = v.take_counter("order_list")
    legs = [
        create_order(v, account_id, leg, quantity, order_list_id=list_id) for leg in (below, above)
    ]
    for leg_order in legs:
        leg_order.lock_asset = lock_asset
    account.lock(lock_asset, locked, v.now)
    order_list = OrderList(
        order_list_id=list_id,
        symbol=spec.symbol,
        account_id=account_id,
        list_client_order_id=list_client_id or v.generate_client_id(),
        transaction_time=v.now,
        order_ids=[o.order_id for o in legs],
        lock_asset=lock_asset,
        locked=locked,
    )
    v.lists[list_id] = order_list
    v.account_lists.setdefault(account_id, []).append(order_list)
    for leg_order in legs:
        start(v, leg_order, Execution())
    emit_list_status(v, order_list)
    shape = list_shape(order_list, legs)
    shape["orderReports"] = [response_shape(o, v.now, resp_type, Execution()) for o in legs]
    return shape
