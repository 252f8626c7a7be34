"""Restarts against the same journal and the same exchange: the same orders, positions and
balances come back, and nothing is sent twice."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine_testkit import (
    assert_matches_oracle,
    engine_for,
    new_account,
    started,
    submit,
)

from engine.journal import Journal
from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"


def _orders(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("client_order_id", "state", "qty", "price", "cum_qty", "cum_quote", "origin")
    return [tuple(order[k] for k in keys) for order in snapshot["orders"]["open"]]


def _positions(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("symbol", "qty", "avg_entry", "realized_pnl", "fees", "adopted", "entry_known")
    return [tuple(position[k] for k in keys) for position in snapshot["positions"]]


async def test_restart_shows_the_same_state_and_sends_nothing_twice(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "200000", "BTC": "0.1"})
    async with started(engine_for(sim, account, tmp_path)) as first:
        market = await submit(first, symbol=BTC, side="buy", type="market", quantity="0.01")
        sold = await submit(first, symbol=BTC, side="sell", type="market", quantity="0.05")
        assert sold.outcome is Outcome.OK, sold.message
        resting = await submit(
            first, symbol=BTC, side="buy", type="limit", quantity="0.02", price="90000"
        )
        partial = await submit(
            first, symbol=BTC, side="buy", type="limit", quantity="1", price="95000.01"
        )
        assert [r.outcome for r in (market, resting, partial)] == [Outcome.OK] * 3
        await assert_matches_oracle(first, sim, account)
        before = await first.snapshot()
        assert [o[1] for o in _orders(before)] == ["NEW", "PARTIALLY_FILLED"]
    orders_sent = len((await sim.admin.oracle(account.account_id))["orders"])
    assert orders_sent == 4

    async with started(engine_for(sim, account, tmp_path)) as second:
        after = await second.snapshot()
        assert _orders(after) == _orders(before)
        assert _positions(after) == _positions(before)
        assert after["balances"] == before["balances"]
        assert [o["client_order_id"] for o in after["orders"]["recent"]] == [
            o["client_order_id"] for o in before["orders"]["recent"]
        ]
        assert after["seq"] > before["seq"]  # the restart's own events follow
        await assert_matches_oracle(second, sim, account)
        assert len((await sim.admin.oracle(account.account_id))["orders"]) == orders_sent

        # New ids never collide with the first run's.
        another = await submit(
            second, symbol=BTC, side="buy", type="limit", quantity="0.001", price="80000"
        )
        assert another.outcome is Outcome.OK, another.message
        first_ids = {o[0] for o in _orders(before)} | {
            o["client_order_id"] for o in before["orders"]["recent"]
        }
        assert another.data["client_order_id"] not in first_ids


async def test_an_intent_journaled_before_a_crash_is_queried_never_sent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "1000"})
    async with started(engine_for(sim, account, tmp_path)) as first:
        journal_file = first.parts.journal.path
    # A crash right after the intent commit: the order row was never written.
    journal = await Journal.open(journal_file, mode="sim", account="default")
    cid = "sd-crash-1"
    await journal.record_intent(
        cid,
        symbol=BTC,
        payload={
            "client_order_id": cid,
            "symbol": BTC,
            "side": "BUY",
            "type": "MARKET",
            "qty": "0.001",
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    await journal.close()

    async with started(engine_for(sim, account, tmp_path)) as second:
        snapshot = await second.snapshot()
        (order,) = snapshot["orders"]["open"]
        assert (order["client_order_id"], order["state"]) == (cid, "UNKNOWN")
        assert [w["client_order_id"] for w in snapshot["watch_list"]] == [cid]
        assert snapshot["reconciled"] is True
        assert (await sim.admin.oracle(account.account_id))["orders"] == []
        cancel = await second.command(CommandName.CANCEL_ORDER, {"client_order_id": cid})
        assert cancel.outcome is Outcome.UNKNOWN  # the exchange does not know it either
        assert (await sim.admin.oracle(account.account_id))["orders"] == []
        balances = {b["asset"]: Decimal(b["free"]) for b in snapshot["balances"]}
        assert balances["USDT"] == 1000
