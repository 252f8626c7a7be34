"""The running engine's parts, built at start and shared by its command, settle and reconcile
logic (each of which lives in its own module)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.core.ids import ClientOrderIdGenerator
from engine.core.order import Order
from engine.core.rules import SymbolRules
from engine.journal import Journal
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.service.absence import WatchEntry
from engine.service.gate import TradingGate
from engine.service.health import VenueLink
from engine.service.options import EngineOptions
from engine.service.pipeline import Pipeline
from engine.service.port import VenuePort
from engine.service.tasks import TaskKeeper
from engine.venue.marketdata import MarkStore
from engine.venue.timing import Clock


@dataclass
class Parts:
    """Everything a started engine holds; `in_flight` names orders with a create or cancel
    request awaiting its answer, `watch` orders whose create went unanswered, until settled
    (see `absence.py`)."""

    options: EngineOptions
    clock: Clock
    journal: Journal
    venue: VenuePort
    link: VenueLink
    book: OrderBook
    ledger: Ledger
    rules: dict[str, SymbolRules]
    symbols: tuple[str, ...]
    ids: ClientOrderIdGenerator
    marks: MarkStore
    pipeline: Pipeline
    gate: TradingGate
    tasks: TaskKeeper
    halt: Callable[[str], None]
    in_flight: set[str] = field(default_factory=set)
    watch: dict[str, WatchEntry] = field(default_factory=dict)

    def find_order(self, client_order_id: str) -> Order | None:
        """The order from the book, or from the recently settled ones."""
        order = self.book.get(client_order_id)
        if order is not None:
            return order
        for recent in reversed(self.pipeline.recent):
            if recent.client_order_id == client_order_id:
                return recent
        return None

    def mark_price(self, symbol: str) -> Decimal | None:
        """A fresh mark of `symbol` (mid, else last trade), or None."""
        mark = self.marks.fresh(symbol, self.options.mark_max_age_s)
        return None if mark is None else mark.price
