"""The emergency stop through the engine, judged by the exchange's oracle: every open order gone
(engine's, external and OCO legs), positions sold to dust, dropped cancels retried, a second
press joining the first."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal
from typing import Any

from engine_testkit import engine_for, new_account, started, submit

from engine.service.api import CommandName, Outcome
from engine.service.emergency import EmergencyBounds
from engine.service.engine import Engine
from engine.sim.runner import SimServer
from engine.venue.binance import OcoLeg

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT")
# (price of the first resting buy, price step between them, quantity) per symbol
LADDER = {
    "BTCUSDT": (Decimal(85000), Decimal(10), "0.0002"),
    "ETHUSDT": (Decimal(3200), Decimal(1), "0.01"),
    "BNBUSDT": (Decimal(600), Decimal("0.1"), "0.05"),
    "SOLUSDT": (Decimal(160), Decimal("0.1"), "0.2"),
}
QUICK = EmergencyBounds(attempts=4, time_limit_s=10.0, pause_s=0.05, parallel=4)
OPEN = ("NEW", "PARTIALLY_FILLED")


def _engine(sim: SimServer, account: Any, tmp_path: pathlib.Path) -> Engine:
    return engine_for(sim, account, tmp_path, symbols=SYMBOLS, emergency=QUICK)


async def _open_at_exchange(sim: SimServer, account_id: int) -> list[dict[str, Any]]:
    orders = (await sim.admin.oracle(account_id))["orders"]
    return [o for o in orders if o["status"] in OPEN]


async def _ladder(engine: Engine, per_symbol: int, external: int = 0) -> None:
    """`per_symbol` resting buys on each symbol through the engine; the last `external` of
    each symbol's are placed straight at the venue, as another program would."""
    for symbol, (top, step, qty) in LADDER.items():
        for i in range(per_symbol):
            price = top - step * i
            if i >= per_symbol - external:
                await engine.parts.venue.create_order(
                    symbol=symbol,
                    side="BUY",
                    order_type="LIMIT",
                    client_order_id=f"other-{symbol}-{i}",
                    quantity=Decimal(qty),
                    price=price,
                    time_in_force="GTC",
                )
                continue
            placed = await submit(
                engine, symbol=symbol, side="buy", type="limit", quantity=qty, price=str(price)
            )
            assert placed.outcome is Outcome.OK, placed.message


async def _phases(engine: Engine, since: int) -> list[tuple[str, int]]:
    await engine.parts.journal.flush()
    found: list[tuple[str, int]] = []
    for row in await engine.parts.journal.events_since(since):
        payload = row.payload
        if payload.get("event") == "EmergencyStopPhase":
            found.append((payload["phase"], payload["attempt"]))
    return found


async def test_fifty_open_orders_on_four_symbols_and_an_oco_all_end_canceled(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "20000", "BTC": "0.01"})
    async with started(_engine(sim, account, tmp_path)) as engine:
        await _ladder(engine, per_symbol=13, external=3)
        await engine.parts.venue.create_oco(
            symbol="BTCUSDT",
            side="SELL",
            quantity=Decimal("0.005"),
            list_client_order_id="other-oco",
            above=OcoLeg("LIMIT_MAKER", "other-oco-tp", price=Decimal(100000)),
            below=OcoLeg(
                "STOP_LOSS_LIMIT",
                "other-oco-sl",
                price=Decimal(89000),
                stop_price=Decimal(90000),
                time_in_force="GTC",
            ),
        )
        assert len(await _open_at_exchange(sim, account.account_id)) == 54
        since = engine.parts.pipeline.hub.last_seq
        result = await engine.command(CommandName.EMERGENCY_STOP, {"reason": "fat finger"})
        assert (result.outcome, result.message) == (
            Outcome.OK,
            "emergency stop done: HALTED, no open orders",
        )
        assert result.data["orders_left"] == {}
        assert result.data["symbols"] == sorted(SYMBOLS)
        assert result.data["trading_state"] == "HALTED"
        assert result.data["positions_held"] == {"BTCUSDT": "0.01000000 BTC (sellable, not sold)"}
        assert await _open_at_exchange(sim, account.account_id) == []
        snapshot = await engine.snapshot()
        assert snapshot["orders"]["open"] == []
        assert (snapshot["trading_state"], snapshot["halt_reason"]) == ("HALTED", "fat finger")
        assert await _phases(engine, since) == [
            ("halt", 1), ("cancel", 1), ("verify", 1), ("check", 1), ("verify", 1), ("done", 1)
        ]  # fmt: skip
        refused = await submit(engine, symbol="BTCUSDT", side="buy", quantity="0.001")
        assert (refused.outcome, refused.message) == (
            Outcome.REFUSED,
            "trading is HALTED: fat finger",
        )
    async with started(_engine(sim, account, tmp_path)) as engine:
        assert (await engine.snapshot())["trading_state"] == "HALTED"


async def test_flatten_sells_every_position_to_dust(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(
        sim, {"USDT": "20000", "BTC": "0.0123456", "ETH": "0.5", "SOL": "3.33333"}
    )
    async with started(_engine(sim, account, tmp_path)) as engine:
        await _ladder(engine, per_symbol=3)
        result = await engine.command(
            CommandName.EMERGENCY_STOP, {"flatten": True, "reason": "get out"}
        )
        assert result.outcome is Outcome.OK, result.message
        assert result.message == "emergency stop done: HALTED, no open orders, no positions"
        assert sorted(result.data["flattened"]) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        assert all(text.startswith("ok: ") for text in result.data["flattened"].values())
        assert result.data["positions_left"] == {}
        assert await _open_at_exchange(sim, account.account_id) == []
        oracle = await sim.admin.oracle(account.account_id)
        balances = oracle["balances"][str(account.account_id)]
        steps = {"BTC": Decimal("0.00001"), "ETH": Decimal("0.0001"), "SOL": Decimal("0.001")}
        for asset, step in steps.items():
            left = Decimal(balances[asset]["free"]) + Decimal(balances[asset]["locked"])
            assert left < step, (asset, left)  # dust: less than one step
        sells = [o for o in oracle["orders"] if o["side"] == "SELL"]
        assert sorted((o["symbol"], o["status"]) for o in sells) == [
            ("BTCUSDT", "FILLED"), ("ETHUSDT", "FILLED"), ("SOLUSDT", "FILLED")
        ]  # fmt: skip


async def test_dropped_cancels_are_retried_until_the_exchange_confirms(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "20000"})
    async with started(_engine(sim, account, tmp_path)) as engine:
        await _ladder(engine, per_symbol=5)
        await sim.admin.add_fault("drop", method="DELETE", path="/api/v3/openOrders", count=3)
        since = engine.parts.pipeline.hub.last_seq
        result = await engine.command(CommandName.EMERGENCY_STOP, {"reason": "drill"})
        assert result.outcome is Outcome.OK, result.message
        assert result.data["orders_left"] == {}
        assert await _open_at_exchange(sim, account.account_id) == []
        phases = await _phases(engine, since)
        assert ("cancel", 2) in phases and ("verify", 2) in phases
        assert ("cancel", 3) not in phases


async def test_cancels_that_never_get_through_are_reported_exactly(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "20000"})
    async with started(_engine(sim, account, tmp_path)) as engine:
        await _ladder(engine, per_symbol=2)
        await sim.admin.add_fault("drop", method="DELETE", path="/api/v3/openOrders")
        result = await engine.command(CommandName.EMERGENCY_STOP, {"reason": "drill"})
        await sim.admin.clear_faults()
        assert result.outcome is Outcome.VENUE
        assert result.message == (
            "emergency stop incomplete: 8 order(s) still open on BNBUSDT, BTCUSDT, ETHUSDT, SOLUSDT"
        )
        at_exchange = await _open_at_exchange(sim, account.account_id)
        expected: dict[str, list[str]] = {}
        for order in at_exchange:
            expected.setdefault(order["symbol"], []).append(order["clientOrderId"])
        assert result.data["orders_left"] == {s: sorted(ids) for s, ids in expected.items()}
        phases = await _phases(engine, 0)
        assert [p for p in phases if p[0] == "cancel"] == [("cancel", n) for n in range(1, 5)]


async def test_a_second_press_joins_the_running_stop(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "20000"})
    async with started(_engine(sim, account, tmp_path)) as engine:
        await _ladder(engine, per_symbol=4)
        since = engine.parts.pipeline.hub.last_seq
        first, second = await asyncio.gather(
            engine.command(CommandName.EMERGENCY_STOP, {"reason": "one"}),
            engine.command(CommandName.EMERGENCY_STOP, {"reason": "two"}),
        )
        assert first.outcome is second.outcome is Outcome.OK
        assert (first.data.get("joined"), second.data["joined"]) == (None, True)
        assert second.data["reason"] == "one"
        phases = await _phases(engine, since)
        assert phases.count(("halt", 1)) == 1
        assert await _open_at_exchange(sim, account.account_id) == []
        again = await engine.command(CommandName.EMERGENCY_STOP, {})
        assert again.outcome is Outcome.OK
        assert "joined" not in again.data
        assert (await engine.snapshot())["halt_reason"] == "one"
