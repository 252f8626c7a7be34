"""Exchange maintenance (E5, E9): pause new orders while the exchange or a symbol is not trading.

Two levels. The whole exchange pauses on -1016 ("This service is no longer available") or on a
run of 5xx answers (`after_errors` in a row): the gate refuses new orders with the reason, and a
probe (exchangeInfo, which also carries every symbol's status) is retried with a growing,
jittered backoff. A symbol pauses while exchangeInfo lists it as anything but TRADING (BREAK,
HALT, ...): the local pre-trade check refuses its orders, and its status is polled the same way.

Trading resumes only after the probe answers with the symbols TRADING *and* a reconciliation ran
clean: the monitor asks for a blocking reconciliation, which keeps new orders out until it is
clean. Rules read from exchangeInfo (filters too) replace the old ones in every refresh, so
local validation always uses the exchange's newest rules (E9 refreshes after a -1013).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.rules import SymbolRules
from engine.ledger import Ledger
from engine.service.gate import TradingGate
from engine.service.health import VenueLink
from engine.service.port import VenuePort
from engine.service.tasks import TaskKeeper
from engine.venue.errors import Unknown, VenueError
from engine.venue.timing import Backoff, Clock

log = logging.getLogger(__name__)

SERVICE_UNAVAILABLE_CODE = -1016
TRADING = "TRADING"


class MaintenanceMonitor:
    """A link observer that pauses and resumes trading; see the module docstring.

    `request_reconcile(trigger)` asks for a blocking reconciliation; `alarm(kind, message)`
    tells the operator."""

    def __init__(
        self,
        *,
        venue: VenuePort,
        link: VenueLink,
        gate: TradingGate,
        rules: dict[str, SymbolRules],
        ledger: Ledger,
        symbols: Sequence[str],
        clock: Clock,
        rng: random.Random,
        tasks: TaskKeeper,
        request_reconcile: Callable[[str], object],
        alarm: Callable[[str, str], None],
        after_errors: int = 3,
        backoff_s: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self._venue = venue
        self._link = link
        self._gate = gate
        self._rules = rules
        self._ledger = ledger
        self._symbols = tuple(symbols)
        self._clock = clock
        self._tasks = tasks
        self._request_reconcile = request_reconcile
        self._alarm = alarm
        self._after_errors = after_errors
        self._backoff = Backoff(rng, base=backoff_s[0], cap=backoff_s[1])
        self._server_errors = 0
        self.since: datetime | None = None
        self._polling = False

    @property
    def reason(self) -> str | None:
        """Why the whole exchange is paused, or None."""
        return self._gate.maintenance

    def paused_symbols(self) -> dict[str, str]:
        """The configured symbols whose status is not TRADING, with their status."""
        return {
            s: self._rules[s].status
            for s in self._symbols
            if s in self._rules and self._rules[s].status != TRADING
        }

    def explains_failures(self) -> bool:
        """While paused, venue failures are the maintenance's, not the circuit breaker's."""
        return self._gate.maintenance is not None

    # -- link observer -------------------------------------------------------------------------

    def venue_ok(self) -> None:
        self._server_errors = 0

    def venue_failed(self, error: VenueError) -> None:
        if error.code == SERVICE_UNAVAILABLE_CODE:
            self._enter(f"the exchange says its service is unavailable (-1016): {error.message}")
            return
        if isinstance(error, Unknown) and (error.http_status or 0) >= 500:
            self._server_errors += 1
            if self._server_errors >= self._after_errors:
                self._enter(
                    f"the exchange answered {self._server_errors} requests in a row with a "
                    f"server error (last: {error})"
                )
            return
        if error.http_status is not None:  # any other answer: the exchange is up
            self._server_errors = 0

    # -- rules ---------------------------------------------------------------------------------

    async def refresh_rules(self) -> bool:
        """Read exchangeInfo and fold its rules in (statuses and filters); False if it failed."""
        try:
            info = await self._link.call(self._venue.exchange_info())
        except VenueError as error:
            log.warning("symbol rules not refreshed: %s", error)
            return False
        self.apply_rules(info.symbols.values())
        return True

    def apply_rules(self, fresh: Any) -> None:
        """New rules replace the old; a configured symbol leaving or regaining TRADING is
        announced, and regaining it waits for a clean reconciliation."""
        resumed: list[str] = []
        for rules in fresh:
            old = self._rules.get(rules.symbol)
            self._rules[rules.symbol] = rules
            self._ledger.update_rules(rules)
            if rules.symbol not in self._symbols or old is None:
                continue
            if dataclasses.replace(old, status=rules.status) != rules:
                self._alarm(
                    "rules",
                    f"{rules.symbol}'s filters changed at the exchange ({_changes(old, rules)}); "
                    "new orders are checked against the new ones",
                )
            if old.status == rules.status:
                continue
            if rules.status != TRADING:
                self._alarm(
                    "maintenance",
                    f"{rules.symbol} is {rules.status} at the exchange: no new orders for it "
                    "until it trades again",
                )
            elif old.status != TRADING:
                resumed.append(rules.symbol)
        if resumed:
            self._alarm("maintenance", f"{', '.join(resumed)} trading again; reconciling")
            self._request_reconcile(f"{', '.join(resumed)} trading again")
        if self.paused_symbols():
            self._poll()

    # -- internals -----------------------------------------------------------------------------

    def _enter(self, reason: str) -> None:
        if self._gate.maintenance is None:
            self._gate.maintenance = reason
            self.since = self._clock.now()
            log.warning("exchange maintenance: %s", reason)
            self._alarm("maintenance", f"{reason}: no new orders until it trades again")
        self._poll()

    def _poll(self) -> None:
        if not self._polling:
            self._polling = True
            self._tasks.spawn(self._poll_loop(), "maintenance-poll")

    async def _poll_loop(self) -> None:
        """Probe with backoff until the exchange answers and the symbols trade again."""
        self._backoff.reset()
        try:
            while self._gate.maintenance is not None or self.paused_symbols():
                await asyncio.sleep(self._backoff.next_delay())
                if not await self.refresh_rules():
                    continue
                if self._gate.maintenance is not None:
                    self._leave()
        finally:
            self._polling = False

    def _leave(self) -> None:
        reason = self._gate.maintenance
        self._server_errors = 0
        # The blocking request keeps new orders out until a clean run, so clearing the pause
        # now does not let anything through before the venue's truth is folded in.
        self._request_reconcile("the exchange answers again after maintenance")
        self._gate.maintenance = None
        self.since = None
        self._alarm("maintenance", f"the exchange answers again ({reason}); reconciling")

    def to_json(self) -> dict[str, Any]:
        """The pause for the snapshot (`maintenance`)."""
        return {
            "active": self._gate.maintenance is not None,
            "reason": self._gate.maintenance,
            "since": None if self.since is None else self.since.isoformat(),
            "paused_symbols": self.paused_symbols(),
        }


def _changes(old: SymbolRules, new: SymbolRules) -> str:
    """The filters an operator trades by, where they moved ("other filters" otherwise)."""
    pairs = (
        ("tick size", old.tick_size, new.tick_size),
        ("step", old.qty_step(), new.qty_step()),
        ("min notional", _min_notional(old), _min_notional(new)),
    )
    moved = [f"{name} {_text(a)} -> {_text(b)}" for name, a, b in pairs if a != b]
    return ", ".join(moved) or "other filters"


def _text(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")


def _min_notional(rules: SymbolRules) -> Decimal | None:
    return min((f.min_notional for f in rules.notional_filters), default=None)
