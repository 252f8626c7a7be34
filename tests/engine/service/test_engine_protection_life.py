"""Protection across the engine's life: restored after a restart, a stop that triggers while the
engine is down, automatic SL/TP on an entry fill, engine-managed trailing, clearing."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import (
    assert_matches_oracle,
    engine_for,
    event_seen,
    new_account,
    started,
    submit,
    until,
)
from test_engine_protection import held_btc, protect, protection_in, status_is, venue_orders

from engine.protection import ProtectionSettings
from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


def protection_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    found = protection_in(snapshot)
    assert isinstance(found, dict)
    return found


async def test_a_restart_restores_protection(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as first:
        placed = await protect(first, stop_loss="90000", take_profit="100000")
        assert placed.outcome is Outcome.OK, placed.message
        before = protection_of(await first.snapshot())
    async with started(engine_for(sim, account, tmp_path)) as second:
        after = protection_of(await second.snapshot())
        assert after == before
        assert after["status"] == "ACTIVE"
        assert [second.parts.book.get(cid) is not None for cid in after["order_ids"]] == [
            True,
            True,
        ]
        # still live after the restart: it follows the orders as before
        await sim.admin.set_price(BTC, "89800")  # between the stop and its limit price
        await until(second, lambda: status_is(second, "DONE"))
        await assert_matches_oracle(second, sim, account)
    assert len((await sim.admin.oracle(account.account_id))["orders"]) == 2  # nothing resent


async def test_a_stop_that_triggers_while_the_engine_is_down(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as first:
        placed = await protect(first, stop_loss="90000", take_profit="100000")
        assert placed.outcome is Outcome.OK, placed.message
        tp_cid, sl_cid = placed.data["protection"]["order_ids"]
    await sim.admin.set_price(BTC, "89800")  # nobody is watching
    oracle = await sim.admin.oracle(account.account_id)
    orders = venue_orders(oracle, account.account_id)
    assert (orders[sl_cid]["status"], orders[tp_cid]["status"]) == ("FILLED", "EXPIRED")
    async with started(engine_for(sim, account, tmp_path)) as second:
        snapshot = await second.snapshot()
        assert protection_of(snapshot)["status"] == "DONE"
        states = [second.parts.find_order(cid) for cid in (sl_cid, tp_cid)]
        assert [o.state.value if o else None for o in states] == ["FILLED", "EXPIRED"]
        await assert_matches_oracle(second, sim, account)
        position = next(p for p in snapshot["positions"] if p["symbol"] == BTC)
        assert Decimal(position["qty"]) == 0  # a flat position still shows its protection


async def test_an_entry_fill_arms_automatic_protection(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    engine = engine_for(sim, account, tmp_path)
    engine.protection_settings = ProtectionSettings(
        auto_enabled=True, auto_stop_loss_pct=Decimal(5), auto_take_profit_pct=Decimal(10)
    )
    async with started(engine):
        entry = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert entry.outcome is Outcome.OK, entry.message
        await until(engine, lambda: status_is(engine, "ACTIVE"))
        protection = protection_of(await engine.snapshot())
        avg = Decimal(entry.data["order"]["avg_price"])
        assert Decimal(protection["stop_loss"]) == (avg * Decimal("0.95")).quantize(
            Decimal("0.01"), rounding="ROUND_CEILING"
        )
        assert Decimal(protection["take_profit"]) == (avg * Decimal("1.1")).quantize(
            Decimal("0.01"), rounding="ROUND_FLOOR"
        )
        held = next(p for p in (await engine.snapshot())["positions"] if p["symbol"] == BTC)
        assert Decimal(protection["quantity"]) == Decimal(held["qty"]).quantize(
            Decimal("0.00001"), rounding="ROUND_FLOOR"
        )
        assert len(protection["order_ids"]) == 2
        await assert_matches_oracle(engine, sim, account)


async def test_submit_with_stop_loss_arms_on_the_fill(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        entry = await submit(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            quantity="0.01",
            price="94000",
            stop_loss="90000",
        )
        assert entry.outcome is Outcome.OK, entry.message
        assert protection_in(await engine.snapshot()) is None  # not filled yet
        await sim.admin.set_price(BTC, "93900")  # the entry fills on the stream
        await until(engine, lambda: status_is(engine, "ACTIVE"))
        protection = protection_of(await engine.snapshot())
        assert Decimal(protection["stop_loss"]) == 90000 and protection["take_profit"] is None
        await assert_matches_oracle(engine, sim, account)


async def test_engine_managed_trailing_moves_once_per_step(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    engine = engine_for(sim, account, tmp_path)
    engine.protection_settings = ProtectionSettings(
        trailing_step_pct=Decimal(1), trailing_min_interval_s=0
    )
    async with started(engine):
        placed = await protect(engine, trailing_percent="3")
        assert placed.outcome is Outcome.OK, placed.message
        first = placed.data["protection"]
        assert Decimal(first["stop_loss"]) == Decimal("92150.00")  # 3% under 95000
        manager = _manager(engine)

        manager.trail(BTC, Decimal("95500"))  # the stop would gain 0.5% < the 1% step
        assert manager.get(BTC) is not None and manager.get(BTC).moves == 0  # type: ignore[union-attr]

        await sim.admin.set_price(BTC, "97000")
        manager.trail(BTC, Decimal("97000"))  # 94090: +2.1%, moves
        manager.trail(BTC, Decimal("97100"))  # while the move is under way: ignored
        await until(engine, lambda: _moved(engine, 1))
        moved = protection_of(await engine.snapshot())
        assert Decimal(moved["stop_loss"]) == Decimal("94090.00") and moved["moves"] == 1
        oracle = await sim.admin.oracle(account.account_id)
        orders = venue_orders(oracle, account.account_id)
        assert orders[first["order_ids"][0]]["status"] == "CANCELED"
        assert orders[moved["order_ids"][0]]["status"] == "NEW"
        assert len(orders) == 2  # one cancel + one new per step, no churn

        await sim.admin.set_price(BTC, "94000")  # falls through the moved stop
        await until(engine, lambda: status_is(engine, "DONE"))
        await assert_matches_oracle(engine, sim, account)


async def test_clear_protection_cancels_and_frees_the_balance(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await protect(engine, stop_loss="90000", take_profit="100000")
        assert placed.outcome is Outcome.OK, placed.message
        cleared = await engine.command(CommandName.CLEAR_PROTECTION, {"symbol": BTC})
        assert cleared.outcome is Outcome.OK, cleared.message
        assert protection_of(await engine.snapshot())["status"] == "CLEARED"
        assert await held_btc(sim, account.account_id) == {
            "free": Decimal("0.01"),
            "locked": Decimal(0),
        }
        await assert_matches_oracle(engine, sim, account)


def _manager(engine: Engine) -> Any:
    manager = engine._protection
    assert manager is not None
    return manager


async def _moved(engine: Engine, moves: int) -> bool:
    found = protection_of(await engine.snapshot())
    return bool(found["moves"] == moves and found["status"] == "ACTIVE" and engine_idle(engine))


def engine_idle(engine: Engine) -> bool:
    return BTC not in _manager(engine)._busy


async def test_a_partly_filled_entry_is_protected_then_re_armed_in_full(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "400000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        entry = await submit(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            quantity="1",
            price="95000.01",
            stop_loss="90000",
        )
        assert entry.outcome is Outcome.OK, entry.message
        assert entry.data["order"]["state"] == "PARTIALLY_FILLED"
        part = Decimal(entry.data["order"]["cum_qty"])
        await until(engine, lambda: status_is(engine, "ACTIVE"))
        first = protection_of(await engine.snapshot())
        assert Decimal(first["quantity"]) == floored(part * Decimal("0.999"))  # fee paid in BTC

        await sim.admin.set_price(BTC, "94900")  # the rest of the entry fills

        async def re_armed() -> bool:
            found = protection_in(await engine.snapshot())
            return bool(
                found
                and found["status"] == "ACTIVE"
                and Decimal(found["quantity"]) == floored(Decimal("0.999"))
            )

        await until(engine, re_armed)
        second = protection_of(await engine.snapshot())
        oracle = await sim.admin.oracle(account.account_id)
        orders = venue_orders(oracle, account.account_id)
        assert orders[first["order_ids"][0]]["status"] == "CANCELED"
        assert orders[second["order_ids"][0]]["status"] == "NEW"
        assert len(orders) == 3  # the entry, the first stop, the full stop: nothing more
        await assert_matches_oracle(engine, sim, account)


def floored(qty: Decimal) -> Decimal:
    return qty.quantize(Decimal("0.00001"), rounding="ROUND_FLOOR")


async def test_protective_orders_canceled_elsewhere_raise_an_alarm(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000", "BTC": "0.01"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        placed = await protect(engine, stop_loss="90000")
        assert placed.outcome is Outcome.OK, placed.message
        since = engine.parts.pipeline.hub.last_seq
        cid = placed.data["protection"]["order_ids"][0]
        canceled = await engine.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert canceled.outcome is Outcome.OK, canceled.message
        alarm = await event_seen(engine, lambda e: e["event"] == "EngineAlarm", since)
        assert (alarm["kind"], alarm["message"]) == (
            "protection",
            "BTCUSDT's protective orders ended unfilled: it is unprotected",
        )
        assert protection_of(await engine.snapshot())["status"] == "ENDED"
