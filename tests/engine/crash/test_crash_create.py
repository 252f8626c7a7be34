"""SIGKILL at each crash point of an order's creation, for a resting LIMIT, a MARKET that fills and
a LIMIT_MAKER; the restarted engine loses nothing, sends nothing twice and equals the exchange."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal

import pytest
from crash_testkit import (
    BTC,
    FUNDS,
    PLACED_STATUS,
    Leftover,
    armed_engine,
    exchange_orders,
    journaled_ids,
    leftover,
    order_args,
    restarted,
    state_of,
    until_journaled,
)
from engine_testkit import new_account
from invariants import assert_invariants

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

# Before any byte of the create went out: the exchange never sees the order.
NOT_SENT = ("after_intent_commit", "after_mark_sending_commit")
# After the create reached the exchange: it holds the order, the engine never read the answer.
SENT = ("after_http_write_before_response", "after_response_before_commit")
KINDS = ("limit", "market", "limit_maker")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("point", NOT_SENT + SENT)
async def test_a_create_killed_at_a_crash_point(
    sim: SimServer, base: pathlib.Path, point: str, kind: str
) -> None:
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, point) as armed:
        result = await armed.submit(kind)
        assert result.outcome is Outcome.UNKNOWN, result.message  # the answer died with it
        await armed.killed()
    left = await leftover(armed)
    (cid,) = left.intents  # committed before anything went out (R1)
    if point in NOT_SENT:
        assert left == Leftover((cid,), {}, {})  # no order row: its write never ran
    async with restarted(sim, account, armed) as engine:
        assert await journaled_ids(engine) == [cid]
        placed = await exchange_orders(sim, account)
        if point in SENT:
            assert [(c, s) for c, s, _ in placed] == [(cid, PLACED_STATUS[kind])]
            assert await state_of(engine, cid) == PLACED_STATUS[kind]
        else:
            assert placed == []
            assert await state_of(engine, cid) == "UNKNOWN"  # settled by query, never resent
            assert cid in engine.parts.watch
        await assert_invariants(engine, sim, account)
        assert [c for c, _, _ in await exchange_orders(sim, account)] == [c for c, _, _ in placed]
        # The next order gets a new id (D9) and goes out once.
        another = await engine.command(CommandName.SUBMIT_ORDER, order_args("limit"))
        assert another.outcome is Outcome.OK, another.message
        assert [c for c, _, _ in await exchange_orders(sim, account)] == [
            *(c for c, _, _ in placed),
            another.data["client_order_id"],
        ]
        assert another.data["client_order_id"] != cid


@pytest.mark.parametrize(("stream", "durable"), [("quiet", "PENDING_NEW"), ("first", "FILLED")])
async def test_a_slow_answer_killed_before_its_commit(
    sim: SimServer, base: pathlib.Path, stream: str, durable: str
) -> None:
    """The exchange answers late; meanwhile the order's PENDING_NEW row is committed (`quiet`:
    the user stream is stalled), or the stream reported the fill first and it is committed
    (`first`, A12); then the engine dies with the answer in hand."""
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, "after_response_before_commit") as armed:
        await sim.admin.add_fault("delay", method="POST", path="/api/v3/order", seconds=1)
        if stream == "quiet":
            await sim.admin.stream_fault("stall", account=account.account_id)
        submitting = asyncio.create_task(armed.submit("market"))
        cid = await until_journaled(armed, "state = ?", durable)
        result = await submitting
        assert result.outcome is Outcome.UNKNOWN, result.message
        await armed.killed()
    left = await leftover(armed)
    if stream == "quiet":
        assert left == Leftover((cid,), {cid: ("PENDING_NEW", None, False)}, {})
    else:  # settled by the stream: the intent is no longer pending
        assert (left.intents, left.orders[cid][0], left.fills[cid] >= 1) == ((), "FILLED", True)
    async with restarted(sim, account, armed) as engine:
        assert [(c, s) for c, s, _ in await exchange_orders(sim, account)] == [(cid, "FILLED")]
        await assert_invariants(engine, sim, account)
        assert await state_of(engine, cid) == "FILLED"


@pytest.mark.parametrize("kind", ["market", "partial"])
async def test_an_order_killed_at_its_first_fill(
    sim: SimServer, base: pathlib.Path, kind: str
) -> None:
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, "after_fill_event_before_commit") as armed:
        result = await armed.submit(kind)
        assert result.outcome is Outcome.UNKNOWN, result.message
        await armed.killed()
    left = await leftover(armed)
    (cid,) = left.intents
    assert left.fills == {}  # the first fill died in memory
    async with restarted(sim, account, armed) as engine:
        assert [(c, s) for c, s, _ in await exchange_orders(sim, account)] == [
            (cid, PLACED_STATUS[kind])
        ]
        await assert_invariants(engine, sim, account)  # each fill booked once, from myTrades
        assert await state_of(engine, cid) == PLACED_STATUS[kind]


@pytest.mark.parametrize("kind", ["limit", "limit_maker"])
async def test_a_resting_order_killed_at_its_fill_from_the_stream(
    sim: SimServer, base: pathlib.Path, kind: str
) -> None:
    account = await new_account(sim, FUNDS)
    async with armed_engine(sim, account, base, "after_fill_event_before_commit") as armed:
        result = await armed.command(
            CommandName.SUBMIT_ORDER, {**order_args(kind), "price": "49000"}
        )
        assert result.outcome is Outcome.OK, result.message
        cid = result.data["client_order_id"]
        await sim.admin.set_price(BTC, "48000")  # crosses it: the fill comes over the stream
        await armed.killed()
    left = await leftover(armed)
    assert left.fills == {}
    assert left.orders.get(cid, ("PENDING_NEW",))[0] in ("PENDING_NEW", "NEW")
    async with restarted(sim, account, armed) as engine:
        assert await exchange_orders(sim, account) == [(cid, "FILLED", Decimal("0.01"))]
        await assert_invariants(engine, sim, account)
        assert await state_of(engine, cid) == "FILLED"
