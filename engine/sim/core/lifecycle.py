"""Placing and cancelling orders, and moving the market: the state changes behind the facade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.sim.core import params as p
from engine.sim.core.errors import (
    MSG_CANCEL_RESTRICTED,
    MSG_DUPLICATE_ORDER,
    MSG_INSUFFICIENT_BALANCE,
    MSG_MARKET_CLOSED,
    MSG_NO_LIQUIDITY,
    MSG_WOULD_MATCH,
    MSG_WOULD_TRIGGER,
    SimError,
    cancel_rejected,
    no_such_order,
    one_of_required,
    order_rejected,
)
from engine.sim.core.matching import check_stops, cross_resting, plan, rest, run_taker
from engine.sim.core.orders import Execution, Order, OrderList, cancel_shape, list_shape
from engine.sim.core.params import ZERO
from engine.sim.core.settlement import (
    assets,
    cancel_list,
    close,
    lock_amount,
    lock_needed,
    open_list_of,
)
from engine.sim.core.validation import WITH_STOP, OrderRequest
from engine.sim.core.venue import Venue


def would_trigger(req: OrderRequest, last: Decimal) -> bool:
    if req.type not in WITH_STOP or req.stop_price is None:
        return False
    return req.stop_price <= last if req.triggers_up else req.stop_price >= last


def would_take(v: Venue, req: OrderRequest) -> bool:
    """Whether a LIMIT_MAKER at this price would trade against the book right away."""
    top = v.top_of_book(req.symbol)
    assert req.price is not None
    if req.side == "BUY":
        return top.ask > 0 and req.price >= top.ask
    return top.bid > 0 and req.price <= top.bid


def check_duplicate(v: Venue, account_id: int, symbol: str, client_id: str | None) -> None:
    if client_id is None:
        return
    existing = v.client_ids.get((account_id, symbol, client_id))
    if existing is not None and existing.is_open:
        raise order_rejected(MSG_DUPLICATE_ORDER)


def check_trading(v: Venue, symbol: str) -> None:
    """A symbol that is not TRADING (a maintenance) takes no new orders: -2010 as on Binance."""
    if symbol in v.symbol_status:
        raise order_rejected(MSG_MARKET_CLOSED)


def engine_checks(v: Venue, account_id: int, req: OrderRequest) -> Decimal | None:
    """The matching engine's rejections (-2010); returns the quantity a quoteOrderQty order
    will fill, which becomes its origQty."""
    check_trading(v, req.symbol)
    check_duplicate(v, account_id, req.symbol, req.client_order_id)
    market = v.markets[req.symbol]
    if would_trigger(req, market.last):
        raise order_rejected(MSG_WOULD_TRIGGER)
    if req.type == "LIMIT_MAKER" and would_take(v, req):
        raise order_rejected(MSG_WOULD_MATCH)
    account = v.accounts[account_id]
    spec = v.specs[req.symbol]
    planned: Decimal | None = None
    if req.type == "MARKET":
        if req.quote_order_qty is not None:
            planned, cost = plan(
                v,
                req.symbol,
                req.side,
                account_id,
                req.stp_mode,
                qty=spec.market_max_qty,  # MARKET_LOT_SIZE caps what the quote amount buys
                budget=req.quote_order_qty,
            )
            if planned <= 0:
                raise order_rejected(MSG_NO_LIQUIDITY)
            qty = planned
        else:
            assert req.quantity is not None
            qty = req.quantity
            _, cost = plan(v, req.symbol, req.side, account_id, req.stp_mode, qty=qty)
        short = (
            account.free(spec.quote_asset) < cost
            if req.side == "BUY"
            else account.free(spec.base_asset) < qty
        )
    else:
        assert req.quantity is not None
        needed = lock_amount(req.side, req.quantity, req.price, req.stop_price, market.last)
        lock_asset = spec.quote_asset if req.side == "BUY" else spec.base_asset
        short = account.free(lock_asset) < needed
    if short:
        raise order_rejected(MSG_INSUFFICIENT_BALANCE)
    return planned


def create_order(
    v: Venue, account_id: int, req: OrderRequest, qty: Decimal, *, order_list_id: int = -1
) -> Order:
    """A new open order, registered in every index (not yet locked, working or reported)."""
    symbol = req.symbol
    order_id = v.next_order_id[symbol]
    v.next_order_id[symbol] += 1
    order = Order(
        symbol=symbol,
        order_id=order_id,
        account_id=account_id,
        client_order_id=req.client_order_id or v.generate_client_id(),
        side=req.side,
        type=req.type,
        time_in_force=req.time_in_force,
        orig_qty=qty,
        price=req.price or ZERO,
        stop_price=req.stop_price or ZERO,
        quote_order_qty=req.quote_order_qty or ZERO,
        stp_mode=req.stp_mode,
        time=v.now,
        update_time=v.now,
        trailing_delta=req.trailing_delta,
        iceberg_qty=req.iceberg_qty,
        strategy_id=req.strategy_id,
        strategy_type=req.strategy_type,
        order_list_id=order_list_id,
        triggered=req.type not in WITH_STOP,
        seq=v.take_counter("seq"),
    )
    v.orders[(symbol, order_id)] = order
    v.account_orders.setdefault((account_id, symbol), []).append(order)
    v.open_orders.setdefault((account_id, symbol), {})[order_id] = order
    v.client_ids[(account_id, symbol, order.client_order_id)] = order
    return order


def start(v: Venue, order: Order, execution: Execution) -> None:
    """Report a new order and set it going: a stop waits for its trigger, others meet the book."""
    if not order.triggered:
        if order.trailing_delta is not None and order.stop_price == 0:
            order.trail_extreme = v.markets[order.symbol].last
            order.trailing_time = v.now
        v.books[order.symbol].stops.add(order)
        v.report(order, v.detail("NEW", on_book=False))
        return
    order.working_time = v.now
    if order.type == "LIMIT_MAKER":
        rest(v, order)
        v.report(order, v.detail("NEW"))
        return
    v.report(order, v.detail("NEW", on_book=True))
    run_taker(v, order, execution)


def place(v: Venue, account_id: int, req: OrderRequest) -> tuple[Order, Execution]:
    """POST /api/v3/order after validation: create, lock, report, match, trigger stops."""
    planned = engine_checks(v, account_id, req)
    qty = planned if planned is not None else req.quantity
    assert qty is not None
    order = create_order(v, account_id, req, qty)
    if req.type != "MARKET":
        base, quote = assets(v, order)
        order.lock_asset = quote if order.side == "BUY" else base
        order.locked = lock_needed(v, order, qty)
        v.accounts[account_id].lock(order.lock_asset, order.locked, v.now)
    execution = Execution()
    start(v, order, execution)
    check_stops(v, order.symbol)
    return order, execution


def find_order(
    v: Venue,
    account_id: int,
    symbol: str,
    params: p.Params,
    *,
    for_cancel: bool,
    id_name: str = "orderId",
    client_name: str = "origClientOrderId",
) -> Order:
    """An account's order by id and/or client id (both: they must agree)."""
    order_id = p.integer(params, id_name)
    client_id = p.text(params, client_name)
    if order_id is None and client_id is None:
        raise one_of_required(client_name, id_name)
    missing = cancel_rejected() if for_cancel else no_such_order()
    if order_id is not None:
        found = v.orders.get((symbol, order_id))
        if found is None or found.account_id != account_id:
            raise missing
        if client_id is not None and found.client_order_id != client_id:
            raise missing
        return found
    assert client_id is not None
    by_client = v.client_ids.get((account_id, symbol, client_id))
    if by_client is None:
        raise missing
    return by_client


def cancel(
    v: Venue, order: Order, cancel_client_id: str | None, restriction: str | None
) -> dict[str, Any]:
    """DELETE /api/v3/order on a found order; a leg of an open OCO cancels the whole list."""
    if not order.is_open:
        raise cancel_rejected()
    if (
        restriction is not None
        and order.status
        != {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}[restriction]
    ):
        raise cancel_rejected(MSG_CANCEL_RESTRICTED)
    cancel_id = cancel_client_id or v.generate_client_id()
    order_list = open_list_of(v, order)
    if order_list is not None:
        return cancel_whole_list(v, order_list, cancel_id)
    close(v, order, "CANCELED", "CANCELED", cancel_client_id=cancel_id)
    return cancel_shape(order, cancel_id, v.now)


def cancel_whole_list(v: Venue, order_list: OrderList, cancel_id: str) -> dict[str, Any]:
    legs = cancel_list(v, order_list, cancel_id)
    shape = list_shape(order_list, legs)
    shape["orderReports"] = [cancel_shape(leg, cancel_id, v.now) for leg in legs]
    return shape


def cancel_restriction(params: p.Params) -> str | None:
    value = p.text(params, "cancelRestrictions")
    if value is not None and value not in ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
        raise SimError(-1145, "Invalid cancelRestrictions")
    return value


def step_symbol(v: Venue, symbol: str) -> None:
    """One step of the price path: re-center the book, fill crossed orders, trigger stops."""
    market = v.markets[symbol]
    move_market(v, symbol, market.next_raw(v.config))


def move_market(v: Venue, symbol: str, raw: Decimal) -> None:
    if symbol in v.symbol_status:
        return  # no trading, so no trades and no price: resting orders wait for TRADING
    v.markets[symbol].move_to(raw, v.config, v.now)
    cross_resting(v, symbol)
    check_stops(v, symbol)
    v.touch(symbol)
