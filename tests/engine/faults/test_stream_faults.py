"""Catalogue C (streams and connectivity) through the real client and the embedded exchange:
silent stalls, python-binance giving up, the 24-hour cut and serverShutdown, the subscription
ending, duplicated and reordered events. Each test ends with the invariants I1-I5."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import pytest
from engine_testkit import new_account, order_in, started, submit, until
from invariants import assert_invariants
from streams_testkit import BTC, engine_on, next_event, seq_now

from engine.service.api import Outcome
from engine.service.engine import Engine
from engine.sim.runner import SimServer
from engine.venue.client import TrackedWebsocketAPI
from engine.venue.supervisor import SupervisorConfig


async def _filled(engine: Engine, cid: str, qty: str) -> bool:
    order = order_in(await engine.snapshot(), cid)
    return (
        order is not None
        and order["state"] == "FILLED"
        and Decimal(order["cum_qty"]) == Decimal(qty)
    )


async def _resting_buy(engine: Engine, qty: str, price: str = "94000") -> str:
    placed = await submit(engine, symbol=BTC, side="buy", type="limit", quantity=qty, price=price)
    assert placed.outcome is Outcome.OK, placed.message
    return str(placed.data["client_order_id"])


async def test_c1_a_silent_stall_degrades_polls_over_rest_reconnects_and_reconciles(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    stream = SupervisorConfig(
        stall_after_s=0.5,
        probe_timeout_s=0.3,
        connect_timeout_s=5.0,
        exit_timeout_s=1.0,
        backoff_base_s=1.5,  # the stream stays down long enough for a REST poll to run
        backoff_cap_s=1.5,
    )
    engine = engine_on(sim, account, tmp_path, user_stream=stream, degraded_poll_s=0.2)
    async with started(engine):
        cid = await _resting_buy(engine, "0.02")
        since = await seq_now(engine)
        await sim.admin.stream_fault("stall", account=account.account_id)
        await sim.admin.set_price(BTC, "93000")  # fills; its events wait on the silent stream
        degraded = await next_event(engine, since, "StreamHealthChanged", health="DEGRADED")
        assert degraded["stream"] == "user"
        assert degraded["reason"] == "stall: no frame for 0.5 s"
        alarm = await next_event(engine, since, "EngineAlarm", kind="user_stream")
        assert "DEGRADED" in alarm["message"]
        refused = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert refused.outcome is Outcome.REFUSED
        assert refused.message.startswith("the user stream is DEGRADED")
        # While the stream is down, REST polling finds the fill the stream lost ...
        polled = await next_event(engine, degraded["seq"], "ReconcileFinished", trigger="polling")
        assert polled["clean"] is True
        snapshot = await engine.snapshot()
        assert snapshot["health"]["user_stream"]["state"] in ("DEGRADED", "DOWN")
        assert await _filled(engine, cid, "0.02")
        # ... then the stream is subscribed again and a gap reconciliation runs.
        connected = await next_event(
            engine, polled["seq"], "StreamHealthChanged", health="CONNECTED"
        )
        gap = await next_event(engine, since, "ReconcileFinished", trigger="user stream gap")
        assert gap["clean"] is True
        assert gap["seq"] > connected["seq"]
        await until(engine, lambda: _reconciled(engine))
        await assert_invariants(engine, sim, account)


async def _reconciled(engine: Engine) -> bool:
    return bool((await engine.snapshot())["reconciled"])


def _inject(engine: Engine, frame: dict[str, object]) -> TrackedWebsocketAPI:
    """Put a frame on the user subscription's queue, as python-binance does with its error dicts
    (a give-up after MAX_RECONNECTS) or a Binance event; returns the WebSocket API in use."""
    api = engine.parts.venue.client.ws_api  # type: ignore[attr-defined]
    assert isinstance(api, TrackedWebsocketAPI)
    queues = list(api._subscription_queues.values())
    assert len(queues) == 1
    queues[0].put_nowait(frame)
    return api


async def _events(engine: Engine, since: int) -> list[dict[str, object]]:
    last = await seq_now(engine)
    found: list[dict[str, object]] = []
    if last <= since:
        return found
    async for event in engine.events(since):
        found.append(event)
        if int(event["seq"]) >= last:
            break
    return found


@pytest.mark.parametrize(
    "error",
    [
        # C2: python-binance gave up reconnecting (MAX_RECONNECTS) and says so on the queue.
        {"e": "error", "type": "BinanceWebsocketUnableToConnect", "m": "Max reconnect retries"},
        # C7: a slow consumer let a library queue overflow: a gap like any other.
        {"e": "error", "type": "BinanceWebsocketQueueOverflow", "m": "Message queue size exceeded"},
    ],
    ids=["c2-gave-up", "c7-queue-overflow"],
)
async def test_c2_c7_an_error_frame_rebuilds_the_socket_alarms_and_reconciles(
    sim: SimServer, tmp_path: pathlib.Path, error: dict[str, str]
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        cid = await _resting_buy(engine, "0.01")
        since = await seq_now(engine)
        old_api = _inject(engine, dict(error))
        degraded = await next_event(engine, since, "StreamHealthChanged", health="DEGRADED")
        assert degraded["reason"] == f"connection error {error['type']}"
        alarm = await next_event(engine, since, "EngineAlarm", kind="user_stream")
        assert error["type"] in alarm["message"]
        await next_event(engine, degraded["seq"], "StreamHealthChanged", health="CONNECTED")
        gap = await next_event(engine, since, "ReconcileFinished", trigger="user stream gap")
        assert gap["clean"] is True
        assert gap["summary"].startswith("1 open order(s), 0 queried, 0 trade(s) folded in")
        # A new WebSocket API and socket manager, subscribed again: events flow on it.
        assert engine.parts.venue.client.ws_api is not old_api  # type: ignore[attr-defined]
        await sim.admin.set_price(BTC, "93000")
        await until(engine, lambda: _filled(engine, cid, "0.01"))
        await assert_invariants(engine, sim, account)


async def test_c6_the_subscription_ending_resubscribes_and_reconciles(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        cid = await _resting_buy(engine, "0.01")
        since = await seq_now(engine)
        _inject(engine, {"e": "eventStreamTerminated", "E": 1})
        degraded = await next_event(engine, since, "StreamHealthChanged", health="DEGRADED")
        assert degraded["reason"] == "subscription terminated by the exchange"
        await next_event(engine, degraded["seq"], "StreamHealthChanged", health="CONNECTED")
        gap = await next_event(engine, since, "ReconcileFinished", trigger="user stream gap")
        assert gap["clean"] is True
        await sim.admin.set_price(BTC, "93000")  # the new subscription carries the fill
        await until(engine, lambda: _filled(engine, cid, "0.01"))
        await assert_invariants(engine, sim, account)


async def test_c3_the_connection_is_replaced_before_its_age_limit_and_nothing_is_missing(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    stream = SupervisorConfig(
        max_connection_age_s=1.0,  # Binance cuts at 24 h; the engine replaces it before
        connect_timeout_s=5.0,
        exit_timeout_s=1.0,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
    )
    async with started(engine_on(sim, account, tmp_path, user_stream=stream)) as engine:
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        since = await seq_now(engine)
        degraded = await next_event(engine, since, "StreamHealthChanged", health="DEGRADED")
        assert degraded["reason"] == "connection age limit: replaced before the exchange's 24 h cut"
        await next_event(engine, degraded["seq"], "StreamHealthChanged", health="CONNECTED")
        gap = await next_event(engine, since, "ReconcileFinished", trigger="user stream gap")
        assert gap["clean"] is True
        assert gap["summary"].startswith("0 open order(s), 0 queried, 0 trade(s) folded in")
        events = await _events(engine, since)
        # Planned: no alarm; nothing was missing, so no fill was processed again.
        assert [e for e in events if e["event"] == "EngineAlarm"] == []
        assert [e for e in events if e["event"] in ("OrderFilled", "OrderPartiallyFilled")] == []
        await assert_invariants(engine, sim, account)


async def test_c3_server_shutdown_reconnects_at_once_and_the_gap_finds_nothing_missing(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        cid = await _resting_buy(engine, "0.01")
        since = await seq_now(engine)
        await sim.admin.stream_fault("server_shutdown", account=account.account_id)
        degraded = await next_event(engine, since, "StreamHealthChanged", health="DEGRADED")
        assert degraded["reason"] == "server shutdown announced"
        await next_event(engine, degraded["seq"], "StreamHealthChanged", health="CONNECTED")
        gap = await next_event(engine, since, "ReconcileFinished", trigger="user stream gap")
        assert gap["clean"] is True
        assert gap["summary"].startswith("1 open order(s), 0 queried, 0 trade(s) folded in")
        events = await _events(engine, since)
        assert [e for e in events if e["event"] == "EngineAlarm"] == []
        await sim.admin.set_price(BTC, "93000")
        await until(engine, lambda: _filled(engine, cid, "0.01"))
        await assert_invariants(engine, sim, account)


async def test_c4_duplicated_events_change_nothing(sim: SimServer, tmp_path: pathlib.Path) -> None:
    account = await new_account(sim, {"USDT": "100000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        since = await seq_now(engine)
        await sim.admin.stream_fault("duplicate", account=account.account_id, count=100)
        # A resting order filled on the stream only, and a market order whose FULL reply and
        # stream report the same fills: every fill arrives two or three times.
        cid = await _resting_buy(engine, "0.02")
        await sim.admin.set_price(BTC, "93000")
        await until(engine, lambda: _filled(engine, cid, "0.02"))
        market = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.5")
        assert market.outcome is Outcome.OK, market.message
        await assert_invariants(engine, sim, account)
        oracle = await sim.admin.oracle(account.account_id)
        events = await _events(engine, since)
        fills = [e for e in events if e["event"] in ("OrderFilled", "OrderPartiallyFilled")]
        trade_ids = sorted(int(e["fill"]["trade_id"]) for e in fills)  # type: ignore[index]
        assert trade_ids == sorted(int(t["id"]) for t in oracle["trades"])
        assert len(oracle["trades"]) == 3  # one fill, then the market order's two


async def test_c5_reordered_events_end_in_the_same_state(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "100000"})
    async with started(engine_on(sim, account, tmp_path)) as engine:
        since = await seq_now(engine)
        # The four events of a market order that takes two levels (NEW, PARTIALLY_FILLED,
        # FILLED, the balances) arrive in reverse, before the REST reply.
        await sim.admin.stream_fault("reorder", account=account.account_id, count=4)
        await sim.admin.add_fault(
            "delay", method="POST", path="/api/v3/order", count=1, seconds=1.0
        )
        market = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.5")
        assert market.outcome is Outcome.OK, market.message
        cid = str(market.data["client_order_id"])
        assert market.data["order"]["state"] == "FILLED"
        stream = await sim.admin.call("GET", "stream")
        assert stream["userEventFaults"] == []  # the four were held, then sent in reverse
        events = await _events(engine, since)
        mine = [e for e in events if e.get("order", {}).get("client_order_id") == cid]  # type: ignore[union-attr]
        # The FILLED report came first; the order still went through exactly the events of an
        # in-order delivery, and the late PARTIALLY_FILLED and NEW moved nothing back.
        assert [e["event"] for e in mine] == [
            "OrderSubmitted",
            "OrderAccepted",
            "OrderPartiallyFilled",
            "OrderFilled",
        ]
        assert await _filled(engine, cid, "0.5")
        await assert_invariants(engine, sim, account)
