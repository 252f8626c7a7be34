"""The commands that cancel: CancelOrder (idempotent: a final order is answered, nothing is
sent) and CancelAllOrders. A cancel that is refused or whose answer is lost (or unreadable) is
followed by a query, so the answer says what is true at the exchange; one cancel is in flight
per order at a time, and none is ever sent twice for one command. Cancel-all reports a symbol
done only once the exchange's answer, or its open orders read afterwards, confirm it (B7).
The engine sends no cancelRestrictions and no cancelReplace (B4 and B5 do not apply).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine.core import failpoints
from engine.core.order import Order
from engine.core.reports import OrderStatusReport
from engine.core.types import OrderState
from engine.core.wire import MalformedPayload
from engine.service.api import CommandResult, Outcome
from engine.service.args import UsageError, required_text, symbol_arg
from engine.service.orders import order_result
from engine.service.parts import Parts
from engine.service.settle import QueryOutcome, Settler
from engine.venue.errors import AuthError, NotSent, RateLimited, Rejected, Unknown, VenueError

log = logging.getLogger(__name__)

NOTHING_OPEN_CODE = -2011


class CancelCommands:
    """Runs the cancel commands against the started engine's parts."""

    def __init__(self, parts: Parts, settler: Settler) -> None:
        self._parts = parts
        self._settler = settler

    async def cancel(self, args: Mapping[str, Any]) -> CommandResult:
        """Cancel one order by client order id; a final order answers clearly, sends nothing."""
        try:
            cid = required_text(args, "client_order_id")
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        order = self._parts.book.get(cid)
        if order is None or order.is_terminal:
            state = await self._final_state(cid, order)
            if state is None:
                return CommandResult(Outcome.USAGE, f"no order {cid}")
            return CommandResult(
                Outcome.OK,
                f"{cid} is already {state}; nothing to cancel",
                {"client_order_id": cid, "state": state, "already_final": True},
            )
        if order.cancel_requested:
            message = f"a cancel of {cid} is already in flight"
            return order_result(self._parts, Outcome.OK, message, cid, {})
        return await self._cancel_one(order)

    async def _cancel_one(self, order: Order) -> CommandResult:
        parts = self._parts
        cid = order.client_order_id
        parts.pipeline.record(parts.book.request_cancel(cid))
        failpoints.hit("during_cancel")
        for attempt in (1, 2):
            try:
                report = await parts.link.call(parts.venue.cancel_order(order.symbol, cid))
            except NotSent as error:
                if attempt == 1:
                    continue
                parts.pipeline.record(parts.book.cancel_rejected(cid, f"not sent: {error}"))
                return order_result(
                    parts, Outcome.VENUE, f"cancel of {cid} not sent: {error}", cid, {}
                )
            except RateLimited as error:
                parts.pipeline.record(parts.book.cancel_rejected(cid, "rate limited"))
                return order_result(
                    self._parts,
                    Outcome.REFUSED,
                    f"cancel of {cid} not sent, rate limited: retry after "
                    f"{error.retry_after:.0f} s",
                    cid,
                    {"retry_after_s": round(error.retry_after, 3)},
                )
            except (Rejected, AuthError, Unknown) as error:
                return await self._after_failed_cancel(order, error)
            except MalformedPayload as error:  # served, but the reply is unreadable
                return await self._after_failed_cancel(order, Unknown(f"unreadable reply: {error}"))
            failpoints.hit("cancel_after_response_before_commit")
            parts.pipeline.apply(report)
            self._settler.settle_if_incomplete(cid)
            return order_result(parts, Outcome.OK, f"{cid} canceled", cid, {})
        raise AssertionError("unreachable")

    async def _after_failed_cancel(self, order: Order, error: VenueError) -> CommandResult:
        """The cancel was refused or its answer lost: ask for the order and say what is true."""
        parts = self._parts
        cid = order.client_order_id
        outcome = await self._settler.query(order)
        current = self._parts.find_order(cid)
        if current is not None and current.cancel_requested and current.is_open:
            parts.pipeline.record(parts.book.cancel_rejected(cid, error.message))
            current = self._parts.find_order(cid)
        if current is not None and current.is_terminal:
            verb = "canceled" if current.state.value == "CANCELED" else f"already {current.state}"
            return order_result(parts, Outcome.OK, f"{cid} {verb}", cid, {})
        if isinstance(error, Unknown) or outcome is not QueryOutcome.FOUND:
            return order_result(
                self._parts, Outcome.UNKNOWN, f"cancel of {cid}: outcome unknown ({error})", cid, {}
            )
        return order_result(parts, Outcome.VENUE, f"cancel of {cid} refused: {error}", cid, {})

    async def cancel_all(self, args: Mapping[str, Any]) -> CommandResult:
        """Cancel every open order of the account on one symbol, or on every symbol where the
        book knows open orders (external ones included: it is the operator's explicit act)."""
        parts = self._parts
        try:
            symbol = symbol_arg(args, required=False)
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        if symbol is not None and symbol not in parts.rules:
            return CommandResult(Outcome.USAGE, f"unknown symbol {symbol}")
        targets = sorted({symbol} if symbol else {o.symbol for o in parts.book.open_orders()})
        if not targets:
            return CommandResult(Outcome.OK, "no open orders", {"canceled": [], "failed": {}})
        canceled: list[str] = []
        failed: dict[str, str] = {}
        for target in targets:
            done, problem = await self.cancel_symbol(target)
            canceled += done
            if problem is not None:
                failed[target] = problem
        data = {"canceled": canceled, "failed": failed}
        if failed:
            outcome = Outcome.UNKNOWN if len(failed) < len(targets) or canceled else Outcome.VENUE
            return CommandResult(outcome, f"cancel-all incomplete: {failed}", data)
        return CommandResult(Outcome.OK, f"{len(canceled)} order(s) canceled", data)

    async def cancel_symbol(self, symbol: str) -> tuple[list[str], str | None]:
        """The exchange's cancel-all on one symbol (OCO lists and external orders included):
        the client order ids it canceled, and why it failed (None when it did not)."""
        parts = self._parts
        problem: str | None = None
        before = [order.client_order_id for order in parts.book.open_orders(symbol)]
        for cid in before:
            parts.pipeline.record(parts.book.request_cancel(cid))
        try:
            reports = await parts.link.call(parts.venue.cancel_all(symbol))
        except Rejected as error:
            reports = []
            if error.code != NOTHING_OPEN_CODE:  # nothing was open
                problem = str(error)
        except VenueError as error:
            reports = []
            problem = str(error)
        for report in reports:
            parts.pipeline.apply(report)
        canceled = [report.order_client_id for report in reports]
        if problem is not None or not reports:
            try:
                still_open = await self.open_at_venue(symbol)
            except VenueError as error:
                log.warning("open orders of %s not read: %s", symbol, error)
            else:
                if problem is not None and not still_open:
                    # The answer was lost, but the exchange shows nothing open: confirmed.
                    log.info("cancel-all on %s confirmed by its open orders (%s)", symbol, problem)
                    problem = None
                # Orders the book held open that the queries found canceled (by this request or
                # an earlier one whose answer was lost).
                canceled += [
                    cid
                    for cid in before
                    if cid not in canceled and self._state(cid) is OrderState.CANCELED
                ]
        for order in parts.book.open_orders(symbol):
            if order.cancel_requested:
                reason = problem or "still open after cancel-all"
                parts.pipeline.record(parts.book.cancel_rejected(order.client_order_id, reason))
        return canceled, problem

    def _state(self, cid: str) -> OrderState | None:
        order = self._parts.find_order(cid)
        return None if order is None else order.state

    async def open_at_venue(self, symbol: str) -> list[OrderStatusReport]:
        """The venue's open orders of a symbol, folded into the book, and the book's other open
        orders there settled by query; raises VenueError when the venue does not answer."""
        parts = self._parts
        reports = await parts.link.call(parts.venue.open_orders(symbol))
        listed = {report.order_client_id for report in reports}
        for report in reports:
            parts.pipeline.apply(report)
        for order in parts.book.open_orders(symbol):
            if order.client_order_id not in listed:
                await self._settler.query(order)
        return reports

    async def _final_state(self, cid: str, order: Order | None) -> str | None:
        if order is not None:
            return order.state.value
        found = self._parts.find_order(cid)
        if found is not None:
            return found.state.value
        row = await self._parts.journal.order(cid)
        return None if row is None else row.state
