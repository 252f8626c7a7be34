"""Catalogue E6 and E7 (orders the exchange ends itself) through the real client and the
embedded exchange: self-trade prevention expires the resting order in match, a market order
larger than the book expires with what it filled. Neither is a rejection, nothing is resent, and
the partial fills are booked. Each test ends with the invariants."""

from __future__ import annotations

import pathlib
from decimal import Decimal

from engine_testkit import new_account, order_in, started, submit
from invariants import assert_invariants
from streams_testkit import BTC, engine_on

from engine.service.api import Outcome
from engine.sim.runner import SimServer


async def test_e6_self_trade_prevention_expires_the_maker_and_nothing_is_resubmitted(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "BTC": "0.05"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        # The synthetic book quotes 94999.99 / 95000.01: the buy becomes the best bid, and the
        # sell would trade against it (the symbol's STP mode is EXPIRE_MAKER).
        buy = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="95000"
        )
        assert buy.outcome is Outcome.OK, buy.message
        sell = await submit(
            engine, symbol=BTC, side="sell", type="limit", quantity="0.02", price="95000"
        )
        assert sell.outcome is Outcome.OK, sell.message
        assert sell.data["order"]["state"] == "NEW"
        await assert_invariants(engine, sim, account)
        snapshot = await engine.snapshot()
        maker = order_in(snapshot, str(buy.data["client_order_id"]))
        assert maker is not None
        assert (maker["state"], maker["cum_qty"]) == ("EXPIRED", "0")
        oracle = await sim.admin.oracle(account.account_id)
        statuses = sorted(o["status"] for o in oracle["orders"])
        assert statuses == ["EXPIRED_IN_MATCH", "NEW"]  # two orders: no automatic resubmit


async def test_e7_a_market_order_larger_than_the_book_expires_with_its_fills_booked(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "3000000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="30")
        assert result.outcome is Outcome.OK, result.message  # EXPIRED is not a rejection
        order = result.data["order"]
        assert order["state"] == "EXPIRED"
        assert order["expiry_reason"] == "INSUFFICIENT_LIQUIDITY"
        executed = Decimal(order["cum_qty"])
        assert Decimal(0) < executed < Decimal(30)
        await assert_invariants(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        assert len(oracle["orders"]) == 1
        assert sum(Decimal(t["qty"]) for t in oracle["trades"]) == executed
