"""One seeded swarm run: an engine on the in-process exchange, a random workload under a random
fault profile, then quiesce, a full reconcile and the invariants.

Everything random comes from the seed (the workload, the faults, the exchange, the engine's own
RNG) and time is virtual (`swarm_loop`), so a seed replays byte for byte: `run_seed` returns the
digest of the action log, the journal's events and the exchange's final state (I8).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import shutil
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from swarm_checks import CoreSim, assert_i1_to_i5, digest, journal_lines
from swarm_faults import FaultProfile, Faults, draw_profile
from swarm_loop import Disk, RunStuck, VirtualClock, VirtualTimeLoop, inline_sqlite
from swarm_port import SendLog, SimPort
from swarm_workload import Workload

from engine.journal import Journal
from engine.risk import TradingState
from engine.service.api import CommandName, CommandResult
from engine.service.assembly import EngineStartError
from engine.service.engine import Engine
from engine.service.options import EngineOptions
from engine.sim.core.exchange import Exchange

EPOCH = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
VIRTUAL_LIMIT_S = 200_000.0  # a run that needs more virtual time than this never settles
COMMAND_LIMIT_S = 900.0  # virtual seconds one operator command may take
START_ATTEMPTS = 3
QUIET_S = 30.0  # virtual time let pass after the faults end, before the final reconcile
DEFAULT_ACTIONS = 200  # RELIABILITY.md 4: nightly runs take at least 200 actions each


def replay_command(seed: int, actions: int) -> str:
    """The command that runs this seed again, alone, printing its action log."""
    return f"python -m tests.swarm --seeds 1 --start {seed} --actions {actions} --verbose"


class SwarmFailure(AssertionError):
    """An invariant broke, or the engine hung or logged an error; the message says which."""


@dataclass
class SeedResult:
    """How one seed ended: its digest (I8; empty when it failed), what it ran, what broke."""

    seed: int
    digest: str
    profile: str
    actions: int
    restarts: int
    log: list[str]
    fault_counts: dict[str, int]
    failure: str | None = None
    virtual_s: float = 0.0
    error_logs: int = 0  # ERROR records without an exception: alarms the engine raised
    orders: int = 0  # at the exchange, when the run ended (the desk's and the others')
    trades: int = 0


class _ErrorLog(logging.Handler):
    """Collects what the engine logs at ERROR or above; those carrying an exception are
    internal failures (a bug), the others alarms it raised on purpose (a breaker opening)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[str] = []
        self.alarms: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.failures.append(f"{text}: {type(error).__name__}: {error}")
        else:
            self.alarms.append(text)


@contextlib.contextmanager
def _engine_errors() -> Iterator[_ErrorLog]:
    """The engine's logs go to the run's judge only: hundreds of seeds' warnings would bury the
    one failure report that matters (its replay command prints the run's own log)."""
    handler = _ErrorLog()
    logger = logging.getLogger("engine")
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield handler
    finally:
        logger.propagate = propagate
        logger.removeHandler(handler)


def _scratch_root() -> str | None:
    """tmpfs when there is one: the journal's fsyncs cost nothing there."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


Script = Callable[["SwarmRun"], Awaitable[None]]


def run_seed(
    seed: int,
    actions: int,
    *,
    script: Script | None = None,
    profile: FaultProfile | None = None,
    port_class: type[SimPort] = SimPort,
    options: dict[str, Any] | None = None,
) -> SeedResult:
    """Run one seed to the end in a fresh virtual-time loop; never raises for a finding (the
    result's `failure` says what broke). `script` replaces the random workload (a scenario
    written out by hand), `profile` the seed's faults, `options` some EngineOptions fields;
    `port_class` lets a test plant a misbehaving venue."""
    directory = Path(tempfile.mkdtemp(prefix="swarm-", dir=_scratch_root()))
    loop = VirtualTimeLoop(limit_s=VIRTUAL_LIMIT_S)
    try:
        with inline_sqlite() as disk, _engine_errors() as errors:
            run = SwarmRun(seed, actions, directory / "journal" / "swarm.db", loop, profile)
            run.disk = disk
            run.script, run.port_class = script, port_class
            run.options = dataclasses.replace(run.options, **(options or {}))
            try:
                loop.run_until_complete(run.main())
            except Exception as error:  # any escape is a finding: report it with the seed
                run.failure = _describe(error)
            if run.failure is None and errors.failures:
                run.failure = "the engine failed inside: " + " | ".join(errors.failures[:5])
            run.alarms = len(errors.alarms)
            if run.failure is not None:
                loop.lift_limit()
                loop.run_until_complete(run.abandon())
        return run.result()
    finally:
        _close(loop)
        shutil.rmtree(directory, ignore_errors=True)


def _close(loop: VirtualTimeLoop) -> None:
    loop.lift_limit()
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


class SwarmRun:
    """The world of one seed: the exchange core, its account, the faults, the current engine."""

    def __init__(
        self,
        seed: int,
        actions: int,
        journal: Path,
        loop: VirtualTimeLoop,
        profile: FaultProfile | None = None,
    ) -> None:
        self.seed = seed
        self.actions = actions
        self.journal = journal
        self.loop = loop
        self.clock = VirtualClock(loop, EPOCH)
        self.core = Exchange(clock=self.clock, seed=seed)
        drawn = draw_profile(random.Random(f"{seed}:profile"))
        self.faults = Faults(profile or drawn, random.Random(f"{seed}:faults"))
        self.core.configure({"visibility_lag_ms": self.faults.profile.visibility_lag_ms})
        self.workload = Workload(self, random.Random(f"{seed}:workload"))
        self.account_id = self.core.create_account(self.workload.opening_balances())
        self.sends = SendLog(on_create=self._judge_create)
        self.engine: Engine | None = None
        self.port: SimPort | None = None
        self.options = self._options(random.Random(f"{seed}:options"))
        self.log: list[str] = [f"profile: {self.faults.profile.describe()}"]
        self.violations: list[str] = []
        self.failure: str | None = None
        self.alarms = 0
        self.orders = self.trades = 0
        self.starts = 0
        self._inflight: list[asyncio.Task[None]] = []
        self._waiters: list[asyncio.Task[None]] = []
        self._digest = ""
        self.script: Script | None = None
        self.port_class: type[SimPort] = SimPort
        self.disk = Disk()

    def _options(self, rng: random.Random) -> EngineOptions:
        return EngineOptions(
            mode="sim",
            account="swarm",
            symbols=SYMBOLS,
            reconcile_interval_s=rng.choice((None, 5.0, 30.0)),
            reconcile_retry_s=rng.choice((0.2, 1.0)),
            settle_delays_s=rng.choice(((0.0, 0.1, 0.2, 0.4), (0.0, 0.25, 0.5, 1.0, 2.0, 4.0))),
            start_reconcile_attempts=3,
            stream_connect_timeout_s=2.0,
            market_data=False,
        )

    # -- the engine's life ---------------------------------------------------------------------

    def _new_engine(self) -> Engine:
        from engine_testkit import WIDE_LIMITS  # on sys.path through swarm_checks

        self.starts += 1
        port = self.port_class(
            self.core, self.account_id, clock=self.clock, faults=self.faults, sends=self.sends
        )
        path, clock = self.journal, self.clock

        async def open_journal() -> Journal:
            return await Journal.open(path, mode="sim", account="swarm", clock=clock.now)

        self.port = port
        return Engine(
            venue=port,
            open_journal=open_journal,
            clock=clock,
            rng=random.Random(f"{self.seed}:engine:{self.starts}"),
            options=self.options,
            limits=WIDE_LIMITS,
        )

    async def start_engine(self) -> None:
        """Start, as an operator would: again after a refusal; after three, with the network
        fixed for the start (a start that keeps failing under faults is correct, R5)."""
        for attempt in range(1, START_ATTEMPTS + 2):
            engine = self._new_engine()
            self.disk.full = False  # the new engine's connections find space
            calm = attempt > START_ATTEMPTS
            was_active = self.faults.active
            if calm:
                self.faults.active = False
            try:
                await self._bounded(engine.start(), "start")
            except EngineStartError as error:
                self.note(f"start {attempt} refused: {error}")
                if calm:
                    message = f"the engine does not start without faults: {error}"
                    raise SwarmFailure(message) from None
                continue
            finally:
                self.faults.active = was_active
            self.engine = engine
            self.note(f"engine started (attempt {attempt})")
            return

    async def restart(self) -> None:
        await self.drain()
        engine = self.engine
        assert engine is not None
        self.engine = None
        await self._bounded(engine.stop(), "stop")
        await self.start_engine()

    async def abandon(self) -> None:
        """After a failure: stop whatever runs, without judging it."""
        for task in self._inflight:
            task.cancel()
        engine, self.engine = self.engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(engine.stop(), 60)

    async def _bounded(self, work: Awaitable[Any], what: str) -> Any:
        try:
            return await asyncio.wait_for(work, COMMAND_LIMIT_S)
        except TimeoutError:
            raise SwarmFailure(f"{what} did not finish in {COMMAND_LIMIT_S:g} s") from None

    # -- operator commands ---------------------------------------------------------------------

    def note(self, line: str) -> None:
        self.log.append(f"[{self.loop.time():10.3f}] {line}")

    def command(self, name: CommandName, args: dict[str, Any], *, wait: bool = True) -> None:
        """Send a command; `wait=False` leaves it running beside the next actions."""
        engine = self.engine
        assert engine is not None
        label = f"{name.value} {_brief(args)}"

        async def send() -> None:
            result: CommandResult = await self._bounded(engine.command(name, args), label)
            self.note(f"{label} -> {result.outcome.value}: {result.message}")
            self.workload.observe(result)

        task = self.loop.create_task(send())
        self._inflight.append(task)
        if wait:
            self._waiters.append(task)

    async def settle_commands(self, *, all_of_them: bool) -> None:
        tasks = self._inflight if all_of_them else self._waiters
        self._waiters = []
        if all_of_them:
            self._inflight = []
        else:
            self._inflight = [t for t in self._inflight if not t.done()]
        for task in tasks:
            await task  # a SwarmFailure inside ends the run

    async def drain(self) -> None:
        await self.settle_commands(all_of_them=True)

    @property
    def running(self) -> int:
        return sum(1 for task in self._inflight if not task.done())

    def _judge_create(self, client_order_id: str) -> None:
        """I6 and R1 at the moment a create reaches the exchange side."""
        engine = self.engine
        if engine is None:
            self.violations.append(f"I6: {client_order_id} sent while no engine runs")
            return
        gate = engine.parts.gate
        if gate.state is TradingState.HALTED:
            self.violations.append(f"I6: {client_order_id} sent while HALTED ({gate.reason})")
        if engine.parts.book.get(client_order_id) is None:
            self.violations.append(f"R1: {client_order_id} sent before its intent was booked")

    # -- the run -------------------------------------------------------------------------------

    async def main(self) -> None:
        await self.start_engine()
        if self.script is not None:
            await self.script(self)
        for index in range(0 if self.script else self.actions):
            await self.workload.step(index)
            await self.settle_commands(all_of_them=False)
        await self.drain()
        await self.final_check()

    async def final_check(self) -> None:
        self.quiesce_faults()
        engine = self.engine
        assert engine is not None
        if self.disk.full or engine.parts.journal.failure is not None:
            self.note("restart: the journal's disk was full")  # the operator frees it, restarts
            await self.restart()
            engine = self.engine
            assert engine is not None
        await asyncio.sleep(QUIET_S)
        await assert_i1_to_i5(engine, CoreSim(self.core, self.quiesce_faults), self.account_id)
        if self.sends.resent:
            self.violations.append(f"R3: creates sent again: {sorted(set(self.sends.resent))}")
        if self.violations:
            raise SwarmFailure("; ".join(self.violations))
        journal = await journal_lines(engine)
        truth = self.core.oracle(self.account_id)
        self.orders, self.trades = len(truth["orders"]), len(truth["trades"])
        self._digest = digest((self.log, journal, [_canonical(truth)]))
        self.engine = None
        await self._bounded(engine.stop(), "stop")

    def quiesce_faults(self) -> None:
        """Every fault off: requests and events go through, a stalled stream is noticed now,
        queries see every order at once."""
        self.faults.clear()
        port = self.port
        user = port.user if port is not None else None
        if user is not None:
            user.flush_held()
            user.release()
        self.core.configure({"visibility_lag_ms": 0})

    def result(self) -> SeedResult:
        return SeedResult(
            seed=self.seed,
            digest=self._digest,
            profile=self.faults.profile.describe(),
            actions=self.actions,
            restarts=self.starts - 1,
            log=self.log,
            fault_counts=dict(self.faults.counts),
            failure=self.failure,
            virtual_s=self.loop.time(),
            error_logs=self.alarms,
            orders=self.orders,
            trades=self.trades,
        )


def _brief(args: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in args.items() if k != "reason")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _describe(error: BaseException) -> str:
    """The error and, for a bare assert, where it failed."""
    text = f"{type(error).__name__}: {error}"
    if str(error) and isinstance(error, AssertionError | RunStuck):
        return text
    frames = traceback.extract_tb(error.__traceback__)
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.line}" for f in frames[-3:])
    return f"{text} at {where}"
