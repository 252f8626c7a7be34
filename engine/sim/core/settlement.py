"""Order state changes that move money: fills, fees, locks, closing orders and ending OCOs."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal
from functools import partial

from engine.sim.core import events
from engine.sim.core.accounts import Account
from engine.sim.core.orders import Execution, Fill, Order, OrderList, Trade
from engine.sim.core.params import ZERO, q8
from engine.sim.core.venue import Venue

BNB = "BNB"
BNB_PRICE_SYMBOL = "BNBUSDT"


def lock_amount(
    side: str, qty: Decimal, price: Decimal | None, stop_price: Decimal | None, last: Decimal
) -> Decimal:
    """What an order of `qty` holds: for a buy the quote at its limit price (a stop-market buy:
    its stop price, a trailing one: the last price), for a sell the base quantity."""
    if side == "SELL":
        return qty
    return (price or stop_price or last) * qty


def lock_needed(v: Venue, order: Order, qty: Decimal) -> Decimal:
    last = v.markets[order.symbol].last
    return lock_amount(order.side, qty, order.price, order.stop_price, last)


def assets(v: Venue, order: Order) -> tuple[str, str]:
    spec = v.specs[order.symbol]
    return spec.base_asset, spec.quote_asset


def settle(
    v: Venue,
    order: Order,
    price: Decimal,
    qty: Decimal,
    trade_id: int,
    *,
    is_maker: bool,
    execution: Execution | None,
) -> None:
    """Apply one fill to `order`'s account and state, record the trade, report it."""
    account = v.accounts[order.account_id]
    base, quote = assets(v, order)
    quote_qty = price * qty
    now = v.now
    if order.side == "BUY":
        if order.lock_asset:
            release = (order.price or price) * qty
            order.locked -= release
            account.spend_locked(quote, release, now)
            if release > quote_qty:
                account.credit(quote, release - quote_qty, now)
        else:
            account.debit(quote, quote_qty, now)
        commission, commission_asset = charge(v, account, base, qty, quote_qty)
    else:
        if order.lock_asset:
            order.locked -= qty
            account.spend_locked(base, qty, now)
        else:
            account.debit(base, qty, now)
        commission, commission_asset = charge(v, account, quote, quote_qty, quote_qty)
    order.executed_qty += qty
    order.cum_quote += quote_qty
    order.update_time = now
    order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
    v.trades.setdefault((order.account_id, order.symbol), []).append(
        Trade(
            order.symbol,
            trade_id,
            order.order_id,
            order.order_list_id,
            order.account_id,
            price,
            qty,
            quote_qty,
            commission,
            commission_asset,
            now,
            order.side == "BUY",
            is_maker,
        )
    )
    if order.status == "FILLED":
        retire(v, order)
    detail = v.detail(
        "TRADE",
        last_qty=qty,
        last_price=price,
        commission=commission,
        commission_asset=commission_asset,
        trade_id=trade_id,
        is_maker=is_maker,
    )
    v.report(order, detail)
    if execution is not None:
        execution.fills.append(Fill(price, qty, commission, commission_asset, trade_id))


def charge(
    v: Venue, account: Account, asset: str, received: Decimal, quote_qty: Decimal
) -> tuple[Decimal, str]:
    """Credit what a fill brings in, then take the commission: in BNB when the account burns BNB
    and its free BNB covers it, else from what it received. Rounded up to 8 decimals."""
    now = v.now
    account.credit(asset, received, now)
    bnb_market = v.markets.get(BNB_PRICE_SYMBOL)
    if account.bnb_burn and bnb_market is not None:
        bnb_fee = q8(quote_qty * v.config.bnb_fee_rate / bnb_market.last, ROUND_UP)
        if bnb_fee > 0 and account.free(BNB) >= bnb_fee:
            account.debit(BNB, bnb_fee, now)
            v.add_to(v.fees, BNB, bnb_fee)
            return bnb_fee, BNB
    fee = q8(received * v.config.fee_rate, ROUND_UP)
    account.debit(asset, fee, now)
    v.add_to(v.fees, asset, fee)
    return fee, asset


def record_trade(
    v: Venue, symbol: str, trade_id: int, price: Decimal, qty: Decimal, buyer_is_maker: bool
) -> None:
    v.markets[symbol].record_trade(v.now, price, qty, trade_id)
    v.touch(symbol)
    v.market_event(
        f"{symbol.lower()}@trade",
        partial(events.trade, symbol, trade_id, price, qty, buyer_is_maker, v.now),
    )


def release_lock(v: Venue, order: Order, amount: Decimal) -> None:
    amount = min(amount, order.locked)
    if amount > 0:
        v.accounts[order.account_id].unlock(order.lock_asset, amount, v.now)
        order.locked -= amount


def retire(v: Venue, order: Order) -> None:
    """Take a no longer open order out of the books and indexes and free what it still holds.

    A leg of a still open OCO that ends this way ends the whole list.
    """
    books = v.books[order.symbol]
    if order.resting:
        books.own_side(order.side).remove(order)
        order.resting = False
    if not order.triggered:
        books.stops.discard(order)
    v.open_orders.get((order.account_id, order.symbol), {}).pop(order.order_id, None)
    release_lock(v, order, order.locked)
    order_list = open_list_of(v, order)
    if order_list is not None:
        finish_list(v, order_list, active=None)


def close(
    v: Venue,
    order: Order,
    status: str,
    exec_type: str,
    *,
    reason: str | None = None,
    cancel_client_id: str | None = None,
) -> None:
    """End an open order (CANCELED, EXPIRED, ...) and report it."""
    order.status = status
    order.update_time = v.now
    if reason is not None:
        order.expiry_reason = reason
    retire(v, order)
    v.report(order, v.detail(exec_type, cancel_client_id=cancel_client_id))


def open_list_of(v: Venue, order: Order) -> OrderList | None:
    if order.order_list_id == -1:
        return None
    order_list = v.lists.get(order.order_list_id)
    return order_list if order_list is not None and order_list.is_open else None


def finish_list(
    v: Venue, order_list: OrderList, *, active: Order | None, emit: bool = True
) -> None:
    """An OCO is done: `active` (the leg that started working) keeps what it needs of the shared
    lock, the other legs expire (OCO_TRIGGER), the rest of the lock is freed. With `emit` off
    the caller sends the listStatus after the active leg's own reports."""
    order_list.list_status_type = "ALL_DONE"
    order_list.list_order_status = "ALL_DONE"
    order_list.transaction_time = v.now
    legs = v.order_legs(order_list)
    for leg in legs:
        if leg is not active and leg.is_open:
            close(v, leg, "EXPIRED", "EXPIRED", reason="OCO_TRIGGER")
    if active is not None and active.is_open:
        needed = min(lock_needed(v, active, active.remaining), order_list.locked)
        active.locked = needed
        order_list.locked -= needed
    if order_list.locked > 0:
        v.accounts[order_list.account_id].unlock(order_list.lock_asset, order_list.locked, v.now)
        order_list.locked = ZERO
    if emit:
        emit_list_status(v, order_list)


def cancel_list(v: Venue, order_list: OrderList, cancel_client_id: str) -> list[Order]:
    """Cancel every open leg of an open OCO and free its lock; returns the legs."""
    order_list.list_status_type = "ALL_DONE"
    order_list.list_order_status = "ALL_DONE"
    order_list.transaction_time = v.now
    legs = v.order_legs(order_list)
    for leg in legs:
        if leg.is_open:
            close(v, leg, "CANCELED", "CANCELED", cancel_client_id=cancel_client_id)
    if order_list.locked > 0:
        v.accounts[order_list.account_id].unlock(order_list.lock_asset, order_list.locked, v.now)
        order_list.locked = ZERO
    emit_list_status(v, order_list)
    return legs


def emit_list_status(v: Venue, order_list: OrderList) -> None:
    if v.wants_user_events(order_list.account_id):
        legs = v.order_legs(order_list)
        v.user_event(order_list.account_id, events.list_status(order_list, legs, v.now))
