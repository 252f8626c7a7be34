"""The global oracles I1-I5 of RELIABILITY.md 2.1, checked against the embedded exchange after a
quiesce (every fault cleared, no visibility lag) and a full reconciliation.

Every issue-4 test ends with `await assert_invariants(engine, sim, account)`. The engine must be
running; the sim is the `SimServer` it trades on; `account` the `SimAccount` it trades as.

- I1 no lost orders: every exchange order carrying the engine's id prefix is known to the engine
  (its book, its recently settled orders or its journal), in the exchange's state, with the
  exchange's executed quantity; an order the engine holds that the exchange never had is only
  UNKNOWN (on the watch list), REJECTED, or EXPIRED because the operator accepted that the
  exchange does not have it, with nothing executed.
- I2 no duplicates: at most one exchange order per client order id (the oracle lists every order
  ever placed), hence per intent.
- I3 fills: journal fills == exchange trades by (symbol, tradeId), exact Decimals.
- I4 balances: the ledger's and the journal's balances == the exchange's, per asset, free and
  locked, exactly.
- I5 states only move forward: in the journaled events of each order, the state rank never
  drops, a terminal state never changes, cumulative executed quantity never decreases.

Imported by name: put this folder on sys.path (its conftest does; other folders insert it the
way `tests/tui/desk_testkit.py` inserts `tests/engine/service`).
"""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "service"))

from engine_testkit import SimAccount, assert_matches_oracle, oracle_balances

from engine.core.types import OrderState
from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.service.reconcile import ACCEPTED_REASON
from engine.sim.runner import SimServer

# The exchange's statuses as the engine names them.
_ENGINE_STATE = {"EXPIRED_IN_MATCH": "EXPIRED"}
_RECONCILE_ATTEMPTS = 5


async def quiesce(engine: Engine, sim: SimServer) -> None:
    """Stop every fault, drop the visibility lag, then reconcile until a run is clean."""
    await sim.admin.clear_faults()
    await sim.admin.clear_stream_faults()
    await sim.admin.config(visibility_lag_ms=0)
    last = ""
    for _ in range(_RECONCILE_ATTEMPTS):
        result = await engine.command(CommandName.RECONCILE, {})
        if result.outcome is Outcome.OK:
            break
        last = result.message
    else:
        raise AssertionError(f"no clean reconciliation after quiescing: {last}")
    await asyncio.sleep(0)  # the order rows of this loop pass are queued
    await engine.parts.journal.flush()


async def assert_invariants(engine: Engine, sim: SimServer, account: SimAccount) -> None:
    """Quiesce, reconcile fully, then assert I1-I5 (see the module docstring)."""
    await quiesce(engine, sim)
    oracle = await sim.admin.oracle(account.account_id)
    prefix = f"{engine.parts.ids.prefix}-"
    exchange = _exchange_orders(oracle)  # I2 checked while indexing
    await _assert_known(engine, exchange, prefix)  # I1
    await assert_matches_oracle(engine, sim, account)  # I3 and the ledger's side of I4
    await _assert_journal_balances(engine, oracle, account.account_id)  # I4
    await _assert_forward_only(engine)  # I5


def _exchange_orders(oracle: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The exchange's orders by client order id; I2: no id was placed twice."""
    counts = Counter(str(o["clientOrderId"]) for o in oracle["orders"])
    twice = sorted(cid for cid, n in counts.items() if n > 1)
    assert not twice, f"I2: orders placed more than once at the exchange: {twice}"
    return {str(o["clientOrderId"]): dict(o) for o in oracle["orders"]}


async def _engine_order(engine: Engine, cid: str) -> tuple[str, Decimal] | None:
    """(state, executed quantity) of an order as the engine knows it, or None."""
    order = engine.parts.find_order(cid)
    if order is not None:
        return order.state.value, order.cum_qty
    row = await engine.parts.journal.order(cid)
    if row is None:
        return None
    return row.state, Decimal(str(row.payload["cum_qty"]))


async def _never_there_ok(engine: Engine, cid: str, state: str, cum_qty: Decimal) -> bool:
    """Whether an order the exchange never had may be in this state."""
    if cum_qty != 0:
        return False
    if state in (OrderState.UNKNOWN.value, OrderState.REJECTED.value):
        return True
    row = await engine.parts.journal.order(cid)
    reason = None if row is None else row.payload.get("expiry_reason")
    return state == OrderState.EXPIRED.value and reason == ACCEPTED_REASON


async def _assert_known(engine: Engine, exchange: dict[str, dict[str, Any]], prefix: str) -> None:
    """I1, both ways: our orders at the exchange are known, in the same state; the engine's
    orders the exchange never had are unknown or rejected with nothing executed."""
    problems: list[str] = []
    for cid, truth in sorted(exchange.items()):
        known = await _engine_order(engine, cid)
        if known is None:
            if cid.startswith(prefix):
                problems.append(f"{cid} is at the exchange ({truth['status']}) but unknown")
            continue
        expected = (
            _ENGINE_STATE.get(truth["status"], truth["status"]),
            Decimal(truth["executedQty"]),
        )
        if known != expected:
            problems.append(f"{cid}: engine {known}, exchange {expected}")
    async for row in engine.parts.journal.iter_orders():
        if row.client_order_id in exchange:
            continue
        known = await _engine_order(engine, row.client_order_id)
        assert known is not None
        state, cum_qty = known
        if not await _never_there_ok(engine, row.client_order_id, state, cum_qty):
            problems.append(
                f"{row.client_order_id}: engine {state} (executed {cum_qty}), never at the exchange"
            )
    assert not problems, "I1: " + "; ".join(problems)


async def _assert_journal_balances(
    engine: Engine, oracle: Mapping[str, Any], account_id: int
) -> None:
    """I4 on the journal's side: what a restart would load equals the exchange."""
    snapshot = await engine.parts.journal.load(recent_terminal_orders=0)
    stored = {
        asset: (row.free, row.locked)
        for asset, row in snapshot.balances.items()
        if (row.free, row.locked) != (0, 0)
    }
    assert stored == oracle_balances(oracle, account_id), "I4: journaled balances"


async def _assert_forward_only(engine: Engine) -> None:
    """I5 over every order event the journal holds."""
    journal = engine.parts.journal
    history: dict[str, list[tuple[int, str, Decimal]]] = defaultdict(list)
    seq = 0
    while True:
        rows = await journal.events_since(seq, 1000)
        if not rows:
            break
        for row in rows:
            order = row.payload.get("order")
            if isinstance(order, Mapping):
                history[str(order["client_order_id"])].append(
                    (row.seq, str(order["state"]), Decimal(str(order["cum_qty"])))
                )
        seq = rows[-1].seq
    problems = [
        f"{cid}: {problem}"
        for cid, steps in sorted(history.items())
        if (problem := _backwards(steps)) is not None
    ]
    assert not problems, "I5: " + "; ".join(problems)


def _backwards(steps: list[tuple[int, str, Decimal]]) -> str | None:
    """Why this sequence of (seq, state, executed) moves backwards, or None."""
    rank, terminal, executed = -1, None, Decimal(0)
    for seq, name, cum_qty in steps:
        if cum_qty < executed:
            return f"executed quantity fell from {executed} to {cum_qty} at event {seq}"
        executed = cum_qty
        state = OrderState(name)
        if state is OrderState.UNKNOWN:
            if terminal is not None:
                return f"{terminal} became UNKNOWN at event {seq}"
            continue
        if terminal is not None and state is not terminal:
            return f"terminal {terminal} became {state} at event {seq}"
        if state.rank < rank:
            return f"state went back to {state} at event {seq}"
        rank = state.rank
        terminal = state if state.is_terminal else None
    return None
