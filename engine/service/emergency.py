"""The emergency stop: HALTED, every open order cancelled and verified gone at the exchange,
optionally every position sold, and an exact account of whatever is left.

Phases, each announced as an `EmergencyStopPhase` event: `halt` (journaled before anything
else), `cancel` (the exchange's cancel-all per symbol, OCO lists and protective orders included,
symbols in parallel within `parallel`), `verify` (the exchange's open orders per symbol; cancel
and verify again until none remain or the bounds run out), `flatten` (optional: each position's
sellable quantity at market through the risk choke point), `check` (orders and positions once
more), `done`. Trading stays HALTED until the operator arms. A press while one runs joins it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from engine.core import failpoints
from engine.core.events import Event
from engine.journal import JournalError
from engine.service.api import CommandResult, Outcome
from engine.service.args import UsageError, text
from engine.service.cancels import CancelCommands
from engine.service.orders import OrderCommands, flag
from engine.service.parts import Parts
from engine.service.payloads import decimal_text
from engine.service.trading import TradingControl
from engine.venue.errors import VenueError

log = logging.getLogger(__name__)

DEFAULT_REASON = "emergency stop"
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class EmergencyStopPhase(Event):
    """One phase of an emergency stop began or ended; `detail` says what it found or did."""

    phase: str  # halt, cancel, verify, flatten, check, done
    attempt: int
    detail: str


@dataclass(frozen=True)
class EmergencyBounds:
    """How hard verification tries: cancel+verify rounds, overall seconds, pause between
    rounds, and how many symbols are worked on at once (the request-rate budget)."""

    attempts: int = 5
    time_limit_s: float = 15.0
    pause_s: float = 0.1
    parallel: int = 4


class EmergencyStop:
    """Runs the emergency stop; one at a time (a second press joins the running one)."""

    def __init__(
        self,
        parts: Parts,
        control: TradingControl,
        orders: OrderCommands,
        cancels: CancelCommands,
        bounds: EmergencyBounds | None = None,
    ) -> None:
        self._parts = parts
        self._control = control
        self._orders = orders
        self._cancels = cancels
        self._bounds = bounds or EmergencyBounds()
        self._running: asyncio.Task[CommandResult] | None = None

    async def command(self, args: Mapping[str, Any]) -> CommandResult:
        """EmergencyStop {flatten: bool, reason: str}; joins a stop already running."""
        try:
            flatten = flag(args, "flatten")
            reason = (text(args, "reason", required=False) or DEFAULT_REASON).strip()
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        running = self._running
        if running is not None and not running.done():
            result = await asyncio.shield(running)
            data = {**result.data, "joined": True}
            return CommandResult(result.outcome, result.message, data)
        task = asyncio.create_task(self._run(flatten, reason or DEFAULT_REASON), name="emergency")
        task.add_done_callback(_log_failure)
        self._running = task
        return await asyncio.shield(task)

    async def _run(self, flatten: bool, reason: str) -> CommandResult:
        started = time.monotonic()
        await self._halt(reason)
        symbols = await self._symbols_with_orders()
        left = await self._cancel_and_verify(symbols, started)
        flattened: dict[str, str] = {}
        if flatten:
            await self._refresh_balances()  # what the cancels freed, before sizing the sales
            flattened = await self._flatten()
            # A sale that did not fill at once would rest: check every symbol once more.
            left = await self._cancel_and_verify(set(left) | set(flattened), started)
        self._phase("check", 1, "orders and positions once more")
        left = await self._verify(set(left) | set(flattened) | symbols)
        await self._refresh_balances()
        positions, dust = await self._positions()
        data = {
            "reason": reason,
            "trading_state": self._parts.gate.state.value,
            "orders_left": {s: ids for s, ids in sorted(left.items())},
            "positions_left": positions if flatten else {},
            "positions_held": positions,
            "dust": dust,
            "flattened": flattened,
            "symbols": sorted(symbols),
            "elapsed_s": round(time.monotonic() - started, 3),
        }
        orders_left = sum(len(ids) for ids in left.values())
        problems = []
        if orders_left:
            problems.append(f"{orders_left} order(s) still open on {', '.join(sorted(left))}")
        if flatten and positions:
            problems.append(f"positions not flattened: {', '.join(sorted(positions))}")
        self._phase("done", 1, "; ".join(problems) or "nothing left")
        if problems:
            return CommandResult(
                Outcome.VENUE, "emergency stop incomplete: " + "; ".join(problems), data
            )
        what = "no open orders" + (", no positions" if flatten else "")
        return CommandResult(Outcome.OK, f"emergency stop done: HALTED, {what}", data)

    # -- phases ----------------------------------------------------------------------------------

    async def _halt(self, reason: str) -> None:
        parts = self._parts
        transition = parts.gate.machine.halt(reason, parts.clock.now())
        try:
            await self._control.journal(transition)
        except JournalError as error:  # the halt stands in memory; go on cancelling
            log.error("emergency halt not journaled: %s", error)
        self._phase("halt", 1, f"trading HALTED: {parts.gate.reason}")

    async def _symbols_with_orders(self) -> set[str]:
        """The book's symbols with open orders and, from the exchange, every symbol with one
        (external and protective orders included); the book alone when the exchange is mute."""
        parts = self._parts
        symbols = {order.symbol for order in parts.book.open_orders()}
        try:
            reports = await parts.link.call(parts.venue.open_orders())
        except VenueError as error:
            log.warning("emergency stop: open orders not listed: %s", error)
            return symbols
        return symbols | {report.symbol for report in reports}

    async def _cancel_and_verify(
        self, symbols: Iterable[str], started: float
    ) -> dict[str, list[str]]:
        """Cancel then verify until nothing is left or the bounds run out; what is left."""
        bounds = self._bounds
        pending = set(symbols)
        left: dict[str, list[str]] = {}
        for attempt in range(1, bounds.attempts + 1):
            if not pending:
                return {}
            self._phase("cancel", attempt, f"cancel-all on {', '.join(sorted(pending))}")
            # Sorted: the same stop sends the same requests in the same order (seeded replays).
            await gather_limited(
                self._bounds.parallel, sorted(pending), self._cancels.cancel_symbol
            )
            left = await self._verify(pending, attempt)
            pending = set(left)
            out_of_time = time.monotonic() - started > bounds.time_limit_s
            if not pending or out_of_time:
                break
            await asyncio.sleep(bounds.pause_s * attempt)  # let a struggling venue breathe
        return left

    async def _verify(self, symbols: Iterable[str], attempt: int = 1) -> dict[str, list[str]]:
        """The exchange's open orders per symbol; a symbol it does not answer for counts as
        left, under the book's open orders there (or "unverified")."""
        targets = sorted(set(symbols))
        answers = await gather_limited(self._bounds.parallel, targets, self._listed)
        left: dict[str, list[str]] = {}
        for symbol, found in zip(targets, answers, strict=True):
            if found:
                left[symbol] = found
        total = sum(len(ids) for ids in left.values())
        self._phase("verify", attempt, f"{total} open order(s) left on {len(left)} symbol(s)")
        return left

    async def _listed(self, symbol: str) -> list[str]:
        try:
            reports = await self._cancels.open_at_venue(symbol)
        except VenueError as error:
            book = [o.client_order_id for o in self._parts.book.open_orders(symbol)]
            return book or [f"unverified: {error}"]
        return sorted(report.order_client_id for report in reports)

    async def _flatten(self) -> dict[str, str]:
        """Sell every position's sellable quantity at market; per symbol, what happened."""
        parts = self._parts
        held = [p.symbol for p in parts.ledger.positions() if not p.is_flat]
        self._phase("flatten", 1, f"selling {', '.join(held) or 'nothing'}")
        results = await gather_limited(self._bounds.parallel, held, self._sell)
        return dict(zip(held, results, strict=True))

    async def _sell(self, symbol: str) -> str:
        result = await self._orders.sell_all(symbol, flattening=True)
        return f"{result.outcome.value}: {result.message}"

    async def _positions(self) -> tuple[dict[str, str], dict[str, str]]:
        """Positions still sellable (with the quantity and why) and dust (nothing sellable)."""
        parts = self._parts
        positions: dict[str, str] = {}
        dust: dict[str, str] = {}
        held = [p for p in parts.ledger.positions() if not p.is_flat]
        prices = await self._prices([p.symbol for p in held])
        for position in held:
            mark = prices.get(position.symbol)
            sellable = None if mark is None else parts.ledger.sellable_qty(position.symbol, mark)
            qty = decimal_text(position.qty) or "0"
            if sellable is not None and sellable <= 0:
                dust[position.symbol] = qty
            else:
                why = "no price to size the sale" if sellable is None else "sellable, not sold"
                positions[position.symbol] = f"{qty} {position.base_asset} ({why})"
        return positions, dust

    async def _refresh_balances(self) -> None:
        """The account's balances from the exchange: the stream's updates may still be on the
        way, and what is sellable is judged on free balances."""
        parts = self._parts
        try:
            account = await parts.link.call(parts.venue.account())
        except VenueError as error:
            log.warning("emergency stop: balances not refreshed: %s", error)
            return
        parts.pipeline.apply_account(account.balances, account.update_time)

    async def _prices(self, symbols: list[str]) -> dict[str, Decimal]:
        """Fresh marks, else one REST read of every price; a symbol without either is left out."""
        parts = self._parts
        prices = {s: m for s in symbols if (m := parts.mark_price(s)) is not None}
        if len(prices) < len(symbols):
            try:
                listed = await parts.link.call(parts.venue.ticker_prices())
            except VenueError as error:
                log.warning("emergency stop: no prices: %s", error)
                listed = {}
            prices.update({s: listed[s] for s in symbols if s not in prices and s in listed})
        return prices

    def _phase(self, phase: str, attempt: int, detail: str) -> None:
        failpoints.hit("emergency_stop_phase")
        log.warning("emergency stop %s (%d): %s", phase, attempt, detail)
        self._parts.pipeline.emit(EmergencyStopPhase(phase, attempt, detail))


async def gather_limited(
    parallel: int, symbols: Iterable[str], work: Callable[[str], Awaitable[R]]
) -> list[R]:
    """`work(symbol)` for every symbol, at most `parallel` at once, results in order."""
    gate = asyncio.Semaphore(parallel)

    async def one(symbol: str) -> R:
        async with gate:
            return await work(symbol)

    return list(await asyncio.gather(*(one(symbol) for symbol in symbols)))


def _log_failure(task: asyncio.Task[CommandResult]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the emergency stop failed", exc_info=task.exception())
