"""Risk-based sizing through the engine: SubmitOrder with `size_from_stop` instead of a quantity
sizes from the live equity, previews without sending, refuses with its numbers, and its stop
arms protection when the entry fills."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import (
    WIDE_LIMITS,
    assert_matches_oracle,
    engine_for,
    new_account,
    started,
    until,
)
from engine_testkit import submit as submit_order
from test_engine_protection import protection_in, status_is

from engine.service.api import Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def _orders_at_exchange(sim: SimServer, account_id: int) -> list[dict[str, Any]]:
    return list((await sim.admin.oracle(account_id))["orders"])


async def test_the_size_risks_the_share_of_equity_floored_to_the_step(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit_order(
            engine, symbol=BTC, side="buy", type="limit", price="94000", size_from_stop="92500"
        )
        assert result.outcome is Outcome.OK, result.message
        # 10000 x 0.01 = 100 USDT at risk over 1500: 0.0666..., floored to the step 0.00001
        assert result.data["sizing"] == {
            "quantity": "0.06666",
            "equity": "10000",
            "risk_per_trade": "0.01",
            "risk_amount": "100",
            "entry": "94000",
            "stop": "92500",
            "stop_distance": "1500",
            "notional": "6266.04",
            "risk_at_stop": "99.99",
            "capped_by": None,
            "cap_reason": None,
            "refusal": None,
        }
        assert result.data["quantity"] == "0.06666"
        [order] = await _orders_at_exchange(sim, account.account_id)
        assert (order["clientOrderId"], order["side"], order["type"]) == (
            result.data["client_order_id"],
            "BUY",
            "LIMIT",
        )
        assert (Decimal(order["origQty"]), Decimal(order["price"])) == (
            Decimal("0.06666"),
            Decimal(94000),
        )
        await assert_matches_oracle(engine, sim, account)


async def test_a_cap_makes_the_size_smaller_and_says_which(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    limits = WIDE_LIMITS.model_copy(update={"max_order_value": Decimal(3000)})
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        result = await submit_order(
            engine, symbol=BTC, side="buy", type="limit", price="94000", size_from_stop="92500"
        )
        assert result.outcome is Outcome.OK, result.message
        sizing = result.data["sizing"]
        # 3000 / 94000 = 0.031914..., floored to the step
        assert (sizing["quantity"], sizing["capped_by"]) == ("0.03191", "ORDER_VALUE")
        assert sizing["cap_reason"] == (
            "capped at 0.03191 by the maximum order value 3000 USDT at entry 94000"
        )
        [order] = await _orders_at_exchange(sim, account.account_id)
        assert Decimal(order["origQty"]) == Decimal("0.03191")


async def test_a_dry_run_previews_the_size_and_sends_nothing(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit_order(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            price="94000",
            size_from_stop="92500",
            dry_run=True,
        )
        assert result.outcome is Outcome.OK, result.message
        assert result.message == "preview: every check passes; nothing was sent"
        assert result.data["dry_run"] is True
        assert result.data["quantity"] == result.data["sizing"]["quantity"] == "0.06666"
        assert result.data["risk"]["order"]["qty"] == "0.06666"
        assert "client_order_id" not in result.data
        assert await _orders_at_exchange(sim, account.account_id) == []
        assert (await engine.snapshot())["orders"]["open"] == []


async def test_a_stop_on_the_wrong_side_is_refused_with_its_numbers(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit_order(
            engine, symbol=BTC, side="buy", type="limit", price="94000", size_from_stop="94500"
        )
        assert result.outcome is Outcome.REFUSED
        assert result.message == (
            "refused by sizing: the stop 94500 is not below the entry 94000: a long position's "
            "stop must be below its entry"
        )
        sizing = result.data["sizing"]
        assert (sizing["quantity"], sizing["stop_distance"], sizing["risk_amount"]) == (
            "0",
            "-500",
            "100",
        )
        tiny = await submit_order(
            engine, symbol=BTC, side="buy", type="limit", price="94000", size_from_stop="1"
        )
        assert tiny.outcome is Outcome.OK, tiny.message  # the control: a valid stop is placed
        assert tiny.data["sizing"]["quantity"] == "0.00106"  # 100 / 93999, floored
        assert len(await _orders_at_exchange(sim, account.account_id)) == 1


async def test_sizing_is_a_buy_and_replaces_the_quantity(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "BTC": "1"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        sell = await submit_order(engine, symbol=BTC, side="sell", size_from_stop="90000")
        both = await submit_order(
            engine, symbol=BTC, side="buy", quantity="0.01", size_from_stop="90000"
        )
        assert (sell.outcome, sell.message) == (
            Outcome.USAGE,
            "size_from_stop sizes a BUY (spot is long-only)",
        )
        assert (both.outcome, both.message) == (
            Outcome.USAGE,
            "give quantity or quote_quantity or, for a BUY, size_from_stop (one)",
        )
        assert await _orders_at_exchange(sim, account.account_id) == []


async def test_a_market_entry_sizes_at_the_mark_and_its_stop_arms_on_fill(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await submit_order(engine, symbol=BTC, side="buy", size_from_stop="94000")
        assert result.outcome is Outcome.OK, result.message
        sizing = result.data["sizing"]
        # the mark 95000, 1000 above the stop: 100 USDT at risk buys 0.1
        assert (sizing["entry"], sizing["stop_distance"], sizing["quantity"]) == (
            "95000",
            "1000",
            "0.1",
        )
        [order] = await _orders_at_exchange(sim, account.account_id)
        assert (order["type"], Decimal(order["origQty"])) == ("MARKET", Decimal("0.1"))
        await until(engine, lambda: status_is(engine, "ACTIVE"))
        protection = protection_in(await engine.snapshot())
        assert protection is not None
        assert Decimal(protection["stop_loss"]) == 94000 and protection["take_profit"] is None
        # it covers what is held: the 0.1 bought less the 0.1% fee taken in BTC
        assert Decimal(protection["quantity"]) == Decimal("0.0999")
        await assert_matches_oracle(engine, sim, account)
