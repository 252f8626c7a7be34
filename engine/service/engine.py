"""The engine: journal, venue, order book, ledger and streams composed into one service.

`start()` opens the journal and rebuilds the book and the ledger from it, starts the venue,
reads the symbols' rules, subscribes the user stream (so nothing falls between the start-up
reconciliation and the first event), reconciles until clean (trading stays blocked until then;
start fails after `start_reconcile_attempts` unclean runs), then streams marks and keeps
reconciling after every gap and periodically. Commands come in through `command()`, state goes
out through `snapshot()` and the ordered `events()` stream. `stop()` is graceful: streams
closed, journal flushed, and no order is ever cancelled on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from engine.config import Mode, Settings
from engine.core.wire import MalformedPayload
from engine.journal import Journal, JournalError
from engine.preflight.in_engine import EnginePreflight
from engine.protection import ProtectionSettings
from engine.risk import RiskLimits
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.args import with_sizing_stop
from engine.service.assembly import EngineStartError, assemble
from engine.service.audit import AuditTrail, Operator, this_process
from engine.service.breaker import CircuitBreaker
from engine.service.cancels import CancelCommands
from engine.service.emergency import EmergencyBounds, EmergencyStop
from engine.service.events import EngineAlarm, ReconcileFinished, StreamHealthChanged
from engine.service.gate import TradingGate
from engine.service.health import LinkAlarms, VenueLink
from engine.service.housekeeping import Housekeeper
from engine.service.inprocess import InProcessClient
from engine.service.maintenance import MaintenanceMonitor
from engine.service.options import EngineOptions
from engine.service.orders import OrderCommands
from engine.service.parts import Parts
from engine.service.port import VenuePort
from engine.service.profile import DEFAULT_ACCOUNT, credentials_from, journal_path
from engine.service.protection import ProtectionManager
from engine.service.reconcile import Reconciler, ReconcileReport
from engine.service.riskgate import RiskGate
from engine.service.scheduling import ReconcileScheduler, run_every
from engine.service.settings import BreakerSettings, HousekeepingSettings
from engine.service.settle import Settler
from engine.service.snapshot import build_snapshot
from engine.service.tasks import TaskKeeper
from engine.service.trading import TradingControl
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.budget import Weight, essential_requests
from engine.venue.endpoints import endpoints_for
from engine.venue.errors import VenueError
from engine.venue.health import StreamGap, StreamHealth, StreamStatus
from engine.venue.parse import AccountPosition, ExecutionUpdate, parse_user_event
from engine.venue.timing import Clock, SystemClock

log = logging.getLogger(__name__)

JournalOpener = Callable[[], Awaitable[Journal]]


# The operator's reconcile command waits this long at most for room in the rate budget.
_LONGEST_RECONCILE_WAIT_S = 10.0


class EngineNotRunning(RuntimeError):
    """The engine has not started, or has stopped."""


class Engine:
    """One account in one mode; see the module docstring."""

    def __init__(
        self,
        *,
        venue: VenuePort,
        open_journal: JournalOpener,
        clock: Clock,
        rng: random.Random,
        options: EngineOptions,
        limits: RiskLimits | None = None,
        emergency: EmergencyBounds | None = None,
        protection: ProtectionSettings | None = None,
        preflight: EnginePreflight | None = None,
        breaker: BreakerSettings | None = None,
        housekeeping: HousekeepingSettings | None = None,
    ) -> None:
        self._venue = venue
        self._limits = limits or RiskLimits()
        self._emergency_bounds = emergency
        self._open_journal = open_journal
        self._clock = clock
        self._rng = rng
        self.options = options
        self._gate = TradingGate()
        self._trading = TradingControl(self._gate, clock, lambda: self._parts)
        self._tasks = TaskKeeper()
        self._link = VenueLink(clock)
        self._parts: Parts | None = None
        self._journal: Journal | None = None
        self._scheduler: ReconcileScheduler | None = None
        self._reconciler: Reconciler | None = None
        self._settler: Settler | None = None
        self._orders: OrderCommands | None = None
        self._cancels: CancelCommands | None = None
        self._risk: RiskGate | None = None
        self._emergency: EmergencyStop | None = None
        self.protection_settings = protection or ProtectionSettings()
        self._protection: ProtectionManager | None = None
        self._preflight = preflight  # checks at start, on arm, periodically (engine/preflight)
        # -- streams, limits, breaker, maintenance, housekeeping (built at start) --
        self.breaker_settings = breaker or BreakerSettings()
        self.housekeeping_settings = housekeeping or HousekeepingSettings()
        self._breaker: CircuitBreaker | None = None
        self._maintenance: MaintenanceMonitor | None = None
        self._housekeeper: Housekeeper | None = None
        self._last_reconcile: dict[str, Any] = {
            "last_at": None,
            "last_clean": None,
            "last_summary": None,
            "last_differences": [],
        }
        self._user_connected = asyncio.Event()
        self._started = False
        self._stopping = False
        self._stopper: asyncio.Task[None] | None = None
        self.stopped = asyncio.Event()
        # -- the audit trail (engine/service/audit.py), once the journal is open --
        self._audit: AuditTrail | None = None
        self._operator = this_process("in-process")  # who the in-process client acts as

    @property
    def client(self) -> InProcessClient:
        """This engine's `EngineClient` (what the control server serves)."""
        return InProcessClient(self)

    async def close(self) -> None:
        """Same as `stop()`."""
        await self.stop()

    @property
    def parts(self) -> Parts:
        if self._parts is None or self._stopping:
            raise EngineNotRunning("the engine is not running")
        return self._parts

    # -- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._journal is not None:
            raise RuntimeError("the engine was already started")
        self._journal = await self._open_journal()
        self._audit = AuditTrail(self._journal, self._clock.now)
        try:
            try:
                await self._venue.start()
            except VenueError as error:
                raise EngineStartError(f"the exchange cannot be reached: {error}") from None
            await self._start_parts(self._journal)
            if self._preflight is not None and self._parts is not None:
                await self._preflight.start(self._parts, self._trading.halt)
        except BaseException:
            await self._shutdown()
            raise

    async def _start_parts(self, journal: Journal) -> None:
        try:
            assembled = await assemble(
                journal=journal,
                venue=self._venue,
                link=self._link,
                clock=self._clock,
                options=self.options,
                gate=self._gate,
                tasks=self._tasks,
                halt=self._trading.halt,
                on_journal_failure=self._trading.journal_failed,
            )
        except VenueError as error:
            raise EngineStartError(f"the exchange did not answer at start: {error}") from None
        parts = self._parts = assembled.parts
        settler = self._settler = Settler(parts)
        await settler.restore()  # the watch list of unanswered creates survives restarts
        self._reconciler = Reconciler(parts, settler, assembled.adoptions)
        # -- risk and the emergency stop (every order passes self._risk) --
        self._risk = RiskGate(parts, self._limits, self._trading)
        await self._risk.restore_counts()
        self._orders = OrderCommands(parts, settler, self._refresh_rules, self._risk)
        self._cancels = CancelCommands(parts, settler)
        self._emergency = EmergencyStop(
            parts, self._trading, self._orders, self._cancels, self._emergency_bounds
        )
        # -- end risk --
        self._protection = ProtectionManager(
            parts, self.protection_settings, settler.schedule, self._risk
        )
        self._scheduler = ReconcileScheduler(
            self._reconcile_once,
            self._gate,
            self._tasks,
            retry_s=self.options.reconcile_retry_s,
            interval_s=self.options.reconcile_interval_s,
            budget_wait=self._reconcile_budget_wait,
        )
        self._watch_the_link(parts, self._scheduler)
        for cid in assembled.in_flight:  # maybe sent before a crash: settle by query
            parts.pipeline.record(parts.book.mark_unknown(cid))
        for order in parts.book.open_orders():  # a cancel in flight died with the last process
            if order.cancel_requested:  # (else CancelOrder answers "in flight" forever)
                lost = "unanswered when the engine stopped; reconciliation shows if it took effect"
                parts.pipeline.record(parts.book.cancel_rejected(order.client_order_id, lost))
        user = self._venue.user_stream(
            self._on_user_event,
            rng=self._rng,
            on_status=self._on_stream_status,
            on_gap=self._on_gap,
            config=self.options.user_stream,
        )
        self._link.streams["user"] = user
        user.start()
        await self._wait_user_stream()
        await self._first_reconcile(self._scheduler)
        await self._protection.restore()  # protection: after the venue's truth is folded in
        self._started = True
        if self.options.market_data and parts.symbols:
            market = self._venue.market_stream(
                parts.symbols,
                parts.marks,
                rng=self._rng,
                on_status=self._on_stream_status,
                on_mark=self._protection.on_mark,
                config=self.options.market_stream,
            )
            self._link.streams["market"] = market
            market.start()
        self._scheduler.start()
        self._start_periodic_work(parts, self._scheduler)

    def _watch_the_link(self, parts: Parts, scheduler: ReconcileScheduler) -> None:
        """Maintenance, the circuit breaker and the link's alarms observe every venue call."""

        def alarm(kind: str, message: str) -> None:
            if not self._stopping:
                parts.pipeline.emit(EngineAlarm(kind, message))

        self._maintenance = MaintenanceMonitor(
            venue=self._venue,
            link=self._link,
            gate=self._gate,
            rules=parts.rules,
            ledger=parts.ledger,
            symbols=parts.symbols,
            clock=self._clock,
            rng=self._rng,
            tasks=self._tasks,
            request_reconcile=lambda trigger: scheduler.request(trigger, blocking=True),
            alarm=alarm,
            after_errors=self.options.maintenance_after_errors,
            backoff_s=self.options.maintenance_backoff_s,
        )
        self._breaker = CircuitBreaker(
            self.breaker_settings,
            clock=self._clock,
            tasks=self._tasks,
            halt=self._trading.halt,
            release=self._trading.release,
            probe=lambda: scheduler.request("circuit breaker probe after the cooldown"),
            explained=self._maintenance.explains_failures,
        )
        alarms = LinkAlarms(
            halt=self._trading.halt,
            alarm=alarm,
            reconcile=lambda trigger, blocking: scheduler.request(trigger, blocking=blocking),
        )
        self._link.observers.extend([self._maintenance, self._breaker, alarms])

    def _start_periodic_work(self, parts: Parts, scheduler: ReconcileScheduler) -> None:
        """Polling while the user stream is down, clock sync, rule refresh, housekeeping."""
        options = self.options
        if options.degraded_poll_s is not None:

            async def poll() -> None:
                if self._gate.user_stream_problem is not None:
                    scheduler.request("polling over REST: the user stream is not connected")

            run_every(self._tasks, options.degraded_poll_s, poll, "degraded-poll")
        if options.clock_sync_interval_s is not None:

            async def sync() -> None:
                with contextlib.suppress(VenueError):  # logged by the link's observers
                    await self._link.call(self._venue.sync_time())

            run_every(self._tasks, options.clock_sync_interval_s, sync, "clock-sync")
        if options.rules_refresh_interval_s is not None:
            run_every(
                self._tasks, options.rules_refresh_interval_s, self._refresh_rules, "rules-refresh"
            )
        assert self._cancels is not None
        self._housekeeper = Housekeeper(
            parts,
            self.housekeeping_settings,
            cancel=self._cancels.cancel,
            protected=self._protected_ids,
        )
        if self.housekeeping_settings.cancel_stale_after_s is not None:
            run_every(
                self._tasks,
                self.housekeeping_settings.check_every_s,
                self._housekeeper.sweep,
                "housekeeping",
            )

    def _protected_ids(self) -> set[str]:
        """Client order ids of the orders that carry positions' protection."""
        found: set[str] = set()
        if self._protection is not None and self._parts is not None:
            for symbol in self._parts.symbols:
                protection = self._protection.get(symbol)
                if protection is not None:
                    found.update(protection.order_ids)
        return found

    def _reconcile_budget_wait(self) -> float:
        """Seconds until the rate budget has room for a whole reconciliation."""
        parts = self._parts
        if parts is None:
            return 0.0
        weight = (
            Weight.ACCOUNT
            + Weight.OPEN_ORDERS_ALL
            + Weight.MY_TRADES * len(parts.symbols)
            + Weight.GET_ORDER * len(parts.watch)
        )
        return parts.venue.budget.wait_s(weight)

    async def _wait_user_stream(self) -> None:
        try:
            await asyncio.wait_for(
                self._user_connected.wait(), self.options.stream_connect_timeout_s
            )
        except TimeoutError:
            log.warning("user stream not connected at start; reconciling without it")

    async def _first_reconcile(self, scheduler: ReconcileScheduler) -> None:
        report = ReconcileReport()
        for attempt in range(1, self.options.start_reconcile_attempts + 1):
            report = await scheduler.run_direct("start")
            if report.clean:
                return
            if report.only_differences:
                # Start, blocked: the operator reviews the differences (snapshot "reconcile")
                # and accepts them with Reconcile {"accept": true}, or investigates.
                log.warning("start-up reconciliation found differences: %s", report.summary())
                return
            if attempt < self.options.start_reconcile_attempts:
                await asyncio.sleep(self.options.reconcile_retry_s)  # backoff before retrying
        raise EngineStartError(
            f"start-up reconciliation was not clean after {self.options.start_reconcile_attempts} "
            f"attempt(s): {report.summary()}"
        )

    async def stop(self) -> None:
        """Graceful stop: streams closed, journal flushed and closed; orders stay as they are."""
        if self._stopping:
            await self.stopped.wait()
            return
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stopping = True
        await self._tasks.close()
        if self._scheduler is not None:
            self._scheduler.cancel_waiters("the engine stopped")
        try:
            await self._venue.close()
        except Exception:
            log.exception("closing the venue failed")
        journal = self._journal
        if journal is not None:
            if self._parts is not None:
                self._parts.pipeline.write_orders()  # rows still waiting for this loop pass
                try:
                    await journal.flush()
                except JournalError as error:
                    log.warning("journal flush at stop failed: %s", error)
                self._parts.pipeline.hub.close()
            await journal.close()
        self.stopped.set()

    # -- the client interface ------------------------------------------------------------------

    async def snapshot(self) -> dict[str, Any]:
        parts = self.parts
        # Every event the state includes is journaled first (a failed journal is reported).
        with contextlib.suppress(JournalError):
            await parts.journal.flush()
        assert self._risk is not None
        risk = await self._risk.snapshot_json()
        snapshot = build_snapshot(
            parts,
            seq=parts.pipeline.hub.last_seq,
            last_reconcile=dict(self._last_reconcile),
            risk=risk,
        )
        if self._protection is not None:
            self._protection.annotate(snapshot)  # each position's protection
        if self._preflight is not None:
            self._preflight.annotate(snapshot)  # `preflight` and `live`
        if self._breaker is not None:
            snapshot["circuit_breaker"] = self._breaker.to_json()
        if self._maintenance is not None:
            snapshot["maintenance"] = self._maintenance.to_json()
        if self._housekeeper is not None:
            snapshot["housekeeping"] = self._housekeeper.memory_json()
        return snapshot

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        return self.parts.pipeline.hub.stream(since_seq)

    async def command(self, name: CommandName, args: Mapping[str, Any]) -> CommandResult:
        """Run one command as this process's operator (the in-process client)."""
        return await self.command_from(self._operator, name, args)

    async def command_from(
        self, operator: Operator, name: CommandName, args: Mapping[str, Any]
    ) -> CommandResult:
        """Run one command for `operator` and audit it (the control server passes its client's
        operator); the result returns once the audit row is durable."""
        received_at = self._clock.now()
        result = await self._command(name, args)
        await self.record_action(operator, name, args, result, received_at=received_at)
        return result

    async def record_action(
        self,
        operator: Operator,
        name: CommandName | str,
        args: Mapping[str, Any],
        result: CommandResult,
        *,
        received_at: datetime,
    ) -> None:
        """Audit an operator action handled before this engine could (the LIVE gate's
        confirmation); `command_from` audits every command it runs."""
        if self._audit is not None and not self.stopped.is_set():
            await self._audit.record(operator, name, args, result, received_at=received_at)

    async def _command(self, name: CommandName, args: Mapping[str, Any]) -> CommandResult:
        if self._parts is None or self._stopping:
            return CommandResult(Outcome.REFUSED, "the engine is not running")
        try:
            command = CommandName(name)
        except ValueError:
            return CommandResult(Outcome.USAGE, f"unknown command {str(name)[:40]!r}")
        try:
            return await self._dispatch(command, args)
        except Exception as error:
            log.exception("command %s failed", name)
            self._trading.halt(f"internal error in {name}: {type(error).__name__}: {error}")
            return CommandResult(
                Outcome.REFUSED, f"internal error ({type(error).__name__}); trading halted"
            )

    async def _dispatch(self, name: CommandName, args: Mapping[str, Any]) -> CommandResult:
        orders, cancels = self._orders, self._cancels
        assert orders is not None and cancels is not None
        if name is CommandName.SUBMIT_ORDER:
            if self._protection is not None:  # stop_loss / take_profit arm on the entry's fill
                return await self._protection.submit_entry(with_sizing_stop(args), orders.submit)
            return await orders.submit(args)
        if name is CommandName.CANCEL_ORDER:
            return await cancels.cancel(args)
        if name is CommandName.CANCEL_ALL_ORDERS:
            return await cancels.cancel_all(args)
        if name is CommandName.CLOSE_POSITION:
            return await orders.close_position(args)
        if name in (CommandName.HALT, CommandName.ARM, CommandName.REDUCE):
            if name is CommandName.ARM and self._preflight is not None:
                refused = await self._preflight.before_arm()  # re-runs the failing checks
                if refused is not None:
                    return refused
            result = await self._trading.command(name, args)
            if result.outcome is Outcome.OK and self._breaker is not None:
                if name is CommandName.ARM:
                    self._breaker.reset()  # the operator's arm closes the circuit breaker
                elif name is CommandName.HALT:
                    self._breaker.operator_halted()  # ... and only it, after their halt
            return result
        if name is CommandName.EMERGENCY_STOP:
            assert self._emergency is not None
            with essential_requests():  # its queries never wait behind the throttle
                return await self._emergency.command(args)
        if name is CommandName.SET_PROTECTION and self._protection is not None:
            return await self._protection.set(args)
        if name is CommandName.CLEAR_PROTECTION and self._protection is not None:
            return await self._protection.clear(args)
        if name is CommandName.RECONCILE:
            assert self._scheduler is not None and self._reconciler is not None
            if args.get("accept") is True:  # take the exchange's side of each difference
                self._reconciler.accept_next = True
            wait = self._reconcile_budget_wait()
            if wait > _LONGEST_RECONCILE_WAIT_S:  # a ban or a pause: do not hold the command
                self._scheduler.request("operator")
                return CommandResult(
                    Outcome.REFUSED,
                    f"the rate budget has no room for a reconciliation for {wait:.0f} s "
                    f"({self._venue.budget.state.value}); it runs by itself then",
                )
            report = await self._scheduler.run_now("operator")
            outcome = Outcome.OK if report.clean else Outcome.VENUE
            data: dict[str, Any] = {"clean": report.clean}
            if report.differences or report.accepted:  # for the operator to review
                data.update(differences=report.differences, accepted=report.accepted)
            return CommandResult(outcome, report.summary(), data)
        if name is CommandName.STOP_ENGINE:
            if self._stopper is None:
                self._stopper = asyncio.create_task(self.stop(), name="engine-stop")
                self._stopper.add_done_callback(_log_stop_failure)
            return CommandResult(Outcome.OK, "the engine is stopping; open orders stay as they are")
        return CommandResult(Outcome.USAGE, f"unknown command {name}")

    # -- reconciliation ------------------------------------------------------------------------

    async def _reconcile_once(self, trigger: str) -> ReconcileReport:
        assert self._reconciler is not None
        report = await self._reconciler.run()
        self._last_reconcile = {
            "last_at": self._clock.now().isoformat(),
            "last_clean": report.clean,
            "last_summary": report.summary(),
            "last_differences": report.differences,
        }
        if self._parts is not None:
            self._parts.pipeline.emit(ReconcileFinished(trigger, report.clean, report.summary()))
        if self._protection is not None and self._started:
            self._protection.observe()
        return report

    async def _refresh_rules(self) -> None:
        """After a -1013 filter failure (E9), and periodically: the venue's rules and symbol
        statuses may have changed (the maintenance monitor folds them in)."""
        if self._maintenance is not None:
            await self._maintenance.refresh_rules()

    # -- stream callbacks ----------------------------------------------------------------------

    def _on_user_event(self, raw: dict[str, Any]) -> None:
        parts = self._parts
        if parts is None or self._stopping:
            return
        try:
            update = parse_user_event(raw)
        except (MalformedPayload, ValueError, TypeError, KeyError) as error:
            parts.pipeline.emit(EngineAlarm("malformed_event", str(error)[:300]))
            return
        try:
            if isinstance(update, ExecutionUpdate):
                fills = () if update.fill is None else (update.fill,)
                parts.pipeline.apply(update.status, fills)
            elif isinstance(update, AccountPosition):
                parts.pipeline.apply_balances(update.balances)
            if parts.watch and self._settler is not None:
                self._settler.observe()  # a watched order the stream reports: adopted late
            if self._protection is not None and self._started:
                self._protection.observe()
        except Exception as error:
            log.exception("applying a user stream event failed")
            name = type(error).__name__
            self._trading.halt(f"internal error on a user stream event: {name}: {error}")

    def _on_stream_status(self, status: StreamStatus) -> None:
        if status.stream == "user":
            if status.health is StreamHealth.CONNECTED:
                self._gate.user_stream_problem = None
                first = not self._user_connected.is_set()
                self._user_connected.set()
                if first and self._started and self._scheduler is not None:
                    # Connected only after the start-up run: what happened before is a gap.
                    self._scheduler.request("user stream connected late", blocking=True)
            else:
                self._gate.user_stream_problem = (
                    f"the user stream is {status.health.value}: {status.reason}"
                )
                if self._parts is not None and not self._stopping and not status.planned:
                    self._parts.pipeline.emit(
                        EngineAlarm(
                            "user_stream",
                            f"the user stream is {status.health.value} ({status.reason}); "
                            "reconnecting, polling over REST meanwhile",
                        )
                    )
        parts = self._parts
        if parts is not None and not self._stopping:
            parts.pipeline.emit(
                StreamHealthChanged(status.stream, status.health.value, status.reason)
            )

    def _on_gap(self, gap: StreamGap) -> None:
        if self._scheduler is not None and not self._stopping:
            self._scheduler.request(f"{gap.stream} stream gap ({gap.reason})", blocking=True)


def _log_stop_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("stopping the engine failed", exc_info=task.exception())


# -- building one ------------------------------------------------------------------------------


def make_engine(
    settings: Settings,
    *,
    account: str = DEFAULT_ACCOUNT,
    clock: Clock | None = None,
    seed: int | None = None,
    venue_options: VenueOptions | None = None,
    emergency: EmergencyBounds | None = None,
    **options: Any,
) -> Engine:
    """An engine for `settings` with the real venue, journal and clock; nothing is opened
    until `start()`. `options` set EngineOptions fields (symbols, intervals...). SIM mode needs
    `settings.sim_url`: whoever starts the engine finds or starts the embedded exchange first.
    """
    if settings.mode is Mode.SIM and settings.sim_url is None:
        raise ValueError("SIM mode needs SPOTDESK_SIM_URL: the embedded exchange's address")
    used_clock = clock or SystemClock()
    venue = BinanceVenue(
        endpoints_for(settings.mode, settings.sim_url),
        credentials_from(settings),
        clock=used_clock,
        options=venue_options or VenueOptions(),
    )
    engine_options = dataclasses.replace(
        EngineOptions(mode=settings.mode.value, account=account), **options
    )
    path = journal_path(settings, account)

    async def open_journal() -> Journal:
        return await Journal.open(
            path, mode=settings.mode.value, account=account, clock=used_clock.now
        )

    return Engine(
        venue=venue,
        open_journal=open_journal,
        clock=used_clock,
        rng=random.Random(seed),
        options=engine_options,
        limits=settings.risk,
        emergency=emergency,
        protection=settings.protection,
        preflight=EnginePreflight(
            settings, venue, clock=used_clock, ed25519=settings.private_key_file is not None
        ),
        breaker=settings.breaker,
        housekeeping=settings.housekeeping,
    )


async def build_engine(settings: Settings, **options: Any) -> Engine:
    """`make_engine(settings, **options)`, started (reconciled and ready for commands)."""
    engine = make_engine(settings, **options)
    await engine.start()
    return engine
