"""A bounded memory of orders evicted from the book: their ids and trade ids, oldest forgotten.

Terminal orders leave memory (the journal keeps them), but a duplicate or late report for one
can still arrive, e.g. a stream replay after a reconnect. The window remembers the last
`capacity` evicted orders (client order id, exchange order id and every trade id) so such
reports are recognised and ignored; past the window the journal's unique (symbol, trade id)
key is the backstop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EvictedOrder:
    client_order_id: str
    symbol: str
    order_id: int | None
    trade_keys: tuple[tuple[str, int], ...]


class EvictedWindow:
    """The last `capacity` evicted orders, with O(1) lookups."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity cannot be negative")
        self.capacity = capacity
        self._entries: deque[EvictedOrder] = deque()
        self._client_ids: set[str] = set()
        self._order_ids: set[tuple[str, int]] = set()
        self._trade_keys: set[tuple[str, int]] = set()

    def add(
        self,
        client_order_id: str,
        symbol: str,
        order_id: int | None,
        trade_keys: Iterable[tuple[str, int]],
    ) -> None:
        if self.capacity == 0:
            return
        entry = EvictedOrder(client_order_id, symbol, order_id, tuple(trade_keys))
        self._entries.append(entry)
        self._client_ids.add(entry.client_order_id)
        if entry.order_id is not None:
            self._order_ids.add((entry.symbol, entry.order_id))
        self._trade_keys.update(entry.trade_keys)
        while len(self._entries) > self.capacity:
            self._forget(self._entries.popleft())

    def _forget(self, entry: EvictedOrder) -> None:
        self._client_ids.discard(entry.client_order_id)
        if entry.order_id is not None:
            self._order_ids.discard((entry.symbol, entry.order_id))
        self._trade_keys.difference_update(entry.trade_keys)

    def has_client_id(self, client_order_id: str) -> bool:
        return client_order_id in self._client_ids

    def has_order(self, symbol: str, order_id: int) -> bool:
        return (symbol, order_id) in self._order_ids

    def has_trade(self, key: tuple[str, int]) -> bool:
        return key in self._trade_keys
