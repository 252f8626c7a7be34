"""The engine as its own process, armed at one failpoint, against the embedded exchange running in
the test's process: start it, drive it over its control socket, see it die by SIGKILL at that
point, then restart the engine (in the test's process, on the same journal and exchange) to check
the invariants with the shared I1-I5 checker (`tests/engine/faults/invariants.py`).

Imported by name (the folder's conftest puts it on sys.path).
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cli_testkit import cli_env
from engine_testkit import SimAccount, engine_for, started

from engine.core.failpoints import ENV_VAR
from engine.journal import Journal
from engine.service.api import CommandName, CommandResult
from engine.service.control_client import SocketEngineClient
from engine.service.control_paths import InstancePaths
from engine.service.engine import Engine
from engine.sim.runner import SimServer

BTC = "BTCUSDT"
PRICE = "50000"  # BTCUSDT's price at the start of every test
READY = re.compile(r"spotdesk engine: running, pid (\d+), mode sim, account default\n")
START_TIMEOUT_S = 60.0
DEATH_TIMEOUT_S = 30.0

# The orders the tests place, all BUY at a 50,000 market, and what each one is at the exchange
# once placed: the LIMIT and the LIMIT_MAKER rest below the market, the MARKET fills at once, and
# the `partial` LIMIT takes the 0.39999 BTC offered at 50,000.01 and rests for the rest.
ORDERS: dict[str, dict[str, str]] = {
    "limit": {"type": "limit", "quantity": "0.01", "price": "40000"},
    "market": {"type": "market", "quantity": "0.01"},
    "limit_maker": {"type": "limit_maker", "quantity": "0.01", "price": "45000"},
    "partial": {"type": "limit", "quantity": "1", "price": "50000.01"},
}
PLACED_STATUS = {
    "limit": "NEW",
    "market": "FILLED",
    "limit_maker": "NEW",
    "partial": "PARTIALLY_FILLED",
}
PARTIAL_QTY = Decimal("0.39999")
FUNDS = {"USDT": "60000"}


def order_args(kind: str) -> dict[str, str]:
    return {"symbol": BTC, "side": "BUY", **ORDERS[kind]}


@dataclass
class ArmedEngine:
    """A running engine process (`python -m engine.service`) armed at `failpoint`."""

    failpoint: str
    process: asyncio.subprocess.Process
    data_dir: pathlib.Path
    log: pathlib.Path
    client: SocketEngineClient

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        return await self.client.command(name, args)

    async def submit(self, kind: str) -> CommandResult:
        return await self.command(CommandName.SUBMIT_ORDER, order_args(kind))

    async def killed(self) -> None:
        """Wait for the process to end and prove the armed failpoint killed it."""
        try:
            await asyncio.wait_for(self.process.wait(), DEATH_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(
                f"the engine armed at {self.failpoint} is still alive; its log:\n{self.tail()}"
            ) from None
        assert self.process.returncode == -signal.SIGKILL, self.tail()
        name, _, count = self.failpoint.partition("@")
        said = f"failpoint {name}@{count or 1} hit: SIGKILL\n"
        assert said in self.log.read_text(), self.tail()

    async def kill(self) -> None:
        """SIGKILL from outside, at whatever instant the test chose."""
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), DEATH_TIMEOUT_S)
        assert self.process.returncode == -signal.SIGKILL

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text() if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@asynccontextmanager
async def armed_engine(
    sim: SimServer,
    account: SimAccount,
    base: pathlib.Path,
    failpoint: str,
    *,
    ready: bool = True,
) -> AsyncIterator[ArmedEngine]:
    """Start an engine process trading as `account`, armed at `failpoint`, with its data in
    `base` (a second one there restarts the first's journal), and wait until its control socket
    answers (reconciled) unless `ready` is False (it is to die while starting). The process is
    killed on the way out if the failpoint did not do it."""
    if ready:
        await sim.admin.set_price(BTC, PRICE)
    data_dir = base / "data"
    env = cli_env(
        data_dir,
        SPOTDESK_SIM_URL=sim.url,
        SPOTDESK_API_KEY=account.api_key,
        SPOTDESK_API_SECRET=account.api_secret,
        **{ENV_VAR: failpoint},
    )
    log = base / f"engine-{failpoint}.log"
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.service",
            env=env,
            cwd=base,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    socket = InstancePaths.of(data_dir, "sim", "default").socket
    armed = ArmedEngine(failpoint, process, data_dir, log, SocketEngineClient(socket))
    try:
        if ready:
            assert process.stdout is not None
            try:
                first = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
            except TimeoutError:
                first = b""
            assert READY.fullmatch(first.decode()), f"not ready: {first!r}\n{armed.tail()}"
        yield armed
    finally:
        await armed.client.close()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


@asynccontextmanager
async def restarted(
    sim: SimServer, account: SimAccount, armed: ArmedEngine
) -> AsyncIterator[Engine]:
    """The engine again, unarmed, in this process, on the dead one's journal and exchange, with
    the process's symbols (every one the exchange trades); started means reconciled."""
    engine = engine_for(sim, account, armed.data_dir, symbols=None)
    async with started(engine) as running:
        yield running


async def journaled_ids(engine: Engine) -> list[str]:
    """Every client order id the journal has an order row for, in id order."""
    await engine.parts.journal.flush()
    return sorted([row.client_order_id async for row in engine.parts.journal.iter_orders()])


async def exchange_orders(sim: SimServer, account: SimAccount) -> list[tuple[str, str, Decimal]]:
    """(client order id, status, executed quantity) of every order the account ever placed."""
    oracle = await sim.admin.oracle(account.account_id)
    return [
        (str(o["clientOrderId"]), str(o["status"]), Decimal(o["executedQty"]))
        for o in oracle["orders"]
        if int(o.get("accountId", account.account_id)) == account.account_id
    ]


async def state_of(engine: Engine, cid: str) -> str:
    """The order's state as the engine knows it (book, recently settled or journal)."""
    order = engine.parts.find_order(cid)
    if order is not None:
        return order.state.value
    row = await engine.parts.journal.order(cid)
    assert row is not None, f"{cid} is unknown to the engine"
    return row.state


@dataclass(frozen=True)
class Leftover:
    """What a dead engine's journal holds: unsettled intents, each order row's (state, exchange
    order id, cancel requested), and the fill rows per client order id."""

    intents: tuple[str, ...]
    orders: dict[str, tuple[str, int | None, bool]]
    fills: dict[str, int]


async def leftover(armed: ArmedEngine) -> Leftover:
    """Read the dead engine's journal as the restart will find it (opening it is a restart's
    first step too)."""
    path = InstancePaths.of(armed.data_dir, "sim", "default").directory / "journal.sqlite"
    journal = await Journal.open(path, mode="sim", account="default")
    try:
        loaded = await journal.load(recent_terminal_orders=0)
        orders = {
            row.client_order_id: (
                row.state,
                row.payload.get("order_id"),
                bool(row.payload.get("cancel_requested")),
            )
            async for row in journal.iter_orders()
        }
        fills: dict[str, int] = {}
        async for fill in journal.iter_fills():
            fills[fill.client_order_id] = fills.get(fill.client_order_id, 0) + 1
    finally:
        await journal.close()
    return Leftover(tuple(i.client_order_id for i in loaded.unsettled_intents), orders, fills)


async def until_journaled(
    armed: ArmedEngine, where: str, *args: object, timeout_s: float = 10.0
) -> str:
    """Wait until the running engine has committed one order row matching the SQL condition
    `where` (on the `orders` table); its client order id. Reads the journal file read-only
    beside the engine (SQLite WAL readers never block the writer)."""
    path = InstancePaths.of(armed.data_dir, "sim", "default").directory / "journal.sqlite"

    def read() -> list[str]:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            query = f"SELECT client_order_id FROM orders WHERE {where}"
            return [str(row[0]) for row in conn.execute(query, args)]

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await asyncio.to_thread(read) if path.exists() else []
        if found:
            (cid,) = found
            return cid
        assert loop.time() < deadline, f"no order row where {where} after {timeout_s:g} s"
        assert armed.process.returncode is None, f"the engine died first:\n{armed.tail()}"
        await asyncio.sleep(0.02)
