"""Housekeeping: stale resting orders cancelled (when the operator enables it), memory kept flat.

With `cancel_stale_after_s` set, the desk's own plain resting orders (LIMIT, LIMIT_MAKER) open
longer than that are cancelled through the ordinary cancel command, so each cancel is journaled
and reaches the desk like any other, with an alarm that says why. Never touched: external
orders (R: orders placed outside the desk are never touched automatically), stop and
take-profit orders, protection orders, orders with a create or cancel in flight. Off by default:
cancelling is the operator's decision to delegate.

Memory does not grow with history: settled orders leave the book as they settle (the pipeline
evicts them; the journal keeps them), the snapshot's `recent` list holds at most
`EngineOptions.recent_orders` of them, and the book's window of evicted ids (for late duplicate
reports) is bounded. `memory_json` reports those sizes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.core.order import Order
from engine.core.types import OrderType, Origin
from engine.service.api import CommandResult, Outcome
from engine.service.events import EngineAlarm
from engine.service.settings import HousekeepingSettings

if TYPE_CHECKING:  # engine.config imports the settings below; Parts would import it back
    from engine.service.parts import Parts

log = logging.getLogger(__name__)

_RESTING_TYPES = frozenset({OrderType.LIMIT, OrderType.LIMIT_MAKER})


Cancel = Callable[[Mapping[str, Any]], Awaitable[CommandResult]]


class Housekeeper:
    """Finds and cancels stale orders; `protected()` names the protection orders to leave."""

    def __init__(
        self,
        parts: Parts,
        settings: HousekeepingSettings,
        *,
        cancel: Cancel,
        protected: Callable[[], set[str]] = set,
    ) -> None:
        self._parts = parts
        self.settings = settings
        self._cancel = cancel
        self._protected = protected
        self.stale_canceled = 0

    def stale_orders(self) -> list[Order]:
        """The orders a sweep would cancel now, oldest first."""
        limit = self.settings.cancel_stale_after_s
        if limit is None:
            return []
        parts = self._parts
        now = parts.clock.now()
        protected = self._protected()
        found = [
            order
            for order in parts.book.open_orders()
            if order.origin is not Origin.EXTERNAL
            and order.type in _RESTING_TYPES
            and order.created_at is not None
            and (now - order.created_at).total_seconds() > limit
            and not order.cancel_requested
            and order.client_order_id not in parts.in_flight
            and order.client_order_id not in protected
        ]
        return sorted(found, key=lambda order: order.created_at or now)

    async def sweep(self) -> list[str]:
        """Cancel every stale order; returns the client order ids whose cancel succeeded."""
        parts = self._parts
        limit = self.settings.cancel_stale_after_s
        canceled: list[str] = []
        for order in self.stale_orders():
            cid = order.client_order_id
            created = order.created_at
            age = 0.0 if created is None else (parts.clock.now() - created).total_seconds()
            result = await self._cancel({"client_order_id": cid})
            if result.outcome is Outcome.OK:
                canceled.append(cid)
                self.stale_canceled += 1
                message = f"{cid} ({order.symbol}) canceled: open {age:.0f} s, over {limit:g} s"
            else:
                message = f"{cid} ({order.symbol}) is stale but its cancel failed: {result.message}"
            log.info("housekeeping: %s", message)
            parts.pipeline.emit(EngineAlarm("stale_order", message))
        return canceled

    def memory_json(self) -> dict[str, Any]:
        """What the engine holds in memory about orders (bounded whatever the history)."""
        parts = self._parts
        return {
            "book_orders": len(parts.book),
            "recent_orders": len(parts.pipeline.recent),
            "recent_limit": parts.pipeline.recent.maxlen,
            "cancel_stale_after_s": self.settings.cancel_stale_after_s,
            "stale_canceled": self.stale_canceled,
        }
