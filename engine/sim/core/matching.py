"""Matching: takers against the synthetic book and resting orders, STP, stops, market moves."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from engine.sim.core.orders import Execution, Order
from engine.sim.core.params import ZERO, floor_to_step, fmt
from engine.sim.core.settlement import (
    assets,
    close,
    emit_list_status,
    finish_list,
    lock_needed,
    open_list_of,
    record_trade,
    release_lock,
    retire,
    settle,
)
from engine.sim.core.venue import Venue

# Why a taker stopped matching.
FILLED = "FILLED"
NO_LIQUIDITY = "NO_LIQUIDITY"
LIMIT_REACHED = "LIMIT_REACHED"
STP_EXPIRED = "STP_EXPIRED"
OUT_OF_BUDGET = "OUT_OF_BUDGET"
OUT_OF_FUNDS = "OUT_OF_FUNDS"


def _better_or_equal(price: Decimal, other: Decimal, taker_side: str) -> bool:
    """For a buyer lower asks are better, for a seller higher bids."""
    return price <= other if taker_side == "BUY" else price >= other


def _beyond(price: Decimal, limit: Decimal | None, taker_side: str) -> bool:
    if limit is None:
        return False
    return price > limit if taker_side == "BUY" else price < limit


def _liquidity(
    v: Venue, symbol: str, taker_side: str, account_id: int, skip_own: bool
) -> Iterator[tuple[Decimal, Decimal]]:
    """(price, quantity) a taker could trade, best first, without changing anything."""
    market = v.markets[symbol]
    levels = market.levels(taker_side)
    taken = market.taken(taker_side)
    synthetic = ((price, qty - taken[i]) for i, (price, qty) in enumerate(levels) if qty > taken[i])
    users = (
        (o.price, o.remaining)
        for o in v.books[symbol].opposite(taker_side).in_priority()
        if not (skip_own and o.account_id == account_id)
    )
    syn = next(synthetic, None)
    usr = next(users, None)
    while syn is not None or usr is not None:
        if usr is not None and (syn is None or _better_or_equal(usr[0], syn[0], taker_side)):
            yield usr
            usr = next(users, None)
        else:
            assert syn is not None
            yield syn
            syn = next(synthetic, None)


def plan(
    v: Venue,
    symbol: str,
    side: str,
    account_id: int,
    stp_mode: str,
    *,
    limit: Decimal | None = None,
    qty: Decimal | None = None,
    budget: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """What a taker would get right now: (quantity, quote cost), for FOK, balances and
    quoteOrderQty; the taker's own orders are not counted when STP applies."""
    step = v.specs[symbol].step_size
    filled = ZERO
    cost = ZERO
    for price, available in _liquidity(v, symbol, side, account_id, stp_mode != "NONE"):
        if _beyond(price, limit, side):
            break
        take = available if qty is None else min(available, qty - filled)
        if budget is not None:
            take = min(take, floor_to_step((budget - cost) / price, step))
        if take <= 0:
            break
        filled += take
        cost += price * take
        if qty is not None and filled >= qty:
            break
    return filled, cost


def _best_synthetic(v: Venue, symbol: str, taker_side: str) -> int | None:
    market = v.markets[symbol]
    taken = market.taken(taker_side)
    for index, (_, qty) in enumerate(market.levels(taker_side)):
        if qty > taken[index]:
            return index
    return None


def execute(v: Venue, order: Order, execution: Execution) -> str:
    """Match a working taker until it is filled or stops; returns why it stopped."""
    symbol = order.symbol
    side = order.side
    market = v.markets[symbol]
    step = v.specs[symbol].step_size
    opposite = v.books[symbol].opposite(side)
    account = v.accounts[order.account_id]
    base, quote = assets(v, order)
    limit = None if order.market_like else order.price
    budget = order.quote_order_qty if order.quote_order_qty > 0 else None
    while order.remaining > 0:
        index = _best_synthetic(v, symbol, side)
        maker = opposite.best()
        synthetic_price = market.levels(side)[index][0] if index is not None else None
        use_maker = maker is not None and (
            synthetic_price is None or _better_or_equal(maker.price, synthetic_price, side)
        )
        if use_maker:
            assert maker is not None
            price = maker.price
        elif synthetic_price is not None:
            price = synthetic_price
        else:
            return NO_LIQUIDITY
        if _beyond(price, limit, side):
            return LIMIT_REACHED
        if use_maker:
            assert maker is not None
            if maker.account_id == order.account_id and order.stp_mode != "NONE":
                if prevent(v, order, maker, price, execution):
                    return STP_EXPIRED
                continue
            available = maker.remaining
        else:
            assert index is not None
            available = market.available(side, index)
        qty = min(order.remaining, available)
        if budget is not None:
            qty = min(qty, floor_to_step((budget - order.cum_quote) / price, step))
            if qty <= 0:
                return OUT_OF_BUDGET
        if not order.lock_asset:
            free = account.free(quote) / price if side == "BUY" else account.free(base)
            qty = min(qty, floor_to_step(free, step))
            if qty <= 0:
                return OUT_OF_FUNDS
        trade_id = _next_trade_id(v, symbol)
        if use_maker:
            assert maker is not None
            _fill_maker(v, maker, price, qty, trade_id)
        else:
            assert index is not None
            _pay_house(v, order, price, qty)
            market.take(side, index, qty)
        settle(v, order, price, qty, trade_id, is_maker=False, execution=execution)
        record_trade(v, symbol, trade_id, price, qty, buyer_is_maker=side == "SELL")
    return FILLED


def _next_trade_id(v: Venue, symbol: str) -> int:
    trade_id = v.next_trade_id[symbol]
    v.next_trade_id[symbol] += 1
    return trade_id


def _pay_house(v: Venue, order: Order, price: Decimal, qty: Decimal) -> None:
    """The synthetic book's side of a fill, so that every asset stays accounted for."""
    base, quote = assets(v, order)
    sign = 1 if order.side == "BUY" else -1
    v.add_to(v.house, base, -sign * qty)
    v.add_to(v.house, quote, sign * price * qty)


def _fill_maker(v: Venue, maker: Order, price: Decimal, qty: Decimal, trade_id: int) -> None:
    order_list = open_list_of(v, maker)
    if order_list is not None:
        finish_list(v, order_list, active=maker, emit=False)
    settle(v, maker, price, qty, trade_id, is_maker=True, execution=None)
    if order_list is not None:
        emit_list_status(v, order_list)


def prevent(v: Venue, taker: Order, maker: Order, price: Decimal, execution: Execution) -> bool:
    """Self-trade prevention by the taker's mode; returns whether the taker expired."""
    mode = taker.stp_mode
    match_id = v.next_prevented_id[taker.symbol]
    v.next_prevented_id[taker.symbol] += 1
    taker_left, maker_left = taker.remaining, maker.remaining
    if mode == "DECREMENT":
        taker_prevented = maker_prevented = min(taker_left, maker_left)
    else:
        taker_prevented = taker_left if mode in ("EXPIRE_TAKER", "EXPIRE_BOTH") else ZERO
        maker_prevented = maker_left if mode in ("EXPIRE_MAKER", "EXPIRE_BOTH") else ZERO
    entry: dict[str, object] = {
        "preventedMatchId": match_id,
        "makerOrderId": maker.order_id,
        "price": fmt(price),
    }
    if taker_prevented:
        entry["takerPreventedQuantity"] = fmt(taker_prevented)
    if maker_prevented:
        entry["makerPreventedQuantity"] = fmt(maker_prevented)
    execution.prevented.append(entry)
    if maker_prevented:
        _prevent_one(v, maker, match_id, maker_prevented, taker.order_id)
    if taker_prevented:
        _prevent_one(v, taker, match_id, taker_prevented, maker.order_id)
    return not taker.is_open


def _prevent_one(v: Venue, order: Order, match_id: int, qty: Decimal, counter_id: int) -> None:
    order.prevented_qty += qty
    order.prevented_match_id = match_id
    order.update_time = v.now
    if order.remaining <= 0:
        order.status = "EXPIRED_IN_MATCH"
        retire(v, order)
    else:
        release_lock(v, order, lock_needed(v, order, qty))
    detail = v.detail("TRADE_PREVENTION", last_prevented=qty, counter_order_id=counter_id)
    v.report(order, detail)


def run_taker(v: Venue, order: Order, execution: Execution) -> None:
    """A working order meets the book; what is left rests (GTC) or expires by its rules."""
    if order.time_in_force == "FOK" and not order.market_like:
        fillable, _ = plan(
            v,
            order.symbol,
            order.side,
            order.account_id,
            order.stp_mode,
            limit=order.price,
            qty=order.remaining,
        )
        if fillable < order.remaining:
            close(v, order, "EXPIRED", "EXPIRED", reason="UNFILLED_FOK_ORDER_EXPIRED")
            return
    reason = execute(v, order, execution)
    if not order.is_open:
        return
    if order.market_like:
        expiry = "INSUFFICIENT_LIQUIDITY" if reason == NO_LIQUIDITY else None
        close(v, order, "EXPIRED", "EXPIRED", reason=expiry)
    elif order.time_in_force == "IOC":
        close(v, order, "EXPIRED", "EXPIRED", reason="UNFILLED_IOC_QUANTITY_EXPIRED")
    elif order.time_in_force == "FOK":
        close(v, order, "EXPIRED", "EXPIRED", reason="UNFILLED_FOK_ORDER_EXPIRED")
    else:
        rest(v, order)


def rest(v: Venue, order: Order) -> None:
    order.seq = v.take_counter("seq")
    order.resting = True
    v.books[order.symbol].own_side(order.side).add(order)
    v.touch(order.symbol)


def trigger(v: Venue, order: Order) -> None:
    """A stop's condition is met: it starts working as a MARKET or LIMIT order."""
    order_list = open_list_of(v, order)
    if order_list is not None:
        finish_list(v, order_list, active=order, emit=False)
    v.books[order.symbol].stops.discard(order)
    order.triggered = True
    order.working_time = v.now
    order.update_time = v.now
    if order.market_like and order.side == "BUY":
        # A stop-market buy pays from free balance at whatever the market asks.
        release_lock(v, order, order.locked)
        order.lock_asset = ""
    v.report(order, v.detail("NEW", on_book=True))
    run_taker(v, order, Execution())
    if order_list is not None:
        emit_list_status(v, order_list)


def check_stops(v: Venue, symbol: str) -> None:
    """Trigger every stop the last price has reached, again after the trades they make."""
    market = v.markets[symbol]
    stops = v.books[symbol].stops
    while True:
        price = market.last
        due = stops.due(price) + _trailing_due(v, symbol, price)
        if not due:
            return
        for order in due:
            if order.is_open and not order.triggered:
                trigger(v, order)


def _trailing_due(v: Venue, symbol: str, price: Decimal) -> list[Order]:
    due: list[Order] = []
    for order in list(v.books[symbol].stops.trailing):
        if not order.is_open or order.triggered:
            continue
        assert order.trailing_delta is not None
        if order.trail_extreme is None:
            reached = price >= order.stop_price if order.triggers_up else price <= order.stop_price
            if reached:
                order.trail_extreme = price
                order.trailing_time = v.now
            continue
        delta = Decimal(order.trailing_delta) / 10_000
        if order.side == "BUY":
            order.trail_extreme = min(order.trail_extreme, price)
            hit = price >= order.trail_extreme * (1 + delta)
        else:
            order.trail_extreme = max(order.trail_extreme, price)
            hit = price <= order.trail_extreme * (1 - delta)
        if hit:
            due.append(order)
    return due


def cross_resting(v: Venue, symbol: str) -> None:
    """After the market moved, resting orders it passed through fill as makers at their price.

    The synthetic taker on the other side uses up the synthetic levels it crossed. The last price
    stays the market's: these fills happened on the way to it.
    """
    market = v.markets[symbol]
    books = v.books[symbol]
    for maker_side, book in (("BUY", books.bids), ("SELL", books.asks)):
        taker_side = "SELL" if maker_side == "BUY" else "BUY"
        # the synthetic liquidity a resting buy meets is the synthetic asks, and vice versa
        levels = market.levels(maker_side)
        while (maker := book.best()) is not None:
            index = _best_synthetic(v, symbol, maker_side)
            if index is None or _beyond(levels[index][0], maker.price, maker_side):
                break
            qty = min(maker.remaining, market.available(maker_side, index))
            trade_id = _next_trade_id(v, symbol)
            market.take(maker_side, index, qty)
            _pay_house(v, maker, maker.price, qty)
            _fill_maker(v, maker, maker.price, qty, trade_id)
            record_trade(v, symbol, trade_id, maker.price, qty, taker_side == "SELL")
    market.last = market.mid
