"""The core's state as JSON-ready data, whole or as the changes since the last save, and back.

A state (`dump`) holds the small part (config, symbols, clock marks, id counters, RNG states,
markets, accounts, keys, ledgers) and the history: "orders", "lists" and "trades". A delta
(`Tracker.delta`) has the same keys and the same row formats, with the whole small part but only
the history rows created or changed since the previous delta, plus "full": whether it is the
whole state (then a store replaces what it holds instead of adding to it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Reversible
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from engine.sim.core.accounts import Account, ApiKey
from engine.sim.core.clock import Clock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.market import SymbolMarket, rng_state_from_json, rng_state_to_json
from engine.sim.core.orders import Order, OrderList, Trade
from engine.sim.core.symbols import SymbolSpec
from engine.sim.core.venue import Venue

STATE_VERSION = 1
HISTORY_KEYS = ("orders", "lists", "trades")

_T = TypeVar("_T")


def _ledger(ledger: dict[str, Decimal]) -> dict[str, str]:
    return {asset: str(amount) for asset, amount in sorted(ledger.items())}


def dump(v: Venue) -> dict[str, Any]:
    """Everything needed to continue exactly where this venue is (listeners excepted)."""
    trades = sorted(
        (t for batch in v.trades.values() for t in batch), key=lambda t: (t.time, t.trade_id)
    )
    return small_state(v) | {
        "orders": [order.to_state() for order in v.orders.values()],
        "lists": [order_list.to_state() for order_list in v.lists.values()],
        "trades": [t.to_state() for t in trades],
    }


def small_state(v: Venue) -> dict[str, Any]:
    """The state without the history: its size does not grow with the orders placed."""
    return {
        "version": STATE_VERSION,
        "seed": v.seed,
        "config": v.config.to_dict(),
        "symbols": [spec.to_dict() for spec in v.specs.values()],
        "now": v.now,
        "last_step_ms": v.last_step_ms,
        "id_rng": rng_state_to_json(v.id_rng),
        "markets": {symbol: market.to_state() for symbol, market in v.markets.items()},
        "symbol_status": dict(sorted(v.symbol_status.items())),  # the maintenances under way
        "accounts": [account.to_state() for account in v.accounts.values()],
        "keys": [key.to_state() for key in v.keys.values()],
        "next_order_id": dict(v.next_order_id),
        "next_trade_id": dict(v.next_trade_id),
        "next_prevented_id": dict(v.next_prevented_id),
        "counters": dict(v.counters),
        "fees": _ledger(v.fees),
        "house": _ledger(v.house),
        "funded": _ledger(v.funded),
    }


# -- row keys: what identifies a history row in a store -------------------------------------


def order_key(row: dict[str, Any]) -> tuple[str, int]:
    return row["symbol"], row["order_id"]


def list_key(row: dict[str, Any]) -> int:
    key: int = row["order_list_id"]
    return key


def trade_key(row: list[Any]) -> tuple[str, int, bool]:
    """(symbol, trade id, is buyer): both sides of one fill share the symbol and trade id."""
    return row[0], row[1], row[11]


def trade_time(row: list[Any]) -> int:
    time: int = row[10]
    return time


class Tracker:
    """What the last delta covered of one venue, so that the next lists only what changed.

    Orders, lists and trades are append-only in the venue, so the new ones are the tails past
    the counts covered. Existing orders and lists change only in operations that report the
    order to its owner (`Venue.report` marks them), except a trailing stop's extreme, which
    moves silently with the market: those few orders are compared with their last values.
    One tracker has one consumer: each delta is relative to the previous one.
    """

    def __init__(self) -> None:
        self.full = True  # nothing covered yet: the next delta is the whole state
        self.orders = 0
        self.lists = 0
        self.trades: dict[tuple[int, str], int] = {}
        self.trailing: dict[tuple[str, int], tuple[Decimal | None, int]] = {}

    def mark_saved(self, v: Venue) -> None:
        """The venue as it is now is saved: the next delta starts from here."""
        self.full = False
        self.orders = len(v.orders)
        self.lists = len(v.lists)
        self.trades = {key: len(batch) for key, batch in v.trades.items()}
        self._trailing_changes(v)
        v.tracking = True
        v.changed_orders = {}
        v.changed_lists = set()

    def delta(self, v: Venue) -> dict[str, Any]:
        """The small state and the history rows created or changed since the last delta;
        costs time in proportion to the changes, not to the history."""
        if self.full:
            state = dump(v)
            self.mark_saved(v)
            return state | {"full": True}
        new_orders = _tail(v.orders.values(), len(v.orders) - self.orders)
        new_ids = {(o.symbol, o.order_id) for o in new_orders}
        changed = {
            **v.changed_orders,
            **{(o.symbol, o.order_id): o for o in self._trailing_changes(v)},
        }
        # Existing rows first, then the new ones in creation order: a store keeps that order.
        orders = [o for key, o in changed.items() if key not in new_ids] + new_orders
        new_lists = _tail(v.lists.values(), len(v.lists) - self.lists)
        new_list_ids = {lst.order_list_id for lst in new_lists}
        lists = [v.lists[i] for i in sorted(v.changed_lists - new_list_ids)] + new_lists
        trades: list[Trade] = []
        for key, batch in v.trades.items():
            seen = self.trades.get(key, 0)
            if len(batch) > seen:
                trades.extend(batch[seen:])
                self.trades[key] = len(batch)
        self.orders = len(v.orders)
        self.lists = len(v.lists)
        v.changed_orders = {}
        v.changed_lists = set()
        return small_state(v) | {
            "orders": [o.to_state() for o in orders],
            "lists": [lst.to_state() for lst in lists],
            "trades": [t.to_state() for t in trades],
            "full": False,
        }

    def has_changes(self, v: Venue) -> bool:
        """Whether an order, list or trade was created or reported since the last delta."""
        return (
            self.full
            or bool(v.changed_orders)
            or len(v.orders) > self.orders
            or len(v.lists) > self.lists
        )

    def _trailing_changes(self, v: Venue) -> list[Order]:
        """Waiting trailing stops whose extreme moved since the last look."""
        marks: dict[tuple[str, int], tuple[Decimal | None, int]] = {}
        moved: list[Order] = []
        for books in v.books.values():
            for order in books.stops.trailing:
                key = (order.symbol, order.order_id)
                marks[key] = (order.trail_extreme, order.trailing_time)
                if self.trailing.get(key) != marks[key]:
                    moved.append(order)
        self.trailing = marks
        return moved


def _tail(values: Reversible[_T], count: int) -> list[_T]:
    """The last `count` of an insertion-ordered dict's values, oldest first."""
    if count <= 0:
        return []
    newest_first = list(islice(reversed(values), count))
    newest_first.reverse()
    return newest_first


def merge_deltas(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """One delta with the effect of writing `older` then `newer` (a write that failed is
    retried with the next delta): the newer small state and rows, first positions kept."""
    if newer["full"]:
        return newer
    return newer | {
        "full": older["full"],
        "orders": _union(older["orders"], newer["orders"], order_key),
        "lists": _union(older["lists"], newer["lists"], list_key),
        "trades": _union(older["trades"], newer["trades"], trade_key),
    }


def _union(older: list[_T], newer: list[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    rows: dict[Hashable, _T] = {}
    for row in (*older, *newer):
        rows[key(row)] = row  # an existing key keeps its position and takes the newer row
    return list(rows.values())


def load(state: dict[str, Any], clock: Clock, symbols: list[SymbolSpec] | None) -> Venue:
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unknown sim state version {state.get('version')!r}")
    config = ExchangeConfig.from_dict(state["config"])
    specs = symbols or [SymbolSpec.from_dict(s) for s in state["symbols"]]
    v = Venue(clock, state["seed"], specs, config)
    v.now = state["now"]
    v.last_step_ms = state["last_step_ms"]
    v.id_rng = rng_state_from_json(state["id_rng"])
    # States saved before maintenances were kept have none: every symbol was TRADING.
    known = {spec.symbol for spec in specs}
    v.symbol_status = {s: st for s, st in state.get("symbol_status", {}).items() if s in known}
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
    # The queries page by bisection over id order; the store returns history by time.
    for orders in v.account_orders.values():
        orders.sort(key=lambda order: order.order_id)
    for trades in v.trades.values():
        trades.sort(key=lambda trade: trade.trade_id)
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
