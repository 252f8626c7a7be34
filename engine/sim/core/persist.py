"""The core's complete state as JSON-ready data, and the Venue rebuilt from it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.sim.core.accounts import Account, ApiKey
from engine.sim.core.clock import Clock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.market import SymbolMarket, rng_state_from_json, rng_state_to_json
from engine.sim.core.orders import Order, OrderList, Trade
from engine.sim.core.symbols import SymbolSpec
from engine.sim.core.venue import Venue

STATE_VERSION = 1


def _ledger(ledger: dict[str, Decimal]) -> dict[str, str]:
    return {asset: str(amount) for asset, amount in sorted(ledger.items())}


def dump(v: Venue) -> dict[str, Any]:
    """Everything needed to continue exactly where this venue is (listeners excepted)."""
    trades = sorted(
        (t for batch in v.trades.values() for t in batch), key=lambda t: (t.time, t.trade_id)
    )
    return {
        "version": STATE_VERSION,
        "seed": v.seed,
        "config": v.config.to_dict(),
        "symbols": [spec.to_dict() for spec in v.specs.values()],
        "now": v.now,
        "last_step_ms": v.last_step_ms,
        "id_rng": rng_state_to_json(v.id_rng),
        "markets": {symbol: market.to_state() for symbol, market in v.markets.items()},
        "accounts": [account.to_state() for account in v.accounts.values()],
        "keys": [key.to_state() for key in v.keys.values()],
        "orders": [order.to_state() for order in v.orders.values()],
        "lists": [order_list.to_state() for order_list in v.lists.values()],
        "trades": [t.to_state() for t in trades],
        "next_order_id": dict(v.next_order_id),
        "next_trade_id": dict(v.next_trade_id),
        "next_prevented_id": dict(v.next_prevented_id),
        "counters": dict(v.counters),
        "fees": _ledger(v.fees),
        "house": _ledger(v.house),
        "funded": _ledger(v.funded),
    }


def load(state: dict[str, Any], clock: Clock, symbols: list[SymbolSpec] | None) -> Venue:
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unknown sim state version {state.get('version')!r}")
    config = ExchangeConfig.from_dict(state["config"])
    specs = symbols or [SymbolSpec.from_dict(s) for s in state["symbols"]]
    v = Venue(clock, state["seed"], specs, config)
    v.now = state["now"]
    v.last_step_ms = state["last_step_ms"]
    v.id_rng = rng_state_from_json(state["id_rng"])
    for spec in specs:
        saved = state["markets"].get(spec.symbol)
        if saved is not None:
            v.markets[spec.symbol] = SymbolMarket.from_state(spec, saved, config)
        else:
            v.markets[spec.symbol].start(config, v.now)
    for data in state["accounts"]:
        account = Account.from_state(data)
        v.accounts[account.account_id] = account
    for data in state["keys"]:
        key = ApiKey.from_state(data)
        v.keys[key.api_key] = key
    for data in state["orders"]:
        _index_order(v, Order.from_state(data))
    for data in state["lists"]:
        order_list = OrderList.from_state(data)
        v.lists[order_list.order_list_id] = order_list
        v.account_lists.setdefault(order_list.account_id, []).append(order_list)
    for row in state["trades"]:
        trade = Trade.from_state(row)
        v.trades.setdefault((trade.account_id, trade.symbol), []).append(trade)
    _rebuild_books(v)
    v.next_order_id.update(state["next_order_id"])
    v.next_trade_id.update(state["next_trade_id"])
    v.next_prevented_id.update(state["next_prevented_id"])
    v.counters.update(state["counters"])
    v.fees = {a: Decimal(x) for a, x in state["fees"].items()}
    v.house = {a: Decimal(x) for a, x in state["house"].items()}
    v.funded = {a: Decimal(x) for a, x in state["funded"].items()}
    return v


def _index_order(v: Venue, order: Order) -> None:
    v.orders[(order.symbol, order.order_id)] = order
    v.account_orders.setdefault((order.account_id, order.symbol), []).append(order)
    v.client_ids[(order.account_id, order.symbol, order.client_order_id)] = order
    if order.is_open:
        v.open_orders.setdefault((order.account_id, order.symbol), {})[order.order_id] = order


def _rebuild_books(v: Venue) -> None:
    """Resting orders back in time priority, waiting stops back in their index."""
    open_orders = sorted(
        (o for by_id in v.open_orders.values() for o in by_id.values()), key=lambda o: o.seq
    )
    for order in open_orders:
        books = v.books.get(order.symbol)
        if books is None:
            continue
        if order.resting:
            books.own_side(order.side).add(order)
        elif not order.triggered:
            books.stops.add(order)
