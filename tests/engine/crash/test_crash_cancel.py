"""SIGKILL at each crash point of a cancel, for a resting LIMIT and a resting LIMIT_MAKER; the
restarted engine says what is true at the exchange and can still cancel what is left open."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal

import pytest
from crash_testkit import (
    FUNDS,
    PARTIAL_QTY,
    armed_engine,
    exchange_orders,
    leftover,
    restarted,
    state_of,
    until_journaled,
)
from engine_testkit import new_account
from invariants import assert_invariants

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

# (point, the order's status at the exchange once the engine died there)
POINTS = [
    ("during_cancel", "NEW"),  # marked cancel-requested, nothing sent
    ("cancel_after_http_write", "CANCELED"),
    ("cancel_after_response_before_commit", "CANCELED"),
]


@pytest.mark.parametrize("kind", ["limit", "limit_maker", "partial"])
@pytest.mark.parametrize(("point", "status"), POINTS)
async def test_a_cancel_killed_at_a_crash_point(
    sim: SimServer, base: pathlib.Path, point: str, status: str, kind: str
) -> None:
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, point) as armed:
        placed = await armed.submit(kind)
        assert placed.outcome is Outcome.OK, placed.message
        cid = placed.data["client_order_id"]
        canceled = await armed.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert canceled.outcome is Outcome.UNKNOWN, canceled.message
        await armed.killed()
    if point != "cancel_after_response_before_commit":  # (there the stream may have told it)
        row = (await leftover(armed)).orders.get(cid)
        assert row is None or row[0] != "CANCELED"  # the dead engine never heard the outcome
    executed = PARTIAL_QTY if kind == "partial" else Decimal(0)
    if kind == "partial" and status == "NEW":
        status = "PARTIALLY_FILLED"
    async with restarted(sim, account, armed) as engine:
        assert await exchange_orders(sim, account) == [(cid, status, executed)]
        assert await state_of(engine, cid) == status
        await assert_invariants(engine, sim, account)
        # Whatever the dead engine had marked, the order can be cancelled now, once (B3: the
        # partial fill stays, the rest is released: I4).
        again = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert again.outcome is Outcome.OK, again.message
        assert await exchange_orders(sim, account) == [(cid, "CANCELED", executed)]
        await assert_invariants(engine, sim, account)


async def test_a_cancel_that_never_took_effect_leaves_the_order_cancellable(
    sim: SimServer, base: pathlib.Path
) -> None:
    """The cancel is journaled as requested, its request expires at the exchange (held past its
    recvWindow) and the engine is killed meanwhile: after the restart the order is open and the
    operator's cancel goes out, instead of being taken for the dead engine's one in flight."""
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, "") as armed:
        placed = await armed.submit("limit")
        assert placed.outcome is Outcome.OK, placed.message
        cid = placed.data["client_order_id"]
        await sim.admin.add_fault(
            "delay", method="DELETE", path="/api/v3/order", seconds=1, executeAt="after"
        )
        canceling = asyncio.create_task(
            armed.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        )
        assert await until_journaled(armed, "json_extract(payload, '$.cancel_requested')") == cid
        await sim.admin.skew_clock(10_000)  # the held cancel is now past its recvWindow
        await armed.kill()
        assert (await canceling).outcome is Outcome.UNKNOWN
    assert (await leftover(armed)).orders[cid] == ("NEW", placed.data["order"]["order_id"], True)
    async with restarted(sim, account, armed) as engine:
        assert await exchange_orders(sim, account) == [(cid, "NEW", Decimal(0))]
        await assert_invariants(engine, sim, account)
        again = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert again.outcome is Outcome.OK, again.message
        assert await exchange_orders(sim, account) == [(cid, "CANCELED", Decimal(0))]
        await assert_invariants(engine, sim, account)
