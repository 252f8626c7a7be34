"""Helpers for the unknown-outcome, cancel and reconcile fault tests: an engine with a fast
proof-of-absence policy, other venue options, faults the sim has no knob for (a refused
connect, a truncated reply) injected into the real client's aiohttp session, and event lookups.

Imported by name (this folder is on sys.path under pytest).
"""

from __future__ import annotations

import dataclasses
import pathlib
import random
from collections.abc import Callable
from typing import Any

import aiohttp
from engine_testkit import SimAccount, engine_for, settings_for

from engine.config import Mode
from engine.journal import Journal
from engine.journal.connection_thread import run_in_connection_thread
from engine.service.absence import AbsencePolicy
from engine.service.engine import Engine, make_engine
from engine.service.profile import credentials_from, journal_path
from engine.sim.runner import SimServer
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.endpoints import endpoints_for
from engine.venue.timing import SystemClock

BTC = "BTCUSDT"
ORDER_PATH = "/api/v3/order"

# The policy with every wait shrunk so a test proves absence in well under a second.
FAST_ABSENCE = AbsencePolicy(
    api_timeout_s=0.05,
    margin_s=0.05,
    not_found_needed=3,
    query_interval_s=0.02,
    recv_window_s=0.05,
    visibility_grace_s=0.5,
)


def fault_engine(
    sim: SimServer,
    account: SimAccount,
    data_dir: pathlib.Path,
    *,
    venue: VenueOptions | None = None,
    **options: Any,
) -> Engine:
    """`engine_for` with the fast absence policy (unless `absence` is given) and, when given,
    other venue options."""
    options.setdefault("absence", FAST_ABSENCE)
    if venue is None:
        return engine_for(sim, account, data_dir, **options)
    base = engine_for(sim, account, data_dir, **options).options  # the same defaults
    fields = {
        f.name: getattr(base, f.name)
        for f in dataclasses.fields(base)
        if f.name not in ("mode", "account")
    }
    return make_engine(settings_for(sim, account, data_dir), seed=3, venue_options=venue, **fields)


# -- a journal that can be made to fail ------------------------------------------------------------


class BreakableJournal(Journal):
    """The real journal; `fail_writes` makes SQLite itself refuse every later write on the
    writer's connection (query_only), which the writer meets exactly as a full disk or an I/O
    error: the batch fails and the journal refuses every later write."""

    async def fail_writes(self) -> None:
        await run_in_connection_thread(
            self._write_conn, lambda db: db.execute("PRAGMA query_only = ON")
        )


def breakable_engine(
    sim: SimServer, account: SimAccount, data_dir: pathlib.Path, **options: Any
) -> tuple[Engine, list[BreakableJournal]]:
    """`fault_engine`'s engine on a `BreakableJournal` (the list receives it once started)."""
    options.setdefault("absence", FAST_ABSENCE)
    base = engine_for(sim, account, data_dir, **options).options
    settings = settings_for(sim, account, data_dir)
    clock = SystemClock()
    opened: list[BreakableJournal] = []

    async def open_journal() -> Journal:
        journal = await BreakableJournal.open(
            journal_path(settings, base.account), mode="sim", account=base.account
        )
        opened.append(journal)
        return journal

    venue = BinanceVenue(
        endpoints_for(Mode.SIM, sim.url),
        credentials_from(settings),
        clock=clock,
        options=VenueOptions(request_timeout_s=3.0, close_timeout_s=2.0),
    )
    engine = Engine(
        venue=venue,
        open_journal=open_journal,
        clock=clock,
        rng=random.Random(3),
        options=base,
        limits=settings.risk,
    )
    return engine, opened


# -- faults injected into the client's own HTTP session -----------------------------------------

Match = Callable[[str, str], bool]


def is_create(method: str, path: str) -> bool:
    return method == "POST" and path == ORDER_PATH


class ClientFaults:
    """Armed faults for the next matching requests of the engine's REST session: `refusals`
    fail the connect (nothing was sent); `truncations` cut the reply body in half, or to
    nothing when `blank` (the request was served either way)."""

    def __init__(self) -> None:
        self.refusals = 0
        self.truncations = 0
        self.blank = False
        self.refused: list[str] = []
        self.match: Match = is_create

    def session_params(self) -> dict[str, Any]:
        faults = self

        class Connector(aiohttp.TCPConnector):
            async def _create_connection(
                self, req: aiohttp.ClientRequest, *args: Any, **kwargs: Any
            ) -> Any:
                if faults.refusals and faults.match(req.method, req.url.path):
                    faults.refusals -= 1
                    faults.refused.append(req.url.path)
                    raise aiohttp.ClientConnectorError(
                        req.connection_key, ConnectionRefusedError(111, "Connection refused")
                    )
                return await super()._create_connection(req, *args, **kwargs)

        class Response(aiohttp.ClientResponse):
            async def read(self) -> bytes:
                body = await super().read()
                if faults.truncations and faults.match(self.method, self.url.path):
                    faults.truncations -= 1
                    self._body = b"" if faults.blank else body[: len(body) // 2]
                return self._body or b""

        # A fresh connection per request, so a refusal can hit any of them.
        return {"connector": Connector(force_close=True), "response_class": Response}


# -- reading the engine's events ----------------------------------------------------------------


async def journal_events(engine: Engine, name: str | None = None) -> list[dict[str, Any]]:
    """Every journaled event (of type `name`), oldest first, as payloads."""
    await engine.parts.journal.flush()
    found: list[dict[str, Any]] = []
    seq = 0
    while rows := await engine.parts.journal.events_since(seq, 1000):
        found += [dict(r.payload) for r in rows if name is None or r.type == name]
        seq = rows[-1].seq
    return found


async def alarms(engine: Engine, kind: str) -> list[str]:
    """The messages of the EngineAlarm events of `kind`."""
    return [e["message"] for e in await journal_events(engine, "EngineAlarm") if e["kind"] == kind]


def watch_entry(snapshot: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((dict(w) for w in snapshot["watch_list"] if w["client_order_id"] == cid), None)


async def exchange_orders(sim: SimServer, account: SimAccount) -> list[dict[str, Any]]:
    return list((await sim.admin.oracle(account.account_id))["orders"])
