"""Orders the exchange ends itself (E6, E7): EXPIRED_IN_MATCH by self-trade prevention and
IOC/FOK expiry with part executed are terminal, their fills booked, and not rejections; nothing
is resubmitted. Each test ends with I1-I5."""

from __future__ import annotations

import pathlib
from decimal import Decimal

from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from unknown_testkit import BTC, exchange_orders, fault_engine

from engine.service.api import Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer

BEST_ASK = "95000.01"
BEST_ASK_QTY = Decimal("0.21052")  # the synthetic book's first level


async def settled(engine: Engine, cid: str, state: str) -> dict[str, object]:
    async def reached() -> bool:
        order = order_in(await engine.snapshot(), cid)
        return order is not None and order["state"] == state

    await until(engine, reached)
    order = order_in(await engine.snapshot(), cid)
    assert order is not None
    return order


async def test_e7_ioc_partly_filled_then_expired_is_booked_not_rejected(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "50000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        ioc = await submit(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            time_in_force="IOC",
            quantity="0.5",
            price=BEST_ASK,
        )
        assert ioc.outcome is Outcome.OK, ioc.message
        order = await settled(engine, ioc.data["client_order_id"], "EXPIRED")
        assert Decimal(str(order["cum_qty"])) == BEST_ASK_QTY
        assert order["reject_reason"] is None
        (truth,) = await exchange_orders(sim, account)
        assert (truth["status"], Decimal(truth["executedQty"])) == ("EXPIRED", BEST_ASK_QTY)
        await assert_invariants(engine, sim, account)


async def test_e7_fok_that_cannot_fill_expires_with_nothing_executed(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "50000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        fok = await submit(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            time_in_force="FOK",
            quantity="0.5",
            price=BEST_ASK,
        )
        assert fok.outcome is Outcome.OK, fok.message
        order = await settled(engine, fok.data["client_order_id"], "EXPIRED")
        assert Decimal(str(order["cum_qty"])) == 0
        assert len(await exchange_orders(sim, account)) == 1  # not retried
        await assert_invariants(engine, sim, account)


async def test_e6_self_trade_prevention_expires_our_resting_order_in_match(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "50000", "BTC": "1"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        maker = await submit(
            engine, symbol=BTC, side="sell", type="limit", quantity="0.1", price=BEST_ASK
        )
        assert maker.outcome is Outcome.OK, maker.message
        # Our buy takes the level's synthetic liquidity, then meets our own sell: the exchange's
        # default STP (EXPIRE_MAKER) expires the sell.
        taker = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.3", price=BEST_ASK
        )
        assert taker.outcome is Outcome.OK, taker.message
        expired = await settled(engine, maker.data["client_order_id"], "EXPIRED")
        assert expired["expiry_reason"] == "EXPIRED_IN_MATCH"
        assert Decimal(str(expired["cum_qty"])) == 0
        truth = {o["clientOrderId"]: o for o in await exchange_orders(sim, account)}
        assert truth[maker.data["client_order_id"]]["status"] == "EXPIRED_IN_MATCH"
        assert len(truth) == 2  # no resubmission of the expired sell
        await assert_invariants(engine, sim, account)
