"""The core's state in one place: markets, books, accounts, orders, ids, listeners, outbox."""

from __future__ import annotations

import logging
import random
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from engine.sim.core import events
from engine.sim.core.accounts import Account, ApiKey
from engine.sim.core.book import SideBook, StopIndex
from engine.sim.core.clock import Clock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.events import ExecDetail, TopOfBook
from engine.sim.core.market import SymbolMarket
from engine.sim.core.orders import Order, OrderList, Trade
from engine.sim.core.params import ZERO
from engine.sim.core.symbols import SymbolSpec
from engine.sim.core.validation import OpenCounts

log = logging.getLogger(__name__)

UserListener = Callable[[dict[str, Any]], None]
MarketListener = Callable[[str, dict[str, Any]], None]
_ID_ALPHABET = string.ascii_letters + string.digits


class SymbolBooks:
    """The users' resting orders and waiting stops of one symbol."""

    def __init__(self) -> None:
        self.bids = SideBook("BUY")
        self.asks = SideBook("SELL")
        self.stops = StopIndex()

    def own_side(self, side: str) -> SideBook:
        return self.bids if side == "BUY" else self.asks

    def opposite(self, side: str) -> SideBook:
        return self.asks if side == "BUY" else self.bids


class Venue:
    """Everything the exchange knows, and the primitives every operation is built from.

    An operation (one facade call) runs inside `op()`: it fixes `now`, collects user and market
    events, and delivers them when it ends, each account's executionReports and listStatus
    first and then one outboundAccountPosition listing only the assets that changed.
    """

    def __init__(
        self, clock: Clock, seed: int, specs: list[SymbolSpec], config: ExchangeConfig
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.config = config
        self.now = clock.now_ms()
        self.specs = {spec.symbol: spec for spec in specs}
        self.markets = {
            spec.symbol: SymbolMarket(spec, random.Random(f"{seed}:{spec.symbol}"), self.now)
            for spec in specs
        }
        self.books = {spec.symbol: SymbolBooks() for spec in specs}
        self.id_rng = random.Random(f"{seed}:ids")
        self.last_step_ms = self.now
        self.accounts: dict[int, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        self.orders: dict[tuple[str, int], Order] = {}
        self.account_orders: dict[tuple[int, str], list[Order]] = {}
        self.open_orders: dict[tuple[int, str], dict[int, Order]] = {}
        self.client_ids: dict[tuple[int, str, str], Order] = {}
        self.lists: dict[int, OrderList] = {}
        self.account_lists: dict[int, list[OrderList]] = {}
        self.trades: dict[tuple[int, str], list[Trade]] = {}
        # Symbols not TRADING (a maintenance: BREAK, HALT, ...); absent means TRADING.
        self.symbol_status: dict[str, str] = {}
        self.next_order_id = {symbol: 1 for symbol in self.specs}
        self.next_trade_id = {symbol: 1 for symbol in self.specs}
        self.next_prevented_id = {symbol: 0 for symbol in self.specs}
        self.counters = {"execution": 1, "order_list": 1, "seq": 1, "account": 1}
        self.fees: dict[str, Decimal] = {}
        self.house: dict[str, Decimal] = {}
        self.funded: dict[str, Decimal] = {}
        self.user_listeners: dict[int, dict[int, UserListener]] = {}
        self.market_listeners: dict[int, MarketListener] = {}
        self.next_token = 1
        self._depth = 0
        self._user_out: dict[int, list[dict[str, Any]]] = {}
        self._market_out: list[tuple[str, dict[str, Any]]] = []
        self._touched: set[str] = set()
        # Orders and OCO lists reported since the last state delta (persist.Tracker): every
        # change of an existing order is reported to its owner in the same operation, so these
        # are the existing records that changed (trailing stops' extremes excepted, see there).
        # Off until a tracker takes its first delta: without a store nothing would empty them.
        self.tracking = False
        self.changed_orders: dict[tuple[str, int], Order] = {}
        self.changed_lists: set[int] = set()

    # -- operations and event delivery ---------------------------------------------------

    @contextmanager
    def op(self) -> Iterator[None]:
        """One facade call: a fixed `now`; events delivered when the outermost op ends."""
        if self._depth == 0:
            self.now = max(self.now, self.clock.now_ms())
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._flush()

    def wants_user_events(self, account_id: int) -> bool:
        return bool(self.user_listeners.get(account_id))

    def user_event(self, account_id: int, event: dict[str, Any]) -> None:
        self._user_out.setdefault(account_id, []).append(event)

    def report(self, order: Order, detail: ExecDetail) -> None:
        if self.tracking:
            self.changed_orders[(order.symbol, order.order_id)] = order
            if order.order_list_id != -1:
                self.changed_lists.add(order.order_list_id)
        if self.wants_user_events(order.account_id):
            self.user_event(order.account_id, events.execution_report(order, detail, self.now))

    def detail(self, exec_type: str, **kwargs: Any) -> ExecDetail:
        """An ExecDetail with the next execution id (one per report, account-wide increasing)."""
        execution_id = self.counters["execution"]
        self.counters["execution"] += 1
        return ExecDetail(exec_type, execution_id, self.now, **kwargs)

    def touch(self, symbol: str) -> None:
        self._touched.add(symbol)

    def market_event(self, stream: str, payload_fn: Callable[[], dict[str, Any]]) -> None:
        if self.market_listeners:
            self._market_out.append((stream, payload_fn()))

    def _flush(self) -> None:
        for account in self.accounts.values():
            if account.dirty:
                if self.wants_user_events(account.account_id):
                    position = events.account_position(account, account.dirty, self.now)
                    self.user_event(account.account_id, position)
                account.dirty = set()
        user_out, self._user_out = self._user_out, {}
        for account_id, batch in user_out.items():
            for listener in list(self.user_listeners.get(account_id, {}).values()):
                for event in batch:
                    _deliver(listener, event)
        if self.market_listeners:
            for symbol in sorted(self._touched):
                self._market_snapshot(symbol)
        self._touched = set()
        market_out, self._market_out = self._market_out, []
        for market_listener in list(self.market_listeners.values()):
            for stream, payload in market_out:
                _deliver(market_listener, stream, payload)

    def _market_snapshot(self, symbol: str) -> None:
        market = self.markets[symbol]
        top = self.top_of_book(symbol)
        name = symbol.lower()
        self._market_out.append((f"{name}@bookTicker", events.book_ticker(market, top)))
        self._market_out.append((f"{name}@miniTicker", events.mini_ticker(market, self.now)))
        self._market_out.append((f"{name}@ticker", events.ticker(market, top, self.now)))

    # -- ids -------------------------------------------------------------------------------

    def generate_client_id(self) -> str:
        """22 alphanumerics from the seeded id generator, like Binance's own."""
        return "".join(self.id_rng.choices(_ID_ALPHABET, k=22))

    def take_counter(self, name: str) -> int:
        value = self.counters[name]
        self.counters[name] += 1
        return value

    # -- reads -----------------------------------------------------------------------------

    def top_of_book(self, symbol: str) -> TopOfBook:
        """Best bid and ask over the synthetic book and the users' resting orders."""
        market = self.markets[symbol]
        books = self.books[symbol]
        bid, bid_qty = _merge_best(market.best("SELL"), books.bids, higher_is_better=True)
        ask, ask_qty = _merge_best(market.best("BUY"), books.asks, higher_is_better=False)
        return TopOfBook(bid, bid_qty, ask, ask_qty)

    def counts(self, account_id: int, symbol: str) -> OpenCounts:
        open_orders = self.open_orders.get((account_id, symbol), {})
        # A list is open while one of its legs is: counting the open legs' list ids keeps this
        # proportional to the open orders, not to every list the account ever had.
        lists = len({o.order_list_id for o in open_orders.values() if o.order_list_id != -1})
        algo = sum(1 for o in open_orders.values() if o.is_stop)
        return OpenCounts(len(open_orders), algo, lists)

    def order_legs(self, order_list: OrderList) -> list[Order]:
        return [self.orders[(order_list.symbol, oid)] for oid in order_list.order_ids]

    # -- bookkeeping of the other side of synthetic trades and of fees ---------------------

    def add_to(self, ledger: dict[str, Decimal], asset: str, amount: Decimal) -> None:
        ledger[asset] = ledger.get(asset, ZERO) + amount


def _merge_best(
    synthetic: tuple[Decimal, Decimal] | None, book: SideBook, *, higher_is_better: bool
) -> tuple[Decimal, Decimal]:
    user_price = book.best_price()
    if synthetic is None and user_price is None:
        return ZERO, ZERO
    if user_price is None:
        assert synthetic is not None
        return synthetic
    user = (user_price, book.level_qty(user_price))
    if synthetic is None:
        return user
    if synthetic[0] == user_price:
        return user_price, synthetic[1] + user[1]
    better = synthetic[0] > user_price if higher_is_better else synthetic[0] < user_price
    return synthetic if better else user


def _deliver(listener: Callable[..., None], *args: Any) -> None:
    try:
        listener(*args)
    except Exception:  # a listener's failure must not corrupt the exchange
        log.exception("sim event listener failed")
