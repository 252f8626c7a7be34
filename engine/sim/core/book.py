"""Indexes of open orders per symbol: resting limit orders by price, stops by trigger price."""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from engine.sim.core.orders import Order


class SideBook:
    """One side of the users' resting orders: price levels in price-time priority."""

    def __init__(self, side: str) -> None:
        self.side = side
        self.prices: list[Decimal] = []  # ascending
        self.levels: dict[Decimal, deque[Order]] = {}

    def add(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = deque()
            insort(self.prices, order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            return
        try:
            level.remove(order)
        except ValueError:
            return
        if not level:
            self._drop_level(order.price)

    def _drop_level(self, price: Decimal) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def best_price(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.side == "BUY" else self.prices[0]

    def best(self) -> Order | None:
        price = self.best_price()
        return None if price is None else self.levels[price][0]

    def level_qty(self, price: Decimal) -> Decimal:
        return sum((o.remaining for o in self.levels.get(price, ())), Decimal(0))

    def in_priority(self) -> Iterator[Order]:
        """Every order, best price first, oldest first within a price."""
        prices = reversed(self.prices) if self.side == "BUY" else iter(self.prices)
        for price in list(prices):
            yield from list(self.levels.get(price, ()))


class StopIndex:
    """Untriggered stop orders: heaps by stop price for fixed stops, a list for trailing ones.

    Removal is lazy: heap entries of orders that are no longer waiting are skipped when met.
    """

    def __init__(self) -> None:
        self.up: list[tuple[Decimal, int, Order]] = []  # triggers when price >= stop; min-heap
        self.down: list[tuple[Decimal, int, Order]] = []  # price <= stop; max-heap (negated)
        self.trailing: list[Order] = []

    def add(self, order: Order) -> None:
        if order.trailing_delta is not None:
            self.trailing.append(order)
        elif order.triggers_up:
            heapq.heappush(self.up, (order.stop_price, order.seq, order))
        else:
            heapq.heappush(self.down, (-order.stop_price, order.seq, order))

    def discard(self, order: Order) -> None:
        if order.trailing_delta is not None and order in self.trailing:
            self.trailing.remove(order)

    def due(self, price: Decimal) -> list[Order]:
        """Pop the fixed stops that `price` triggers (trailing ones are the caller's)."""
        hits: list[Order] = []
        while self.up and (not _waiting(self.up[0][2]) or self.up[0][0] <= price):
            order = heapq.heappop(self.up)[2]
            if _waiting(order):
                hits.append(order)
        while self.down and (not _waiting(self.down[0][2]) or -self.down[0][0] >= price):
            order = heapq.heappop(self.down)[2]
            if _waiting(order):
                hits.append(order)
        hits.sort(key=lambda o: o.seq)
        return hits


def _waiting(order: Order) -> bool:
    return order.is_open and not order.triggered
