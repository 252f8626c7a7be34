"""When reconciliation runs: one run at a time, requests coalesced, failures retried.

Requests come from stream gaps (these block new orders until a clean run), the periodic timer,
the operator and start-up. A request made while a run is under way gets a run of its own after
it, so its caller sees state read after it asked. A run that is not clean is retried after a
pause for as long as nothing else asks.

Runs fit in the rate budget: a run starts only once the budget has room for its estimated weight
(`budget_wait`), so after a 429 pause or near the throttle it waits instead of stalling half way,
and a retry never comes before a pause or ban has ended. `run_every` is the one way the engine's
other periodic work (polling while the user stream is down, clock sync, rule refresh,
housekeeping) is run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from engine.service.gate import TradingGate
from engine.service.reconcile import ReconcileReport
from engine.service.tasks import TaskKeeper

log = logging.getLogger(__name__)

RunOnce = Callable[[str], Awaitable[ReconcileReport]]


class ReconcileScheduler:
    """Owns the reconcile loop task and the trading gate's reconciled flag after start."""

    def __init__(
        self,
        run_once: RunOnce,
        gate: TradingGate,
        tasks: TaskKeeper,
        *,
        retry_s: float,
        interval_s: float | None,
        budget_wait: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._run_once = run_once
        self._gate = gate
        self._tasks = tasks
        self._retry_s = retry_s
        self._interval_s = interval_s
        self._budget_wait = budget_wait
        self._wanted = asyncio.Event()
        self._requested = 0
        self._done = 0
        self._blocking = 0  # the newest request that blocks new orders until it ran clean
        self._trigger = "start"
        self._waiters: list[tuple[int, asyncio.Future[ReconcileReport]]] = []
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._tasks.spawn(self._loop(), "reconcile-loop")
        if self._interval_s is not None:
            self._tasks.spawn(self._periodic(self._interval_s), "reconcile-timer")

    def request(self, trigger: str, *, blocking: bool = False) -> int:
        """Ask for a run; `blocking` (a stream gap) stops new orders until it ran clean."""
        self._requested += 1
        self._trigger = trigger
        if blocking:
            self._blocking = self._requested
            self._gate.mark_unreconciled(f"{trigger}; reconciling")
        self._wanted.set()
        return self._requested

    async def run_now(self, trigger: str) -> ReconcileReport:
        """Request a run and wait for its report."""
        generation = self.request(trigger)
        future: asyncio.Future[ReconcileReport] = asyncio.get_running_loop().create_future()
        self._waiters.append((generation, future))
        return await future

    async def run_direct(self, trigger: str) -> ReconcileReport:
        """Run once right away (start-up), outside the loop but never beside another run."""
        generation = self._requested
        async with self._lock:
            report = await self._run_once(trigger)
        self._settle_gate(generation, report)
        return report

    async def _loop(self) -> None:
        while True:
            await self._wanted.wait()
            await self._room_in_budget()
            self._wanted.clear()
            generation, trigger = self._requested, self._trigger
            try:
                async with self._lock:
                    report = await self._run_once(trigger)
            except Exception as error:  # a bug in a run must not end reconciliation
                log.exception("reconciliation crashed")
                report = ReconcileReport(problems=[f"internal error: {error}"])
            self._done = generation
            self._settle_gate(generation, report)
            self._wake(generation, report)
            if not report.clean and not self._wanted.is_set():
                self._tasks.spawn(self._retry(generation), "reconcile-retry")

    def _settle_gate(self, generation: int, report: ReconcileReport) -> None:
        if generation < self._blocking:
            return  # a newer gap is waiting for its own run
        if report.clean:
            self._gate.mark_reconciled()
        else:
            self._gate.mark_unreconciled(f"reconciliation failed: {report.summary()}")

    def _wake(self, generation: int, report: ReconcileReport) -> None:
        still: list[tuple[int, asyncio.Future[ReconcileReport]]] = []
        for wanted, future in self._waiters:
            if wanted <= generation:
                if not future.done():
                    future.set_result(report)
            else:
                still.append((wanted, future))
        self._waiters = still

    async def _room_in_budget(self) -> None:
        """Wait (bounded steps, re-checked) until the budget has room for a whole run."""
        while True:
            wait = self._budget_wait()
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 5.0))

    async def _retry(self, generation: int) -> None:
        await asyncio.sleep(max(self._retry_s, self._budget_wait()))
        if self._done == generation and not self._wanted.is_set():
            self.request("retry after a failed reconciliation", blocking=False)

    async def _periodic(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.request("periodic")

    def cancel_waiters(self, reason: Any) -> None:
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(RuntimeError(str(reason)))
        self._waiters = []


def run_every(
    tasks: TaskKeeper,
    interval_s: float,
    work: Callable[[], Coroutine[Any, Any, Any]],
    name: str,
) -> None:
    """Run `work()` every `interval_s` seconds in a kept task; a failure is logged and the next
    turn comes anyway."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await work()
            except Exception:
                log.exception("%s failed", name)

    tasks.spawn(loop(), name)
