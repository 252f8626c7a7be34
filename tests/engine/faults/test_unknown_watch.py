"""The watch list of unanswered creates (RELIABILITY.md section 0, step 5; A3): journaled, it
survives restarts; a presumed-absent order stays watched for 24 h; a late arrival is adopted
with an alarm; a balance change nobody explained blocks the presumption; the engine never
resends anything on its own. Each test ends with I1-I5."""

from __future__ import annotations

import dataclasses
import pathlib
from datetime import UTC, datetime
from typing import Any

from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from unknown_testkit import (
    BTC,
    FAST_ABSENCE,
    ORDER_PATH,
    alarms,
    exchange_orders,
    fault_engine,
    journal_events,
    watch_entry,
)

from engine.journal import Journal
from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer

LIMIT = {"symbol": BTC, "side": "buy", "type": "limit", "quantity": "0.01", "price": "90000"}


async def presumed_absent(engine: Engine, cid: str) -> None:
    async def held() -> bool:
        entry = watch_entry(await engine.snapshot(), cid)
        return entry is not None and bool(entry["presumed_absent"])

    await until(engine, held)


async def lost_create(engine: Engine, sim: SimServer) -> str:
    """A LIMIT buy whose request the exchange never got, presumed absent; its client id."""
    await sim.admin.add_fault("drop", method="POST", path=ORDER_PATH, count=1)
    result = await submit(engine, **LIMIT)
    assert result.outcome is Outcome.UNKNOWN, result.message
    cid = str(result.data["client_order_id"])
    await presumed_absent(engine, cid)
    return cid


def arrive_late(sim: SimServer, account_id: int, cid: str) -> dict[str, Any]:
    """The lost request reaches the matching engine after all (straight into the exchange)."""
    params = {
        "symbol": BTC,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "90000",
        "newClientOrderId": cid,
    }
    return sim.exchange.new_order(account_id, params)


async def test_a3_presumed_absent_survives_a_restart_and_stays_watched(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        cid = await lost_create(engine, sim)
        first = watch_entry(await engine.snapshot(), cid)
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        restored = watch_entry(snapshot, cid)
        assert first is not None and restored is not None
        # The same entry, read from the journal; the start-up reconciliation asked once more.
        assert restored == {**first, "not_found": first["not_found"] + 1}
        assert order_in(snapshot, cid) is not None and order_in(snapshot, cid)["state"] == (
            "UNKNOWN"
        )
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK, reconciled.message
        assert "(1 presumed absent)" in reconciled.message
        entry = watch_entry(await engine.snapshot(), cid)
        assert entry is not None and entry["presumed_absent"]
        assert entry["not_found"] == first["not_found"] + 2  # asked at every reconciliation
        assert await exchange_orders(sim, account) == []  # and never resent
        await assert_invariants(engine, sim, account)


async def test_a3_the_watch_ends_after_its_time_and_closes_the_order(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    assert FAST_ABSENCE.keep_s == 24 * 3600  # what production keeps
    policy = dataclasses.replace(FAST_ABSENCE, keep_s=0.2)
    engine = fault_engine(sim, account, tmp_path, absence=policy, reconcile_interval_s=0.1)
    async with started(engine):
        cid = await lost_create(engine, sim)
        entry = watch_entry(await engine.snapshot(), cid)
        assert entry is not None
        absent_at = datetime.fromisoformat(entry["presumed_absent_at"])

        async def closed() -> bool:  # at a periodic reconciliation after the watch
            return watch_entry(await engine.snapshot(), cid) is None

        await until(engine, closed)
        assert (datetime.now(UTC) - absent_at).total_seconds() >= 0.2
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and order["state"] == "REJECTED"
        assert order["reject_reason"].startswith("never reached the exchange")
        assert await exchange_orders(sim, account) == []
        await assert_invariants(engine, sim, account)


async def test_a3_a_late_arrival_reported_by_the_stream_is_adopted_with_an_alarm(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        cid = await lost_create(engine, sim)
        placed = arrive_late(sim, account.account_id, cid)

        async def adopted() -> bool:
            order = order_in(await engine.snapshot(), cid)
            return order is not None and order["state"] == "NEW"

        await until(engine, adopted)
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and order["order_id"] == placed["orderId"]
        assert watch_entry(await engine.snapshot(), cid) is None
        (alarm,) = await alarms(engine, "order_arrived_late")
        assert alarm.startswith(f"{cid} (BTCUSDT) was presumed absent but the exchange has it")
        await assert_invariants(engine, sim, account)


async def test_a3_a_late_arrival_found_by_reconciliation_is_adopted_with_an_alarm(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        cid = await lost_create(engine, sim)
        await sim.admin.stream_fault("stall", account=account.account_id)
        arrive_late(sim, account.account_id, cid)
        await sim.admin.set_price(BTC, "89000")  # and it fills, unheard
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK, reconciled.message
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and order["state"] == "FILLED"
        assert len(await alarms(engine, "order_arrived_late")) == 1
        await assert_invariants(engine, sim, account)


async def test_a3_an_unexplained_balance_change_blocks_the_presumption_for_the_grace(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    policy = dataclasses.replace(FAST_ABSENCE, api_timeout_s=0.4, visibility_grace_s=0.3)
    engine = fault_engine(sim, account, tmp_path, absence=policy, reconcile_interval_s=0.1)
    async with started(engine):
        await sim.admin.add_fault("drop", method="POST", path=ORDER_PATH, count=1)
        result = await submit(engine, **LIMIT)
        cid = str(result.data["client_order_id"])
        await sim.admin.fund(account.account_id, "USDT", "5")  # before the deadline

        async def blocked() -> bool:
            entry = watch_entry(await engine.snapshot(), cid)
            return entry is not None and "balances changed" in (entry["evidence"] or "")

        await until(engine, blocked)
        entry = watch_entry(await engine.snapshot(), cid)
        assert entry is not None and not entry["presumed_absent"]
        assert entry["evidence"] == (
            "not presumed absent yet: balances changed since the create "
            "(USDT 10000/0 then, 10005/0 now)"
        )
        assert await alarms(engine, "order_presumed_absent") == []

        # The periodic reconciliations take a new baseline after the grace, then count K
        # answers afresh.
        await presumed_absent(engine, cid)
        notes = [e["note"] for e in await journal_events(engine, "WatchListChanged")]
        rebased = notes.index(
            "new balance baseline after unexplained changes (USDT 10000/0 then, 10005/0 now)"
        )
        assert notes.index(entry["evidence"]) < rebased < len(notes) - 1
        assert "consecutive -2013 answers" in notes[-1]
        assert len(await alarms(engine, "order_presumed_absent")) == 1
        await assert_invariants(engine, sim, account)


async def test_d2_an_intent_without_an_answer_before_a_crash_goes_through_the_policy(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    """Restarted with an intent that may have gone out: UNKNOWN, watched from the restart (the
    request left before it), presumed absent by the policy; never sent."""
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        journal_file = engine.parts.journal.path
    journal = await Journal.open(journal_file, mode="sim", account="default")
    cid = "sd-crash-7"
    created = datetime.now(UTC)
    await journal.record_intent(
        cid,
        symbol=BTC,
        payload={
            "client_order_id": cid,
            "symbol": BTC,
            "side": "BUY",
            "type": "LIMIT",
            "qty": "0.01",
            "price": "90000",
            "time_in_force": "GTC",
            "created_at": created.isoformat(),
        },
    )
    await journal.close()
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        entry = watch_entry(await engine.snapshot(), cid)
        assert entry is not None and entry["symbol"] == BTC
        assert datetime.fromisoformat(entry["since"]) > created
        await presumed_absent(engine, cid)
        assert await exchange_orders(sim, account) == []
        await assert_invariants(engine, sim, account)
