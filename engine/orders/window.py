"""A bounded memory of orders evicted from the book: their ids and trade ids, oldest forgotten.

Terminal orders leave memory (the journal keeps them), but a duplicate or late report for one
can still arrive, e.g. a stream replay after a reconnect. The window remembers the last
`capacity` evicted orders (client order id, exchange order id and every trade id) so such
reports are recognised and ignored; past the window the journal's unique (symbol, trade id)
key is the backstop.

Memory stays flat however long the engine runs: the ids live in a few generations of tables
that are only ever added to and then dropped whole once every order in them has left the
window. One big table with an entry deleted for each one added would instead be rebuilt over
and over (each rebuild allocating a new multi-megabyte table while the old one is still
alive), and the allocator's heap would keep the holes those rebuilds leave.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

GENERATIONS = 8  # the window's tables are split in this many; one more may be partly stale

TradeKey = tuple[str, int]


@dataclass(slots=True)
class _Generation:
    """The ids of consecutive evicted orders, each mapped to the order's eviction number."""

    client_ids: dict[str, int] = field(default_factory=dict)
    order_ids: dict[tuple[str, int], int] = field(default_factory=dict)
    trade_keys: dict[TradeKey, int] = field(default_factory=dict)
    orders: int = 0
    newest: int = 0


class EvictedWindow:
    """The last `capacity` evicted orders, with O(1) lookups (one per generation)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity cannot be negative")
        self.capacity = capacity
        self._per_generation = max(1, -(-capacity // GENERATIONS))  # ceiling division
        self._generations: deque[_Generation] = deque()
        self._added = 0  # evicted orders so far; the n-th one has eviction number n

    def add(
        self,
        client_order_id: str,
        symbol: str,
        order_id: int | None,
        trade_keys: Iterable[TradeKey],
    ) -> None:
        if self.capacity == 0:
            return
        self._added += 1
        number = self._added
        generations = self._generations
        if not generations or generations[-1].orders >= self._per_generation:
            generations.append(_Generation())
        current = generations[-1]
        current.client_ids[client_order_id] = number
        if order_id is not None:
            current.order_ids[(symbol, order_id)] = number
        current.trade_keys.update((key, number) for key in trade_keys)
        current.orders += 1
        current.newest = number
        oldest_kept = number - self.capacity + 1
        while generations[0].newest < oldest_kept:
            generations.popleft()  # every order in it has left the window

    def __len__(self) -> int:
        """How many evicted orders the window remembers (at most `capacity`)."""
        return min(self._added, self.capacity)

    def held(self) -> int:
        """How many evicted orders the tables hold: the window's, plus at most one generation
        of orders that already left it."""
        return sum(generation.orders for generation in self._generations)

    def _floor(self) -> int:
        """Eviction numbers above this are in the window (numbers start at 1, so 0 is never)."""
        return max(0, self._added - self.capacity)

    def has_client_id(self, client_order_id: str) -> bool:
        floor = self._floor()
        return any(g.client_ids.get(client_order_id, 0) > floor for g in self._generations)

    def has_order(self, symbol: str, order_id: int) -> bool:
        floor, key = self._floor(), (symbol, order_id)
        return any(g.order_ids.get(key, 0) > floor for g in self._generations)

    def has_trade(self, key: TradeKey) -> bool:
        floor = self._floor()
        return any(g.trade_keys.get(key, 0) > floor for g in self._generations)
