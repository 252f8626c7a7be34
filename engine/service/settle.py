"""Settling orders whose outcome is unknown: query by client order id, never resend (R2, R3).

A create that went unanswered (timeout, 5xx, -1006/-1007, a crash after the intent commit)
leaves its order UNKNOWN. The settler asks the venue for it by `origClientOrderId` a few times
with growing waits, stopping as soon as the user stream or a query settles it. Found: its state
is adopted and its fills are pulled by order id. Not found (-2013) every time: the order stays
UNKNOWN on the watch list, and every later reconciliation asks again. This is deliberately not
a proof that the order is absent: -2013 also answers orders the venue accepted moments ago, so
declaring absence needs the fuller policy of RELIABILITY.md section 0 (time past recvWindow,
repeated answers, order and trade lists, balances), which comes with the fault-handling work.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum

from engine.core.order import Order
from engine.core.types import OrderState
from engine.service.events import EngineAlarm
from engine.service.parts import Parts
from engine.venue.errors import Rejected, VenueError

log = logging.getLogger(__name__)

NOT_FOUND_CODE = -2013


class QueryOutcome(Enum):
    FOUND = "found"
    NOT_FOUND = "not found"
    FAILED = "failed"


class Settler:
    """Queries orders in doubt and folds the answers in."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self._settling: set[str] = set()

    def schedule(self, client_order_id: str) -> None:
        """Start settling an order unless that is already under way."""
        if client_order_id in self._settling:
            return
        self._settling.add(client_order_id)
        self._parts.tasks.spawn(self._settle(client_order_id), f"settle-{client_order_id}")

    def settle_if_incomplete(self, client_order_id: str) -> None:
        """A final order whose executed quantity is not all booked: fetch its fills."""
        order = self._parts.book.get(client_order_id)
        if order is not None and order.is_terminal and order.missing_fill_qty > 0:
            self.schedule(client_order_id)

    async def _settle(self, client_order_id: str) -> None:
        try:
            for delay in self._parts.options.settle_delays_s:
                if delay > 0:
                    await asyncio.sleep(delay)  # backoff between venue queries
                order = self._parts.book.get(client_order_id)
                if order is None or not _in_doubt(order):
                    return
                outcome = await self.query(order)
                if outcome is QueryOutcome.FOUND:
                    return
            order = self._parts.book.get(client_order_id)
            if order is not None and order.state is OrderState.UNKNOWN:
                self.watch(order)
        finally:
            self._settling.discard(client_order_id)

    def watch(self, order: Order) -> None:
        """Keep an order the venue says it does not have on the watch list, and say so."""
        parts = self._parts
        if order.client_order_id in parts.watch:
            return
        parts.watch[order.client_order_id] = parts.clock.now()
        parts.pipeline.emit(
            EngineAlarm(
                "order_not_found",
                f"{order.client_order_id} ({order.symbol}): the create got no answer and the "
                "exchange does not show the order; it stays UNKNOWN and is queried again at "
                "every reconciliation",
            )
        )

    async def query(self, order: Order) -> QueryOutcome:
        """Ask the venue for one order by client order id and fold the answer in."""
        parts = self._parts
        try:
            report = await parts.link.call(
                parts.venue.get_order(order.symbol, order.client_order_id)
            )
        except Rejected as error:
            if error.code == NOT_FOUND_CODE:
                return QueryOutcome.NOT_FOUND
            log.warning("query of %s refused: %s", order.client_order_id, error)
            return QueryOutcome.FAILED
        except VenueError as error:
            log.warning("query of %s failed: %s", order.client_order_id, error)
            return QueryOutcome.FAILED
        parts.pipeline.apply(report)
        parts.watch.pop(order.client_order_id, None)
        try:
            await self.pull_fills(order.client_order_id)
        except VenueError as error:  # the next reconciliation fetches them
            log.warning("fills of %s not fetched: %s", order.client_order_id, error)
        return QueryOutcome.FOUND

    async def pull_fills(self, client_order_id: str) -> None:
        """Fetch an order's trades by order id when the venue executed more than is booked."""
        parts = self._parts
        order = parts.book.get(client_order_id)
        if order is None or order.order_id is None or order.missing_fill_qty <= 0:
            return
        trades = await parts.link.call(parts.venue.my_trades(order.symbol, order_id=order.order_id))
        parts.pipeline.apply(fills=trades)


def _in_doubt(order: Order) -> bool:
    """Unknown outcome, or executed quantity whose fills are not booked yet."""
    return order.state is OrderState.UNKNOWN or order.missing_fill_qty > 0
