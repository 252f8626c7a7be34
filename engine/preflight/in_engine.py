"""The preflight checks inside a running engine: at start, on arm, and periodically.

At start every check runs once the engine is reconciled; a failing one halts trading with the
check as the reason. Arm re-runs the failing checks first and is refused while one still fails
(a pass never arms by itself: the operator does). Every `interval_s` all checks run again and a
failure halts trading. The user stream line only warns here: the trading gate already holds new
orders while the stream is down. Symbols are judged on the rules the engine trades with. A call
that gets no answer (as opposed to a refusal) only warns here: the engine started, so the
exchange answered then, and the circuit breaker deals with an exchange that stops answering.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
from collections.abc import Callable, Collection
from typing import Any, Protocol

from engine.config import Mode, Settings
from engine.preflight.checks import (
    Policy,
    attempt,
    clock_line,
    files_line,
    journal_line,
    keys_line,
    permissions_line,
    symbols_line,
    user_stream_line,
)
from engine.preflight.report import Check, CheckResult, PreflightReport, fail, warn
from engine.security.live_gate import LiveState, live_json
from engine.service.api import CommandResult, Outcome
from engine.service.parts import Parts
from engine.venue.errors import AuthError, Rejected, VenueError
from engine.venue.results import AccountSnapshot, ApiRestrictions
from engine.venue.timing import Clock

log = logging.getLogger(__name__)


class PreflightVenue(Protocol):
    """The venue calls the checks make (BinanceVenue has them all)."""

    async def account(self) -> AccountSnapshot: ...

    async def api_restrictions(self) -> ApiRestrictions | None: ...

    async def sync_time(self) -> int: ...


class EnginePreflight:
    """Runs the checklist for one engine and enforces it; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        venue: PreflightVenue,
        *,
        clock: Clock,
        ed25519: bool,
        policy: Policy | None = None,
        cwd: pathlib.Path | None = None,
    ) -> None:
        self._settings = settings
        self._venue = venue
        self._clock = clock
        self._ed25519 = ed25519
        self._policy = policy or Policy.for_settings(settings)
        self._cwd = cwd or pathlib.Path.cwd()
        self._parts: Parts | None = None
        self._halt: Callable[[str], None] | None = None
        self._lock = asyncio.Lock()
        self.report: PreflightReport | None = None

    @property
    def interval_s(self) -> float:
        return self._settings.preflight.interval_s

    async def start(self, parts: Parts, halt: Callable[[str], None]) -> PreflightReport:
        """Run every check on the started engine, halt on a failure, start the periodic run."""
        self._parts, self._halt = parts, halt
        report = await self.run(tuple(Check))
        if self.interval_s > 0:
            parts.tasks.spawn(self._periodically(self.interval_s), name="preflight-periodic")
        return report

    async def before_arm(self) -> CommandResult | None:
        """Re-run the failing checks; the refusal of Arm while one still fails, else None."""
        if self.report is None or self.report.passed:
            return None
        report = await self.run(tuple(r.check for r in self.report.failures), enforce=False)
        reason = report.halt_reason()
        if reason is None:
            return None
        return CommandResult(
            Outcome.REFUSED, f"cannot arm: {reason}", {"preflight": report.to_json()}
        )

    async def run(self, checks: Collection[Check], *, enforce: bool = True) -> PreflightReport:
        """Run `checks` (merged into the last report) and, with `enforce`, halt on a failure."""
        async with self._lock:
            try:
                results = [await self._line(check) for check in Check if check in checks]
            except Exception as error:  # a bug here must fail closed, never end the engine
                log.exception("the preflight checks could not run")
                results = [fail(Check.FILES, f"the checks could not run: {type(error).__name__}")]
            fresh = PreflightReport(tuple(results), self._clock.now(), self._policy.accepted_names)
            report = fresh if self.report is None else self.report.merged(fresh)
            self.report = report
        reason = report.halt_reason()
        if reason is not None:
            log.warning("preflight %s: %s", report.summary(), reason)
            if enforce and self._halt is not None:
                self._halt(reason)
        return report

    def annotate(self, snapshot: dict[str, Any]) -> None:
        """The snapshot's `preflight` and `live` sections (see engine/service/snapshot.py): a
        LIVE engine runs only once the operator has confirmed (engine/security/live_gate.py)."""
        live = LiveState.CONFIRMED if self._policy.mode is Mode.LIVE else LiveState.NOT_REQUIRED
        snapshot.setdefault("live", live_json(live))
        body: dict[str, Any] = {
            "passed": None,
            "at": None,
            "checks": [],
            "accepted_key_risks": list(self._policy.accepted_names),
        }
        if self.report is not None:
            body.update(self.report.to_json())
        body["rerun"] = {"on_arm": True, "interval_s": self.interval_s or None}
        snapshot["preflight"] = body

    async def _periodically(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.run(tuple(Check))

    async def _line(self, check: Check) -> CheckResult:
        settings, parts, policy = self._settings, self._parts, self._policy
        assert parts is not None
        if check is Check.FILES:
            return await asyncio.to_thread(files_line, settings, cwd=self._cwd)
        if check is Check.JOURNAL:
            return await asyncio.to_thread(
                journal_line,
                pathlib.Path(parts.journal.path),
                mode=parts.options.mode,
                account=parts.options.account,
            )
        if check is Check.KEYS:
            account = await attempt(self._venue.account())
            return _unanswered(check, account) or keys_line(
                account, ed25519=self._ed25519, policy=policy
            )
        if check is Check.KEY_PERMISSIONS:
            restrictions = await attempt(self._venue.api_restrictions())
            return _unanswered(check, restrictions) or permissions_line(
                restrictions, policy=policy, now=self._clock.now()
            )
        if check is Check.CLOCK:
            offset = await attempt(self._venue.sync_time())
            return _unanswered(check, offset) or clock_line(offset, policy=policy)
        if check is Check.SYMBOLS:
            return symbols_line(parts.rules, wanted=parts.symbols)
        return user_stream_line(parts.gate.user_stream_problem, enforced_by_gate=True)


def _unanswered(check: Check, found: object) -> CheckResult | None:
    """A warning for a call that got no answer (timeouts, 5xx, rate limits); None otherwise."""
    if isinstance(found, VenueError) and not isinstance(found, AuthError | Rejected):
        return warn(check, f"not checked now, the exchange did not answer: {found}")
    return None
