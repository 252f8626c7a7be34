"""Reconciliation (R5, R6; issue 4): trading is blocked at start until a run is clean or the
operator accepts the differences; orders placed outside the desk are adopted as EXTERNAL and
never touched by the engine on its own; a fill of one of our ids the journal does not know is
adopted with an alarm. Each test ends with I1-I5."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from engine_testkit import new_account, order_in, started, submit
from invariants import assert_invariants
from unknown_testkit import BTC, exchange_orders, fault_engine, journal_events

from engine.core.order import Order
from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce
from engine.journal import Journal
from engine.service.api import CommandName, Outcome
from engine.service.assembly import EngineStartError
from engine.service.reconcile import ACCEPTED_REASON
from engine.service.records import order_payload
from engine.sim.runner import SimServer

ETH = "ETHUSDT"
LIMIT = {"symbol": BTC, "side": "buy", "type": "limit", "quantity": "0.01", "price": "90000"}


async def test_reconcile_start_retries_until_clean_and_refuses_when_never_clean(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    await sim.admin.add_fault("drop", method="GET", path="/api/v3/account", count=2)
    engine = fault_engine(sim, account, tmp_path, start_reconcile_attempts=3)
    async with started(engine):
        runs = await journal_events(engine, "ReconcileFinished")
        assert [(r["trigger"], r["clean"]) for r in runs] == [
            ("start", False),
            ("start", False),
            ("start", True),
        ]
        assert (await engine.snapshot())["reconciled"] is True
        await assert_invariants(engine, sim, account)

    await sim.admin.add_fault("drop", method="GET", path="/api/v3/account", count=2)
    never = fault_engine(sim, account, tmp_path, start_reconcile_attempts=2)
    with pytest.raises(EngineStartError, match="start-up reconciliation was not clean"):
        await never.start()
    assert never.stopped.is_set()
    assert await exchange_orders(sim, account) == []


async def journal_a_phantom(data_dir: pathlib.Path, cid: str) -> None:
    """The journal holds an acknowledged open order the exchange does not have (an exchange
    that archived it, a journal from elsewhere)."""
    journal = await Journal.open(
        data_dir / "sim-default" / "journal.sqlite", mode="sim", account="default"
    )
    seen = datetime.now(UTC) - timedelta(hours=1)
    order = Order(
        client_order_id=cid,
        symbol=BTC,
        origin=Origin.DESK,
        state=OrderState.NEW,
        last_known_state=OrderState.NEW,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal("90000"),
        time_in_force=TimeInForce.GTC,
        order_id=424242,
        created_at=seen,
        updated_at=seen,
    )
    await journal.upsert_order(
        cid,
        symbol=BTC,
        state="NEW",
        terminal=False,
        payload=order_payload(order),
        updated_at=seen,
    )
    await journal.close()


async def test_reconcile_differences_block_trading_until_the_operator_accepts(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        journal_file = engine.parts.journal.path
    assert journal_file == tmp_path / "sim-default" / "journal.sqlite"
    cid = "sd-elsewhere-1"
    await journal_a_phantom(tmp_path, cid)
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        assert snapshot["reconciled"] is False  # started, but blocked
        (difference,) = snapshot["reconcile"]["last_differences"]
        assert difference == {
            "client_order_id": cid,
            "symbol": BTC,
            "order_id": 424242,
            "book": "NEW",
            "exchange": "not found",
            "detail": "NEW here (order id 424242), not found at the exchange",
        }
        refused = await submit(engine, **LIMIT)
        assert refused.outcome is Outcome.REFUSED
        assert refused.message.startswith("not reconciled with the exchange")
        assert await exchange_orders(sim, account) == []

        again = await engine.command(CommandName.RECONCILE, {})
        assert again.outcome is Outcome.VENUE  # still there: nothing changes by itself
        assert again.data["differences"] == [difference]

        accepted = await engine.command(CommandName.RECONCILE, {"accept": True})
        assert accepted.outcome is Outcome.OK, accepted.message
        assert accepted.data["accepted"] == [cid]
        snapshot = await engine.snapshot()
        assert snapshot["reconciled"] is True
        closed = order_in(snapshot, cid)
        assert closed is not None
        assert (closed["state"], closed["expiry_reason"]) == ("EXPIRED", ACCEPTED_REASON)
        assert await exchange_orders(sim, account) == []  # nothing was sent to close it
        placed = await submit(engine, **LIMIT)
        assert placed.outcome is Outcome.OK, placed.message
        await assert_invariants(engine, sim, account)


def place_elsewhere(sim: SimServer, account_id: int, cid: str, **params: str) -> dict[str, Any]:
    """Another client on the same account (the exchange's web page, a script) places an order."""
    order = {
        "symbol": BTC,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "89000",
        "newClientOrderId": cid,
        **params,
    }
    return sim.exchange.new_order(account_id, order)


async def test_reconcile_external_orders_are_adopted_and_never_touched_automatically(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    place_elsewhere(sim, account.account_id, "web_before_start")
    engine = fault_engine(sim, account, tmp_path, reconcile_interval_s=0.1)
    async with started(engine):
        place_elsewhere(sim, account.account_id, "web_while_running", symbol=ETH, price="3000")
        ours = await submit(engine, **LIMIT)
        assert ours.outcome is Outcome.OK, ours.message
        # Several periodic reconciliations, our own cancel, a cancel-all of another symbol.
        seen = len(await journal_events(engine, "ReconcileFinished"))
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK, reconciled.message
        canceled = await engine.command(
            CommandName.CANCEL_ORDER, {"client_order_id": ours.data["client_order_id"]}
        )
        assert canceled.outcome is Outcome.OK, canceled.message
        none_on_bnb = await engine.command(CommandName.CANCEL_ALL_ORDERS, {"symbol": "BNBUSDT"})
        assert none_on_bnb.outcome is Outcome.OK, none_on_bnb.message
        assert len(await journal_events(engine, "ReconcileFinished")) > seen
        snapshot = await engine.snapshot()
        for cid in ("web_before_start", "web_while_running"):
            order = order_in(snapshot, cid)
            assert order is not None and (order["origin"], order["state"]) == ("EXTERNAL", "NEW")
        detected = await journal_events(engine, "ExternalOrderDetected")
        assert sorted(e["order"]["client_order_id"] for e in detected) == [
            "web_before_start",
            "web_while_running",
        ]
        truth = {o["clientOrderId"]: o["status"] for o in await exchange_orders(sim, account)}
        assert truth["web_before_start"] == truth["web_while_running"] == "NEW"
        await assert_invariants(engine, sim, account)

        # The operator's explicit cancel-all of a symbol takes the external order with it.
        everything = await engine.command(CommandName.CANCEL_ALL_ORDERS, {"symbol": BTC})
        assert everything.data["canceled"] == ["web_before_start"]
        await assert_invariants(engine, sim, account)


async def test_reconcile_an_unknown_fill_of_ours_is_adopted_with_an_alarm(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        await sim.admin.stream_fault("stall", account=account.account_id)
        # An order with our prefix the journal never saw (a lost journal tail, another desk).
        placed = place_elsewhere(
            sim,
            account.account_id,
            "sd-lost-9",
            type="MARKET",
            quantity="0.01",
            timeInForce="",
            price="",
        )
        assert placed["status"] == "FILLED"
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK, reconciled.message
        order = order_in(await engine.snapshot(), "sd-lost-9")
        assert order is not None
        assert (order["origin"], order["state"]) == ("ADOPTED", "FILLED")
        assert Decimal(order["cum_qty"]) == Decimal("0.01")
        (adopted,) = await journal_events(engine, "OrderAdopted")
        assert adopted["alarm"] is True and adopted["order"]["client_order_id"] == "sd-lost-9"
        fills = [e for e in await journal_events(engine) if e.get("fill")]
        assert {e["fill"]["order_id"] for e in fills} == {placed["orderId"]}
        await assert_invariants(engine, sim, account)
