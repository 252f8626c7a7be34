"""Orders end to end: the engine, real python-binance and the embedded exchange over loopback;
after every scenario the ledger equals the exchange's oracle exactly."""

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
    until,
)

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def test_market_buy_with_base_commission_then_sell(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        assert bought.data["order"]["state"] == "FILLED"
        oracle = await sim.admin.oracle(account.account_id)
        (trade,) = [t for t in oracle["trades"] if t["symbol"] == BTC]
        assert trade["commissionAsset"] == "BTC"
        fee = Decimal(trade["commission"])
        assert fee == Decimal("0.00001")  # 0.1% of 0.01
        await assert_matches_oracle(engine, sim, account)
        position = position_in(await engine.snapshot(), BTC)
        assert position is not None
        cost = Decimal(trade["quoteQty"])
        assert Decimal(position["qty"]) == Decimal("0.01") - fee
        assert Decimal(position["avg_entry"]) == cost / (Decimal("0.01") - fee)

        sold = await engine.command(CommandName.CLOSE_POSITION, {"symbol": BTC})
        assert sold.outcome is Outcome.OK, sold.message
        assert sold.data["quantity"] == "0.00999"
        await assert_matches_oracle(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        sell = next(t for t in oracle["trades"] if t["symbol"] == BTC and not t["isBuyer"])
        assert sell["commissionAsset"] == "USDT"
        position = position_in(await engine.snapshot(), BTC)
        assert position is not None and Decimal(position["qty"]) == 0
        proceeds = Decimal(sell["quoteQty"]) - Decimal(sell["commission"])
        assert Decimal(position["realized_pnl"]) == proceeds - cost


async def test_limit_order_rests_then_fills_when_the_price_crosses(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.02", price="94000.004"
        )
        assert placed.outcome is Outcome.OK, placed.message
        assert placed.data["price"] == "94000.00"  # a buy rounds down to the tick
        assert placed.data["adjusted"] == ["price"]
        cid = placed.data["client_order_id"]
        assert placed.data["order"]["state"] == "NEW"
        await assert_matches_oracle(engine, sim, account)  # 1880 USDT locked
        await sim.admin.set_price(BTC, "93900")

        async def filled() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and order["state"] == "FILLED"

        await until(engine, filled)
        await assert_matches_oracle(engine, sim, account)
        snapshot = await engine.snapshot()
        assert order_in(snapshot, cid) in snapshot["orders"]["recent"]
        assert snapshot["orders"]["open"] == []
