"""Creates whose outcome is unknown (RELIABILITY.md A1-A14): the real client against the embedded
exchange's fault injection. An unknown outcome stays UNKNOWN and is settled by the user stream
or by querying the client order id, never by resending; definite rejects release the order;
a connect failure before sending is retried with the same id. Each test ends with I1-I5.

The user stream is stalled where the test is about the query path, so that the stream cannot
settle the order first (that race is A12's own test).
"""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import pytest
from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from unknown_testkit import (
    BTC,
    ORDER_PATH,
    ClientFaults,
    alarms,
    exchange_orders,
    fault_engine,
    journal_events,
    watch_entry,
)

from engine.service.absence import AbsencePolicy
from engine.service.api import CommandName, Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer
from engine.venue.binance import VenueOptions

# A short client timeout for the tests that make the exchange answer late.
QUICK_TIMEOUT = VenueOptions(request_timeout_s=1.0, close_timeout_s=2.0)


async def stall_stream(sim: SimServer, account_id: int) -> None:
    await sim.admin.stream_fault("stall", account=account_id)


async def state_of(engine: Engine, cid: str) -> str | None:
    order = order_in(await engine.snapshot(), cid)
    return None if order is None else str(order["state"])


async def settled_to(engine: Engine, cid: str, state: str) -> None:
    async def reached() -> bool:
        return await state_of(engine, cid) == state

    await until(engine, reached)


async def states_journaled(engine: Engine, cid: str) -> list[str]:
    """The states of the order's events, in journal order, repeats folded."""
    states: list[str] = []
    for event in await journal_events(engine):
        order = event.get("order")
        mine = isinstance(order, dict) and order["client_order_id"] == cid
        if mine and (not states or states[-1] != order["state"]):
            states.append(order["state"])
    return states


async def limit_buy(engine: Engine) -> Any:
    return await submit(
        engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
    )


async def test_a1_timeout_after_placing_is_adopted_by_query_not_resent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path, venue=QUICK_TIMEOUT)) as engine:
        await stall_stream(sim, account.account_id)
        # Placed at once, answered after the client gave up.
        await sim.admin.add_fault("delay", method="POST", path=ORDER_PATH, count=1, seconds=1.5)
        result = await limit_buy(engine)
        assert result.outcome is Outcome.UNKNOWN, result.message
        cid = result.data["client_order_id"]
        assert "will not be resent" in result.message
        await settled_to(engine, cid, "NEW")
        (placed,) = await exchange_orders(sim, account)
        assert (placed["clientOrderId"], placed["status"]) == (cid, "NEW")
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and order["order_id"] == placed["orderId"]
        assert await states_journaled(engine, cid) == ["PENDING_NEW", "UNKNOWN", "NEW"]
        assert watch_entry(await engine.snapshot(), cid) is None
        await assert_invariants(engine, sim, account)


async def test_a2_market_filled_behind_a_lost_reply_is_booked_once_and_never_resent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        await stall_stream(sim, account.account_id)
        await sim.admin.add_fault("lose_response", method="POST", path=ORDER_PATH, count=1)
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.UNKNOWN, result.message
        cid = result.data["client_order_id"]
        await settled_to(engine, cid, "FILLED")
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and Decimal(order["cum_qty"]) == Decimal("0.01")
        # Binance would take the same id again now that the first is FILLED: it never went out.
        oracle = await sim.admin.oracle(account.account_id)
        assert [o["clientOrderId"] for o in oracle["orders"]] == [cid]
        assert len(oracle["trades"]) >= 1
        await assert_invariants(engine, sim, account)
        assert [o["clientOrderId"] for o in await exchange_orders(sim, account)] == [cid]


async def test_a3_dropped_request_is_presumed_absent_only_by_the_policy(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        await sim.admin.add_fault("drop", method="POST", path=ORDER_PATH, count=1)
        seq = engine.parts.pipeline.hub.last_seq
        result = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert result.outcome is Outcome.UNKNOWN, result.message
        cid = result.data["client_order_id"]

        async def presumed() -> bool:
            entry = watch_entry(await engine.snapshot(), cid)
            return entry is not None and entry["presumed_absent"]

        await until(engine, presumed)
        snapshot = await engine.snapshot()
        entry = watch_entry(snapshot, cid)
        assert entry is not None
        assert entry["not_found"] >= 3  # K consecutive -2013
        assert entry["symbol"] == BTC
        evidence = entry["evidence"]
        assert "consecutive -2013" in evidence and "balances unchanged" in evidence
        # Still UNKNOWN (a late arrival stays adoptable), never resent, nothing at the exchange.
        assert await state_of(engine, cid) == "UNKNOWN"
        (alarm,) = await alarms(engine, "order_presumed_absent")
        assert alarm.startswith(f"{cid} (BTCUSDT): presumed absent")
        assert "new id" in alarm
        assert await exchange_orders(sim, account) == []
        assert engine.parts.pipeline.hub.last_seq > seq
        # A replacement is the operator's new order: a new id.
        again = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert again.outcome is Outcome.OK, again.message
        assert again.data["client_order_id"] != cid
        assert [o["clientOrderId"] for o in await exchange_orders(sim, account)] == [
            again.data["client_order_id"]
        ]
        await assert_invariants(engine, sim, account)


async def test_a3_nothing_is_presumed_absent_before_the_deadline(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    """With Binance's real 10 s processing timeout, the settle queries (all -2013) and a
    reconciliation leave the order UNKNOWN and merely watched."""
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path, absence=AbsencePolicy())) as engine:
        assert engine.options.absence.api_timeout_s == 10.0
        await sim.admin.add_fault("drop", method="POST", path=ORDER_PATH, count=1)
        result = await limit_buy(engine)
        cid = result.data["client_order_id"]

        async def queried() -> bool:  # the four settle queries of engine_for's delays
            entry = watch_entry(await engine.snapshot(), cid)
            return entry is not None and entry["not_found"] >= 4

        await until(engine, queried)
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.OK, reconciled.message
        entry = watch_entry(await engine.snapshot(), cid)
        assert entry is not None and entry["presumed_absent"] is False
        assert entry["not_found"] == 5
        assert await state_of(engine, cid) == "UNKNOWN"
        assert await alarms(engine, "order_presumed_absent") == []
        assert await exchange_orders(sim, account) == []
        await assert_invariants(engine, sim, account)


@pytest.mark.parametrize("placed", [True, False], ids=["placed", "not-placed"])
@pytest.mark.parametrize(
    ("case", "fault"),
    [
        ("a4", {"kind": "error_code", "code": -1007, "status": 503}),
        ("a5", {"kind": "error_code", "code": -1006, "status": 503}),
        ("a6", {"kind": "http_5xx", "status": 502, "format": "html"}),
        ("a6", {"kind": "http_5xx", "status": 503}),
        ("a6", {"kind": "http_5xx", "status": 504}),
    ],
)
async def test_a4_a5_a6_unknown_codes_and_5xx_are_never_rejections(
    sim: SimServer, tmp_path: pathlib.Path, case: str, fault: dict[str, Any], placed: bool
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        await stall_stream(sim, account.account_id)
        rule = {**fault, "method": "POST", "path": ORDER_PATH, "count": 1, "execute": placed}
        await sim.admin.call("POST", "faults", rule)
        result = await limit_buy(engine)
        assert result.outcome is Outcome.UNKNOWN, (case, result.message)
        cid = result.data["client_order_id"]
        if placed:
            await settled_to(engine, cid, "NEW")
            assert [o["clientOrderId"] for o in await exchange_orders(sim, account)] == [cid]
        else:

            async def presumed() -> bool:
                entry = watch_entry(await engine.snapshot(), cid)
                return entry is not None and entry["presumed_absent"]

            await until(engine, presumed)
            assert await state_of(engine, cid) == "UNKNOWN"
            assert await exchange_orders(sim, account) == []
        assert "REJECTED" not in await states_journaled(engine, cid)
        await assert_invariants(engine, sim, account)


@pytest.mark.parametrize(("kind", "placed"), [("lose_response", True), ("drop", False)])
async def test_a7_connection_reset_after_sending_is_unknown(
    sim: SimServer, tmp_path: pathlib.Path, kind: str, placed: bool
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        await stall_stream(sim, account.account_id)
        await sim.admin.add_fault(kind, method="POST", path=ORDER_PATH, count=1)
        result = await limit_buy(engine)
        assert result.outcome is Outcome.UNKNOWN, result.message
        cid = result.data["client_order_id"]
        assert result.data["order"]["state"] == "UNKNOWN"
        if placed:
            await settled_to(engine, cid, "NEW")
        else:

            async def watched() -> bool:
                entry = watch_entry(await engine.snapshot(), cid)
                return entry is not None and entry["presumed_absent"]

            await until(engine, watched)
        assert len(await exchange_orders(sim, account)) == int(placed)
        await assert_invariants(engine, sim, account)


async def test_a8_connect_failure_before_sending_is_retried_with_the_same_id(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    faults = ClientFaults()
    venue = VenueOptions(request_timeout_s=3.0, session_params=faults.session_params())
    async with started(fault_engine(sim, account, tmp_path, venue=venue)) as engine:
        faults.refusals = 1
        result = await limit_buy(engine)
        assert result.outcome is Outcome.OK, result.message
        assert faults.refused == [ORDER_PATH]
        cid = result.data["client_order_id"]
        assert [o["clientOrderId"] for o in await exchange_orders(sim, account)] == [cid]
        assert "UNKNOWN" not in await states_journaled(engine, cid)

        faults.refusals = 2  # the retry is refused too: provably never sent, so REJECTED
        second = await limit_buy(engine)
        assert second.outcome is Outcome.VENUE, second.message
        assert "could not be sent" in second.message
        assert second.data["order"]["state"] == "REJECTED"
        assert faults.refused == [ORDER_PATH] * 3
        assert len(await exchange_orders(sim, account)) == 1
        await assert_invariants(engine, sim, account)


def assert_released(snapshot: dict[str, Any], cid: str) -> None:
    """A rejected order holds nothing: not open, and no USDT locked."""
    assert order_in(snapshot, cid) is not None
    assert [o["client_order_id"] for o in snapshot["orders"]["open"]] == []
    assert {b["asset"]: Decimal(b["locked"]) for b in snapshot["balances"]}["USDT"] == 0


async def test_a10_insufficient_balance_at_the_exchange_is_a_definite_reject(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        # The exchange took money the stream has not reported yet: the local check passes.
        await stall_stream(sim, account.account_id)
        await sim.admin.fund(account.account_id, "USDT", "-9500")
        poor = await limit_buy(engine)  # 900 USDT; the ledger still thinks 10000 are there
        assert poor.outcome is Outcome.VENUE, poor.message
        assert "code=-2010" in poor.message
        cid = poor.data["client_order_id"]
        assert poor.data["order"]["state"] == "REJECTED"
        assert await states_journaled(engine, cid) == ["PENDING_NEW", "REJECTED"]
        assert_released(await engine.snapshot(), cid)
        assert await exchange_orders(sim, account) == []
        await assert_invariants(engine, sim, account)


async def test_a10_limit_maker_that_would_take_is_rejected_not_resent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        maker = await submit(
            engine, symbol=BTC, side="buy", type="limit_maker", quantity="0.01", price="96000"
        )
        assert maker.outcome is Outcome.VENUE, maker.message
        assert "code=-2010" in maker.message
        cid = maker.data["client_order_id"]
        assert maker.data["order"]["state"] == "REJECTED"
        assert_released(await engine.snapshot(), cid)
        assert await exchange_orders(sim, account) == []  # the exchange kept no record
        await assert_invariants(engine, sim, account)


async def test_a10_filter_failure_is_rejected_and_refreshes_the_rules(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path)) as engine:
        # What the local check knows never reaches the exchange.
        local = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.00001", price="90000"
        )
        assert local.outcome is Outcome.REFUSED and "refused before sending" in local.message
        assert await exchange_orders(sim, account) == []
        # A -1013 the local check could not foresee (filters changed at the exchange; here a
        # fault): rejected, and the symbol rules are read afresh.
        before = engine.parts.rules[BTC]
        await sim.admin.add_fault(
            "error_code",
            method="POST",
            path=ORDER_PATH,
            count=1,
            code=-1013,
            status=400,
            msg="Filter failure: PRICE_FILTER",
        )
        filtered = await limit_buy(engine)
        assert filtered.outcome is Outcome.VENUE, filtered.message
        assert "code=-1013" in filtered.message
        assert filtered.data["order"]["state"] == "REJECTED"

        async def refreshed() -> bool:
            return engine.parts.rules[BTC] is not before

        await until(engine, refreshed)
        assert engine.parts.rules[BTC] == before  # the same filters, read again
        assert_released(await engine.snapshot(), filtered.data["client_order_id"])
        await assert_invariants(engine, sim, account)


@pytest.mark.parametrize(("kind", "state"), [("limit", "NEW"), ("market", "FILLED")])
async def test_a12_stream_before_the_reply_is_not_downgraded_by_its_timeout(
    sim: SimServer, tmp_path: pathlib.Path, kind: str, state: str
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(fault_engine(sim, account, tmp_path, venue=QUICK_TIMEOUT)) as engine:
        await sim.admin.add_fault("delay", method="POST", path=ORDER_PATH, count=1, seconds=1.5)
        price = {"price": "90000"} if kind == "limit" else {}
        result = await submit(engine, symbol=BTC, side="buy", type=kind, quantity="0.01", **price)
        assert result.outcome is Outcome.OK, result.message
        assert "the user stream reported the order" in result.message
        cid = result.data["client_order_id"]
        assert result.data["order"]["state"] == state
        assert "UNKNOWN" not in await states_journaled(engine, cid)
        assert len(await exchange_orders(sim, account)) == 1
        await assert_invariants(engine, sim, account)


async def test_a13_fills_without_any_execution_report_are_found_by_polling(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    engine = fault_engine(sim, account, tmp_path, reconcile_interval_s=0.2)
    async with started(engine):
        await stall_stream(sim, account.account_id)
        result = await limit_buy(engine)
        assert result.outcome is Outcome.OK, result.message  # the REST ack is enough for NEW
        cid = result.data["client_order_id"]
        assert result.data["order"]["state"] == "NEW"
        await sim.admin.set_price(BTC, "89900")  # fills it; no executionReport gets out
        await settled_to(engine, cid, "FILLED")
        order = order_in(await engine.snapshot(), cid)
        assert order is not None and Decimal(order["cum_qty"]) == Decimal("0.01")
        await assert_invariants(engine, sim, account)


@pytest.mark.parametrize(
    ("blank", "reason"), [(False, "unreadable reply"), (True, "missing")], ids=["cut", "empty"]
)
async def test_a14_unreadable_reply_is_unknown_not_rejected(
    sim: SimServer, tmp_path: pathlib.Path, blank: bool, reason: str
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    faults = ClientFaults()
    venue = VenueOptions(request_timeout_s=3.0, session_params=faults.session_params())
    async with started(fault_engine(sim, account, tmp_path, venue=venue)) as engine:
        await stall_stream(sim, account.account_id)
        faults.truncations, faults.blank = 1, blank
        result = await limit_buy(engine)
        assert faults.truncations == 0
        assert result.outcome is Outcome.UNKNOWN, result.message
        assert reason in result.message
        cid = result.data["client_order_id"]
        await settled_to(engine, cid, "NEW")
        assert [o["clientOrderId"] for o in await exchange_orders(sim, account)] == [cid]
        assert await states_journaled(engine, cid) == ["PENDING_NEW", "UNKNOWN", "NEW"]
        await assert_invariants(engine, sim, account)
