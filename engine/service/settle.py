"""Settling orders whose outcome is unknown: query by client order id, never resend (R2, R3).

A create that went unanswered (timeout, 5xx, -1006/-1007, a reset or an unreadable reply after
sending, a crash after the intent commit) leaves its order UNKNOWN and puts it on the watch list
with the exchange time its request carried (see `absence.py`). The settler asks the venue for it
by `origClientOrderId` a few times with growing waits, stopping as soon as the user stream or a
query settles it. Found: its state is adopted and its fills are pulled by order id. Not found:
once the proof-of-absence policy holds, the order is PRESUMED_ABSENT (an alarm); it stays
UNKNOWN and watched for 24 h, queried at every reconciliation, and a late arrival is adopted with
an alarm. When the watch ends, the order is closed as REJECTED. Nothing is ever resent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from enum import Enum

from engine.core.order import Order
from engine.core.types import OrderState
from engine.service.absence import (
    WATCH_KEY,
    WatchEntry,
    balance_changes,
    held,
    listed,
    watch_from_state,
)
from engine.service.events import EngineAlarm, WatchListChanged
from engine.service.parts import Parts
from engine.service.port import clock_offset_ms
from engine.venue.errors import Rejected, VenueError

log = logging.getLogger(__name__)

NOT_FOUND_CODE = -2013


class QueryOutcome(Enum):
    FOUND = "found"
    NOT_FOUND = "not found"
    FAILED = "failed"


class Settler:
    """Queries orders in doubt, folds the answers in and keeps the watch list."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self._settling: set[str] = set()

    # -- the watch list ------------------------------------------------------------------------

    async def restore(self) -> None:
        """Reload the journaled watch list at start and resume proving what is not proven yet."""
        parts = self._parts
        loaded = await parts.journal.load(recent_terminal_orders=0, fill_symbols=())
        for cid, entry in watch_from_state(loaded.state.get(WATCH_KEY)).items():
            order = parts.book.get(cid)
            if order is None or order.state is not OrderState.UNKNOWN:
                continue  # settled after the last write of the list
            parts.watch[cid] = entry
        self._persist()
        for cid, entry in list(parts.watch.items()):
            if not entry.presumed_absent:
                self._spawn(cid)

    def server_now_ms(self) -> int:
        """The exchange's clock as estimated here: our wall clock plus the synced offset."""
        now_ms = int(self._parts.clock.now().timestamp() * 1000)
        return now_ms + (clock_offset_ms(self._parts.venue) or 0)

    def _persist(self) -> None:
        entries = [entry.to_json() for _, entry in sorted(self._parts.watch.items())]
        future = self._parts.journal.set_state(WATCH_KEY, entries)
        future.add_done_callback(_log_write_failure)

    def _put(self, entry: WatchEntry) -> None:
        self._parts.watch[entry.client_order_id] = entry
        self._persist()
        status = "presumed_absent" if entry.presumed_absent else "watching"
        self._announce(entry, status, entry.evidence)

    def _announce(self, entry: WatchEntry, status: str, note: str) -> None:
        self._parts.pipeline.emit(
            WatchListChanged(entry.client_order_id, entry.symbol, status, entry.not_found, note)
        )

    def _entry(self, order: Order, sent_ms: int | None, window_ms: int | None) -> WatchEntry:
        """The order's entry, created with T = `sent_ms` (else now: the request went out before
        this moment, e.g. before a crash) when it has none."""
        existing = self._parts.watch.get(order.client_order_id)
        if existing is not None:
            return existing
        parts = self._parts
        policy = parts.options.absence
        rules = parts.rules.get(order.symbol)
        assets = () if rules is None else (rules.base_asset, rules.quote_asset)
        entry = WatchEntry(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            sent_ms=self.server_now_ms() if sent_ms is None else sent_ms,
            window_ms=policy.window_ms(window_ms),
            since=parts.clock.now(),
            baseline=held(parts.ledger, assets),
        )
        self._put(entry)
        return entry

    def observe(self) -> None:
        """After reports: watched orders the stream or a reconciliation settled leave the list
        (a presumed-absent one with an alarm: it arrived late); expired watches end."""
        parts = self._parts
        changed = False
        for cid, entry in list(parts.watch.items()):
            order = parts.find_order(cid)
            if order is not None and order.state is OrderState.UNKNOWN:
                if entry.presumed_absent and self._expired(entry):
                    self._close_absent(order, entry)
                    changed = True
                continue
            del parts.watch[cid]
            changed = True
            found = "gone" if order is None else order.state.value
            self._announce(entry, "settled", f"settled: {found}")
            if entry.presumed_absent and order is not None:
                parts.pipeline.emit(
                    EngineAlarm(
                        "order_arrived_late",
                        f"{cid} ({entry.symbol}) was presumed absent but the exchange has it: "
                        f"adopted as {order.state.value} (executed {order.cum_qty}); check for "
                        "a replacement placed meanwhile",
                    )
                )
        if changed:
            self._persist()

    def _expired(self, entry: WatchEntry) -> bool:
        assert entry.presumed_absent_at is not None
        age = (self._parts.clock.now() - entry.presumed_absent_at).total_seconds()
        return age >= self._parts.options.absence.keep_s

    def _close_absent(self, order: Order, entry: WatchEntry) -> None:
        parts = self._parts
        del parts.watch[order.client_order_id]
        reason = "never reached the exchange: presumed absent, then watched without a trace"
        self._announce(entry, "settled", f"watch ended: {reason}")
        parts.pipeline.record(parts.book.reject(order.client_order_id, reason))
        log.info("%s closed after its watch: %s", order.client_order_id, entry.evidence)

    # -- settling -------------------------------------------------------------------------------

    def schedule(
        self,
        client_order_id: str,
        *,
        sent_ms: int | None = None,
        window_ms: int | None = None,
    ) -> None:
        """Settle an order in doubt unless that is already under way. An UNKNOWN order goes on
        the watch list with the exchange time its request carried (`sent_ms`, else now)."""
        order = self._parts.book.get(client_order_id)
        if order is not None and order.state is OrderState.UNKNOWN:
            self._entry(order, sent_ms, window_ms)
        self._spawn(client_order_id)

    def _spawn(self, client_order_id: str) -> None:
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
            await self._prove(client_order_id, wait=True)
        finally:
            self._settling.discard(client_order_id)

    async def prove(self, client_order_id: str) -> None:
        """Run the proof of absence now if its time has come (reconciliation calls this)."""
        if client_order_id not in self._settling:
            await self._prove(client_order_id, wait=False)

    async def _prove(self, client_order_id: str, *, wait: bool) -> None:
        """Apply the proof-of-absence policy; `wait` sleeps until its deadline first."""
        parts = self._parts
        policy = parts.options.absence
        entry = parts.watch.get(client_order_id)
        if entry is None or entry.presumed_absent:
            return
        remaining_s = (policy.deadline_ms(entry) - self.server_now_ms()) / 1000
        if remaining_s > 0:
            if not wait:
                return
            await asyncio.sleep(remaining_s)  # until the request can no longer execute
        while True:
            order = parts.book.get(client_order_id)
            entry = parts.watch.get(client_order_id)
            if order is None or order.state is not OrderState.UNKNOWN or entry is None:
                return
            past_deadline = (entry.last_not_found_ms or 0) >= policy.deadline_ms(entry)
            if past_deadline and entry.not_found >= policy.not_found_needed:
                break
            if past_deadline:
                await asyncio.sleep(policy.query_interval_s)  # spread the K answers
            if await self.query(order) is not QueryOutcome.NOT_FOUND:
                return  # found, or no answer: the next reconciliation carries on
        try:
            evidence = await self._other_evidence(order)
        except VenueError as error:
            log.warning("absence of %s not proven yet: %s", client_order_id, error)
            return
        if evidence is not None:
            self._presume_absent(order, evidence)

    async def _other_evidence(self, order: Order) -> str | None:
        """The lists and balances of the policy; None when any of them contradicts absence (an
        order listed is folded in: adopted)."""
        parts = self._parts
        cid, symbol = order.client_order_id, order.symbol
        for reports in (
            await parts.link.call(parts.venue.open_orders(symbol)),
            await parts.link.call(
                parts.venue.all_orders(symbol, limit=parts.options.absence.orders_window)
            ),
        ):
            found = listed(cid, reports)
            if found is not None:
                parts.pipeline.apply(found)
                self.observe()
                await self.pull_fills(cid)
                return None
        account = await parts.link.call(parts.venue.account())
        exchange = {b.asset: (b.free, b.locked) for b in account.balances}
        entry = parts.watch.get(cid)
        if entry is None:
            return None  # settled meanwhile (the stream reported it)
        changes = balance_changes(entry.baseline, exchange)
        if changes:
            self._balances_changed(entry, changes, exchange)
            return None
        return (
            f"{entry.not_found} consecutive -2013 answers, the last at exchange time "
            f"{entry.last_not_found_ms} (deadline {parts.options.absence.deadline_ms(entry)}); "
            f"not in {symbol}'s open orders nor its latest orders; balances unchanged"
        )

    def _balances_changed(
        self,
        entry: WatchEntry,
        changes: list[str],
        exchange: dict[str, tuple[Decimal, Decimal]],
    ) -> None:
        """An unexplained change blocks the presumption for the visibility grace; after it, the
        balances seen are the new baseline and the K answers start again."""
        now = self._parts.clock.now()
        if entry.rebaseline_at is not None and now >= entry.rebaseline_at:
            zero = (Decimal(0), Decimal(0))
            baseline = {asset: exchange.get(asset, zero) for asset in entry.baseline}
            self._put(
                replace(
                    entry,
                    baseline=baseline,
                    rebaseline_at=None,
                    not_found=0,
                    evidence="new balance baseline after unexplained changes "
                    f"({'; '.join(changes)})",
                )
            )
            return
        if entry.rebaseline_at is None:
            grace = timedelta(seconds=self._parts.options.absence.visibility_grace_s)
            blocked = (
                f"not presumed absent yet: balances changed since the create ({'; '.join(changes)})"
            )
            self._put(replace(entry, rebaseline_at=now + grace, evidence=blocked))
            log.warning("%s: %s", entry.client_order_id, blocked)

    def _presume_absent(self, order: Order, evidence: str) -> None:
        parts = self._parts
        entry = parts.watch[order.client_order_id]
        self._put(replace(entry, presumed_absent_at=parts.clock.now(), evidence=evidence))
        parts.pipeline.emit(
            EngineAlarm(
                "order_presumed_absent",
                f"{order.client_order_id} ({order.symbol}): presumed absent ({evidence}). It was "
                "not resent and stays watched; placing it again needs the operator and a new id",
            )
        )

    async def query(self, order: Order) -> QueryOutcome:
        """Ask the venue for one order by client order id and fold the answer in."""
        parts = self._parts
        cid = order.client_order_id
        try:
            report = await parts.link.call(parts.venue.get_order(order.symbol, cid))
        except Rejected as error:
            if error.code == NOT_FOUND_CODE:
                self._not_found(cid)
                return QueryOutcome.NOT_FOUND
            log.warning("query of %s refused: %s", cid, error)
            return QueryOutcome.FAILED
        except VenueError as error:
            log.warning("query of %s failed: %s", cid, error)
            return QueryOutcome.FAILED
        parts.pipeline.apply(report)
        self.observe()
        try:
            await self.pull_fills(cid)
        except VenueError as error:  # the next reconciliation fetches them
            log.warning("fills of %s not fetched: %s", cid, error)
        return QueryOutcome.FOUND

    def _not_found(self, client_order_id: str) -> None:
        order = self._parts.book.get(client_order_id)
        if order is None or order.state is not OrderState.UNKNOWN:
            return
        entry = self._entry(order, None, None)
        self._put(entry.counted_not_found(self.server_now_ms()))

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


def _log_write_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("the watch list could not be journaled: %s", future.exception())
