"""Protection end to end on the embedded exchange: SL alone, TP alone, both as an OCO, a Binance
trailing stop; each triggered by moving the market, the ledger equal to the oracle after."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import assert_matches_oracle, engine_for, new_account, started, until

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def protect(engine: Engine, **args: Any) -> CommandResult:
    return await engine.command(CommandName.SET_PROTECTION, {"symbol": BTC, **args})


async def held_btc(sim: SimServer, account_id: int) -> dict[str, Decimal]:
    oracle = await sim.admin.oracle(account_id)
    raw = oracle["balances"][str(account_id)].get("BTC", {"free": "0", "locked": "0"})
    return {"free": Decimal(raw["free"]), "locked": Decimal(raw["locked"])}


async def status_is(engine: Engine, status: str) -> bool:
    found = protection_in(await engine.snapshot())
    return found is not None and found["status"] == status


def protection_in(snapshot: dict[str, Any]) -> dict[str, Any] | None:
    """The BTCUSDT position's protection as the snapshot shows it."""
    position = next((p for p in snapshot["positions"] if p["symbol"] == BTC), None)
    return None if position is None else position["protection"]


def leg_numbers(leg: dict[str, Any]) -> tuple[str, Decimal, Decimal]:
    return leg["type"], Decimal(leg["stop_price"]), Decimal(leg["price"])


def venue_orders(oracle: dict[str, Any], account_id: int) -> dict[str, dict[str, Any]]:
    return {
        o["clientOrderId"]: o
        for o in oracle["orders"]
        if int(o.get("accountId", account_id)) == account_id
    }


async def test_stop_loss_alone_rests_as_stop_loss_limit_and_triggers(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await protect(engine, stop_loss="90000.004")
        assert result.outcome is Outcome.OK, result.message
        plan = result.data["plan"]
        assert plan["oco"] is False and Decimal(plan["quantity"]) == Decimal("0.01")
        leg = plan["legs"][0]
        # the trigger snaps up (no later), the limit sits 0.5% below it, floored to the tick
        assert leg_numbers(leg) == ("STOP_LOSS_LIMIT", Decimal("90000.01"), Decimal("89550.00"))
        protection = result.data["protection"]
        assert protection["status"] == "ACTIVE" and len(protection["order_ids"]) == 1
        cid = protection["order_ids"][0]
        oracle = await sim.admin.oracle(account.account_id)
        order = venue_orders(oracle, account.account_id)[cid]
        assert (order["type"], order["status"], order["stopPrice"]) == (
            "STOP_LOSS_LIMIT",
            "NEW",
            "90000.01000000",
        )
        assert await held_btc(sim, account.account_id) == {
            "free": Decimal(0),
            "locked": Decimal("0.01"),
        }
        snapshot = await engine.snapshot()
        position = next(p for p in snapshot["positions"] if p["symbol"] == BTC)
        assert position["protection"]["order_ids"] == [cid]

        await sim.admin.set_price(BTC, "89900")
        await until(engine, lambda: status_is(engine, "DONE"))
        await assert_matches_oracle(engine, sim, account)
        assert (await held_btc(sim, account.account_id))["free"] == 0


async def test_take_profit_alone_rests_as_take_profit_limit(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await protect(engine, take_profit="100000.009")
        assert result.outcome is Outcome.OK, result.message
        leg = result.data["plan"]["legs"][0]
        assert leg_numbers(leg) == ("TAKE_PROFIT_LIMIT", Decimal(100000), Decimal(100000))
        await sim.admin.set_price(BTC, "100100")
        await until(engine, lambda: status_is(engine, "DONE"))
        await assert_matches_oracle(engine, sim, account)


async def test_both_make_one_oco_and_the_other_leg_expires(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await protect(engine, stop_loss="90000", take_profit="100000")
        assert result.outcome is Outcome.OK, result.message
        assert result.data["plan"]["oco"] is True
        protection = result.data["protection"]
        tp_cid, sl_cid = protection["order_ids"]
        assert protection["list_client_order_id"] is not None
        # one balance backs both legs: locked once
        assert await held_btc(sim, account.account_id) == {
            "free": Decimal(0),
            "locked": Decimal("0.01"),
        }
        await sim.admin.set_price(BTC, "100100")
        await until(engine, lambda: status_is(engine, "DONE"))
        oracle = await sim.admin.oracle(account.account_id)
        orders = venue_orders(oracle, account.account_id)
        assert orders[tp_cid]["status"] == "FILLED"
        assert orders[sl_cid]["status"] == "EXPIRED"

        async def both_final() -> bool:
            found = [engine.parts.find_order(cid) for cid in (tp_cid, sl_cid)]
            return [o.state.value if o else None for o in found] == ["FILLED", "EXPIRED"]

        await until(engine, both_final)
        await assert_matches_oracle(engine, sim, account)


async def test_relations_are_refused_before_sending(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await protect(engine, stop_loss="96000", take_profit="100000")
        assert result.outcome is Outcome.REFUSED
        assert result.message == (
            "a SELL OCO needs take-profit > last price > stop-loss: got take-profit 100000, "
            "last price 95000, stop-loss 96000"
        )
        oracle = await sim.admin.oracle(account.account_id)
        assert venue_orders(oracle, account.account_id) == {}


async def test_binance_trailing_stop_follows_up_then_triggers(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        result = await protect(engine, trailing_delta_bips=200)
        assert result.outcome is Outcome.OK, result.message
        leg = result.data["plan"]["legs"][0]
        assert (leg["type"], leg["trailing_delta"], leg["stop_price"]) == ("STOP_LOSS", 200, None)
        cid = result.data["protection"]["order_ids"][0]
        await sim.admin.set_price(BTC, "100000")  # the high rises: the stop trails to 98000
        await sim.admin.set_price(BTC, "98500")  # above the trailed stop: nothing happens
        oracle = await sim.admin.oracle(account.account_id)
        assert venue_orders(oracle, account.account_id)[cid]["status"] == "NEW"
        await sim.admin.set_price(BTC, "97900")  # 2.1% below the high: triggers
        await until(engine, lambda: status_is(engine, "DONE"))
        await assert_matches_oracle(engine, sim, account)
