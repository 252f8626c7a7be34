"""Holdings that predate the desk become positions at start: priced from the trade history when
it explains the holding, with an unknown entry when it does not."""

from __future__ import annotations

import pathlib
from decimal import Decimal

from engine_testkit import (
    assert_matches_oracle,
    engine_balances,
    engine_for,
    journal_fills,
    new_account,
    oracle_balances,
    position_in,
    started,
    until,
)
from pydantic import SecretStr

from engine.config import Mode
from engine.core.types import OrderType, Side
from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer
from engine.venue.binance import BinanceVenue
from engine.venue.endpoints import Credentials, endpoints_for
from engine.venue.timing import SystemClock

BTC = "BTCUSDT"


async def test_holding_without_history_has_an_unknown_entry(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.3"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        position = position_in(snapshot, BTC)
        assert position is not None
        assert (position["qty"], position["adopted"], position["entry_known"]) == (
            "0.30000000",
            True,
            False,
        )
        assert position["avg_entry"] is None and position["unrealized_pnl"] is None
        assert position_in(snapshot, "ETHUSDT") is None  # nothing held
        await assert_matches_oracle(engine, sim, account)


async def test_holding_explained_by_the_history_is_priced_from_it(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000"})
    outside = BinanceVenue(
        endpoints_for(Mode.SIM, sim.url),
        Credentials(SecretStr(account.api_key), api_secret=SecretStr(account.api_secret)),
        clock=SystemClock(),
    )
    await outside.start()
    try:
        await outside.create_order(
            symbol=BTC,
            side=Side.BUY,
            order_type=OrderType.MARKET,
            client_order_id="web-1",
            quantity=Decimal("0.01"),
        )
    finally:
        await outside.close()
    oracle = await sim.admin.oracle(account.account_id)
    (trade,) = oracle["trades"]
    cost = Decimal(trade["quoteQty"])
    held = Decimal("0.01") - Decimal(trade["commission"])

    async with started(engine_for(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        position = position_in(snapshot, BTC)
        assert position is not None
        assert position["adopted"] is True and position["entry_known"] is True
        assert Decimal(position["qty"]) == held
        assert Decimal(position["avg_entry"]) == cost / held
        # The history priced the holding; it is not the desk's, so it is not journaled.
        assert await journal_fills(engine) == {}
        assert engine_balances(snapshot) == oracle_balances(oracle, account.account_id)

        sold = await engine.command(CommandName.CLOSE_POSITION, {"symbol": BTC})
        assert sold.outcome is Outcome.OK, sold.message
        oracle = await sim.admin.oracle(account.account_id)
        sell = next(t for t in oracle["trades"] if not t["isBuyer"])

        async def flat() -> bool:
            found = position_in(await engine.snapshot(), BTC)
            return found is not None and Decimal(found["qty"]) == 0

        await until(engine, flat)
        position = position_in(await engine.snapshot(), BTC)
        assert position is not None
        proceeds = Decimal(sell["quoteQty"]) - Decimal(sell["commission"])
        assert Decimal(position["realized_pnl"]) == proceeds - cost
        fills = await journal_fills(engine)
        assert list(fills) == [(BTC, int(sell["id"]))]
