"""The swarm's oracles: I1-I5 through the fault tests' shared checker, pointed at the core, and
the run's digest for I8 (same seed, same event log).

`tests/engine/faults/invariants.py` checks I1-I5 against a running embedded exchange's admin
API; `CoreSim` answers the few admin calls it makes from the in-process core instead, so the
swarm and the scenario tests judge by one definition of each invariant.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

from engine.service.engine import Engine
from engine.sim.core.exchange import Exchange

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "engine" / "faults"))

import invariants
from engine_testkit import (
    SimAccount,
    engine_balances,
    journal_fills,
    oracle_balances,
    oracle_fills,
)


class _CoreAdmin:
    """The admin calls `invariants` makes, answered by the core and the run's fault switches."""

    def __init__(self, core: Exchange, quiesce_faults: Callable[[], None]) -> None:
        self._core = core
        self._quiesce_faults = quiesce_faults

    async def clear_faults(self) -> None:
        self._quiesce_faults()

    async def clear_stream_faults(self) -> None:
        self._quiesce_faults()

    async def config(self, **changes: Any) -> None:
        self._core.configure(changes)

    async def oracle(self, account_id: int | None = None) -> dict[str, Any]:
        # As the admin API serves it: JSON, so account ids are text keys.
        result: dict[str, Any] = json.loads(json.dumps(self._core.oracle(account_id)))
        return result


class CoreSim:
    """Stands in for a `SimServer` where the invariants only need `.admin`."""

    def __init__(self, core: Exchange, quiesce_faults: Callable[[], None]) -> None:
        self.admin = _CoreAdmin(core, quiesce_faults)


async def assert_i1_to_i5(engine: Engine, sim: CoreSim, account_id: int) -> None:
    """Quiesce, reconcile until clean, and assert I1-I5 against the core's oracle; a failure
    says which fills and balances differ."""
    try:
        await invariants.assert_invariants(engine, sim, SimAccount(account_id, "", ""))  # type: ignore[arg-type]
    except AssertionError as error:
        detail = await _differences(engine, sim, account_id)
        raise AssertionError(f"{error} {detail}".strip()) from error


async def _differences(engine: Engine, sim: CoreSim, account_id: int) -> str:
    """What the ledger and journal hold that the exchange does not, and the reverse."""
    oracle = await sim.admin.oracle(account_id)
    truth_fills = oracle_fills(oracle, account_id)
    try:
        booked = await journal_fills(engine)
    except AssertionError:
        booked = {}
        notes = ["a fill is journaled twice"]
    else:
        notes = []
    missing = sorted(set(truth_fills) - set(booked))
    extra = sorted(set(booked) - set(truth_fills))
    differ = sorted(k for k in set(truth_fills) & set(booked) if truth_fills[k] != booked[k])
    if missing:
        notes.append(f"fills not journaled: {missing[:6]}")
    if extra:
        notes.append(f"fills journaled the exchange lacks: {extra[:6]}")
    if differ:
        notes.append(f"fills that differ: {[(k, booked[k], truth_fills[k]) for k in differ[:3]]}")
    truth = oracle_balances(oracle, account_id)
    ledger = engine_balances(await engine.snapshot())
    off = {
        a: (ledger.get(a), truth.get(a))
        for a in sorted(set(truth) | set(ledger))
        if ledger.get(a) != truth.get(a)
    }
    if off:
        notes.append(f"balances (ledger, exchange): {off}")
    return "[" + "; ".join(notes) + "]" if notes else ""


async def journal_lines(engine: Engine) -> list[str]:
    """Every journaled event as one canonical line (seq, time, type, payload)."""
    journal = engine.parts.journal
    await journal.flush()
    lines: list[str] = []
    seq = 0
    while True:
        rows = await journal.events_since(seq, 1000)
        if not rows:
            return lines
        for row in rows:
            payload = json.dumps(row.payload, sort_keys=True, default=str)
            lines.append(f"{row.seq} {row.ts.isoformat()} {row.type} {payload}")
        seq = rows[-1].seq


def digest(parts: Iterable[Iterable[str]]) -> str:
    """One hash over several logs' lines, in order."""
    hasher = hashlib.sha256()
    for lines in parts:
        for line in lines:
            hasher.update(line.encode())
            hasher.update(b"\n")
        hasher.update(b"\x00")
    return hasher.hexdigest()
