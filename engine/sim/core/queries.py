"""Read-only USER_DATA endpoints: orders, trades, account, order lists."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.sim.core import params as p
from engine.sim.core.errors import (
    MSG_BAD_COMBO,
    MSG_NO_SUCH_ORDER_LIST,
    SimError,
    invalid_param,
    no_such_order,
    one_of_required,
)
from engine.sim.core.lifecycle import find_order
from engine.sim.core.orders import Order, OrderList, list_shape, query_shape
from engine.sim.core.params import fmt
from engine.sim.core.venue import Venue

DAY_MS = 24 * 60 * 60 * 1000


def visible(v: Venue, order: Order) -> bool:
    """Queries do not see orders younger than the configured lag (database lag on Binance)."""
    lag = v.config.visibility_lag_ms
    return lag <= 0 or v.now - order.time >= lag


def get_order(v: Venue, account_id: int, symbol: str, params: p.Params) -> dict[str, Any]:
    order = find_order(v, account_id, symbol, params, for_cancel=False)
    if not visible(v, order):
        raise no_such_order()
    return query_shape(order)


def open_orders(v: Venue, account_id: int, symbol: str | None) -> list[dict[str, Any]]:
    found = [
        order
        for (owner, sym), by_id in v.open_orders.items()
        if owner == account_id and (symbol is None or sym == symbol)
        for order in by_id.values()
        if visible(v, order)
    ]
    found.sort(key=lambda o: (o.symbol, o.order_id))
    return [query_shape(o) for o in found]


def limit_of(params: p.Params) -> int:
    limit = p.integer(params, "limit")
    if limit is None:
        return 500
    if limit <= 0:
        raise invalid_param("limit")
    return min(limit, 1000)


def time_window(params: p.Params) -> tuple[int | None, int | None]:
    start = p.integer(params, "startTime")
    end = p.integer(params, "endTime")
    if start is not None and end is not None and end - start > DAY_MS:
        raise SimError(-1127, "More than 24 hours between startTime and endTime.")
    return start, end


def _window(
    items: list[Any],
    key_id: int | None,
    start: int | None,
    end: int | None,
    limit: int,
    id_of: Callable[[Any], int],
    time_of: Callable[[Any], int],
    keep: Callable[[Any], bool] = lambda _item: True,
) -> list[Any]:
    """Binance's paging: from an id or a start time oldest first, else the most recent.

    `items` are in id order (appended as ids are issued, sorted again at load), so a page
    starts by bisection and stops once it is full: paging through a long history costs each
    page its own length, not the history's."""

    def wanted(item: Any) -> bool:
        return (
            (start is None or time_of(item) >= start)
            and (end is None or time_of(item) <= end)
            and keep(item)
        )

    if key_id is not None or start is not None:
        first = 0 if key_id is None else bisect.bisect_left(items, key_id, key=id_of)
        return list(itertools.islice(filter(wanted, itertools.islice(items, first, None)), limit))
    newest = list(itertools.islice(filter(wanted, reversed(items)), limit))
    newest.reverse()
    return newest


def all_orders(v: Venue, account_id: int, symbol: str, params: p.Params) -> list[dict[str, Any]]:
    start, end = time_window(params)
    chosen = _window(
        v.account_orders.get((account_id, symbol), []),
        p.integer(params, "orderId"),
        start,
        end,
        limit_of(params),
        lambda o: o.order_id,
        lambda o: o.time,
        keep=lambda o: visible(v, o),
    )
    return [query_shape(o) for o in chosen]


_TRADE_COMBOS = [
    set(),
    {"orderId"},
    {"startTime"},
    {"endTime"},
    {"fromId"},
    {"startTime", "endTime"},
    {"orderId", "fromId"},
]


def my_trades(v: Venue, account_id: int, symbol: str, params: p.Params) -> list[dict[str, Any]]:
    sent = {k for k in ("orderId", "startTime", "endTime", "fromId") if p.present(params, k)}
    if sent not in _TRADE_COMBOS:
        raise SimError(-1128, MSG_BAD_COMBO)
    start, end = time_window(params)
    order_id = p.integer(params, "orderId")
    chosen = _window(
        v.trades.get((account_id, symbol), []),
        p.integer(params, "fromId"),
        start,
        end,
        limit_of(params),
        lambda t: t.trade_id,
        lambda t: t.time,
        keep=lambda t: order_id is None or t.order_id == order_id,
    )
    return [t.shape() for t in chosen]


def account(v: Venue, account_id: int, params: p.Params) -> dict[str, Any]:
    acct = v.accounts[account_id]
    omit_zero = p.boolean(params, "omitZeroBalances", False)
    assets = sorted(
        {s.base_asset for s in v.specs.values()}
        | {s.quote_asset for s in v.specs.values()}
        | set(acct.balances)
    )
    balances = []
    for asset in assets:
        bal = acct.balances.get(asset)
        free = bal.free if bal else Decimal(0)
        locked = bal.locked if bal else Decimal(0)
        if omit_zero and free == 0 and locked == 0:
            continue
        balances.append({"asset": asset, "free": fmt(free), "locked": fmt(locked)})
    rate = v.config.fee_rate
    bips = int(rate * 10_000)
    return {
        "makerCommission": bips,
        "takerCommission": bips,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(rate),
            "taker": fmt(rate),
            "buyer": fmt(Decimal(0)),
            "seller": fmt(Decimal(0)),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 100_000_000 + account_id,
    }


def find_list(
    v: Venue, account_id: int, params: p.Params, *, client_name: str, error: SimError
) -> OrderList:
    list_id = p.integer(params, "orderListId")
    client_id = p.text(params, client_name)
    if list_id is None and client_id is None:
        raise one_of_required(client_name, "orderListId")
    for order_list in reversed(v.account_lists.get(account_id, [])):
        if list_id is not None and order_list.order_list_id != list_id:
            continue
        if client_id is not None and order_list.list_client_order_id != client_id:
            continue
        return order_list
    raise error


def get_order_list(v: Venue, account_id: int, params: p.Params) -> dict[str, Any]:
    error = SimError(-2013, MSG_NO_SUCH_ORDER_LIST)
    order_list = find_list(v, account_id, params, client_name="origClientOrderId", error=error)
    return list_shape(order_list, v.order_legs(order_list))


def open_order_lists(v: Venue, account_id: int) -> list[dict[str, Any]]:
    return [
        list_shape(lst, v.order_legs(lst))
        for lst in v.account_lists.get(account_id, [])
        if lst.is_open
    ]
