"""Fills of every shape end to end: across book levels, partial then cancelled, by quote
quantity, commission in BNB; after each the ledger equals the exchange's oracle exactly."""

from __future__ import annotations

import pathlib
from decimal import Decimal

from engine_testkit import (
    assert_matches_oracle,
    engine_for,
    new_account,
    order_in,
    position_in,
    started,
    submit,
)

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def test_a_large_market_order_walks_the_book(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "200000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="1")
        assert result.outcome is Outcome.OK, result.message
        oracle = await sim.admin.oracle(account.account_id)
        trades = [t for t in oracle["trades"] if t["symbol"] == BTC]
        prices = [Decimal(t["price"]) for t in trades]
        assert len(trades) >= 3 and prices == sorted(prices) and len(set(prices)) == len(prices)
        order = result.data["order"]
        assert order["state"] == "FILLED" and Decimal(order["cum_qty"]) == 1
        quote = sum(Decimal(t["quoteQty"]) for t in trades)
        assert Decimal(order["cum_quote"]) == quote
        assert Decimal(order["avg_price"]) == quote  # for exactly 1 BTC
        await assert_matches_oracle(engine, sim, account)
        position = position_in(await engine.snapshot(), BTC)
        assert position is not None
        fees = sum(Decimal(t["commission"]) for t in trades)
        assert Decimal(position["qty"]) == 1 - fees


async def test_cancel_of_a_partially_filled_order(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "200000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="1", price="95000.01"
        )
        assert placed.outcome is Outcome.OK, placed.message
        cid = placed.data["client_order_id"]
        order = placed.data["order"]
        assert order["state"] == "PARTIALLY_FILLED"
        executed = Decimal(order["cum_qty"])
        assert 0 < executed < 1
        await assert_matches_oracle(engine, sim, account)

        canceled = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert canceled.outcome is Outcome.OK, canceled.message
        assert canceled.data["order"]["state"] == "CANCELED"
        assert Decimal(canceled.data["order"]["cum_qty"]) == executed
        await assert_matches_oracle(engine, sim, account)
        snapshot = await engine.snapshot()
        usdt = next(b for b in snapshot["balances"] if b["asset"] == "USDT")
        assert Decimal(usdt["locked"]) == 0
        assert snapshot["orders"]["open"] == []
        assert order_in(snapshot, cid) is not None

        again = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert again.outcome is Outcome.OK
        assert again.message == f"{cid} is already CANCELED; nothing to cancel"
        assert again.data["already_final"] is True
        oracle = await sim.admin.oracle(account.account_id)
        assert len(oracle["orders"]) == 1


async def test_quote_quantity_market_buy(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "1000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit(engine, symbol=BTC, side="buy", type="market", quote_quantity="100")
        assert result.outcome is Outcome.OK, result.message
        order = result.data["order"]
        assert order["state"] == "FILLED" and order["quote_qty"] == "100"
        assert Decimal(order["cum_quote"]) <= 100
        assert Decimal(order["cum_qty"]) > 0
        await assert_matches_oracle(engine, sim, account)


async def test_commission_in_bnb(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "10000", "BNB": "2"})
    await sim.admin.bnb_burn(account.account_id, True)
    async with started(engine_for(sim, account, tmp_path, market_data=True)) as engine:
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        oracle = await sim.admin.oracle(account.account_id)
        (trade,) = [t for t in oracle["trades"] if t["symbol"] == BTC]
        assert trade["commissionAsset"] == "BNB" and Decimal(trade["commission"]) > 0
        await assert_matches_oracle(engine, sim, account)
        snapshot = await engine.snapshot()
        btc = position_in(snapshot, BTC)
        assert btc is not None
        # The whole quantity arrives: the fee was paid in BNB, not taken from the BTC.
        assert Decimal(btc["qty"]) == Decimal("0.01")
        bnb = position_in(snapshot, "BNBUSDT")
        assert bnb is not None and bnb["adopted"] is True
        assert Decimal(bnb["qty"]) == 2 - Decimal(trade["commission"])
