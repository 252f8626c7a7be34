"""The user data stream supervisor and the mark stream against the embedded exchange."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest
from Crypto.PublicKey import ECC
from pydantic import SecretStr
from venue_testkit import make_venue, next_item

from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.venue.binance import BinanceVenue
from engine.venue.endpoints import Credentials, read_private_key_pem
from engine.venue.health import StreamGap, StreamHealth, StreamStatus
from engine.venue.marketdata import Mark, MarkStore
from engine.venue.parse import parse_execution_report
from engine.venue.supervisor import Reconnect, SupervisorConfig
from engine.venue.timing import SystemClock
from engine.venue.userstream import UserStreamSupervisor

SYMBOL = "BTCUSDT"
QUICK = SupervisorConfig(
    stall_after_s=30.0,
    connect_timeout_s=5.0,
    exit_timeout_s=2.0,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
)


class Recorder:
    """Callbacks of one supervisor, as queues a test can await."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.statuses: asyncio.Queue[StreamStatus] = asyncio.Queue()
        self.gaps: asyncio.Queue[StreamGap] = asyncio.Queue()

    async def health(self, wanted: StreamHealth) -> StreamStatus:
        while True:
            status = await next_item(self.statuses)
            if status.health is wanted:
                return status

    async def execution(self, client_order_id: str) -> dict[str, Any]:
        while True:
            event = await next_item(self.events)
            if event.get("e") == "executionReport" and event.get("c") == client_order_id:
                return event


def user_stream(
    venue: BinanceVenue,
    rec: Recorder,
    config: SupervisorConfig = QUICK,
    probe_timeout_s: float = 5.0,
) -> UserStreamSupervisor:
    return venue.user_stream(
        rec.events.put_nowait,
        rng=random.Random(11),
        config=config,
        on_status=rec.statuses.put_nowait,
        on_gap=rec.gaps.put_nowait,
        probe_timeout_s=probe_timeout_s,
    )


async def place(venue: BinanceVenue, client_order_id: str) -> None:
    await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id=client_order_id,
        quantity=Decimal("0.001"),
        price=Decimal("50000.00"),
        time_in_force=TimeInForce.GTC,
    )


async def test_execution_reports_arrive_and_parse(venue: BinanceVenue) -> None:
    rec = Recorder()
    user_stream(venue, rec).start()
    await rec.health(StreamHealth.CONNECTED)
    await place(venue, "sd-s1-1")
    event = await rec.execution("sd-s1-1")
    update = parse_execution_report(event)
    assert (update.status.state, update.status.qty, update.status.price, update.fill) == (
        OrderState.NEW,
        Decimal("0.001"),
        Decimal("50000"),
        None,
    )
    assert update.status.order_id == (await venue.get_order(SYMBOL, "sd-s1-1")).order_id


async def test_a_dropped_connection_is_resubscribed_and_reported_as_a_gap(
    venue: BinanceVenue, sim: Any
) -> None:
    rec = Recorder()
    user_stream(venue, rec).start()
    await rec.health(StreamHealth.CONNECTED)
    await place(venue, "sd-s2-1")
    before = await rec.execution("sd-s2-1")
    await sim.admin.stream_fault("drop", account=sim.demo_account_id)
    degraded = await rec.health(StreamHealth.DEGRADED)
    assert degraded.reason.startswith("connection error")
    gap = await next_item(rec.gaps)
    assert gap.stream == "user" and gap.since <= gap.resumed_at
    assert gap.reason == degraded.reason
    await rec.health(StreamHealth.CONNECTED)
    await place(venue, "sd-s2-2")
    after = await rec.execution("sd-s2-2")
    assert after["E"] >= before["E"]


async def test_server_shutdown_is_followed_by_a_new_subscription(
    venue: BinanceVenue, sim: Any
) -> None:
    rec = Recorder()
    supervisor = user_stream(venue, rec)
    supervisor.start()
    await rec.health(StreamHealth.CONNECTED)
    await sim.admin.stream_fault("server_shutdown", account=sim.demo_account_id)
    degraded = await rec.health(StreamHealth.DEGRADED)
    assert degraded.reason == "server shutdown announced"
    assert (await next_item(rec.gaps)).reason == "server shutdown announced"
    await rec.health(StreamHealth.CONNECTED)
    await place(venue, "sd-s3-1")
    await rec.execution("sd-s3-1")
    assert supervisor.reconnects == 1


async def test_a_stalled_stream_is_detected_and_replaced(venue: BinanceVenue, sim: Any) -> None:
    rec = Recorder()
    config = SupervisorConfig(**{**QUICK.__dict__, "stall_after_s": 0.3})
    user_stream(venue, rec, config, probe_timeout_s=0.3).start()
    await rec.health(StreamHealth.CONNECTED)
    await sim.admin.stream_fault("stall", account=sim.demo_account_id)
    await place(venue, "sd-s4-1")  # its event is held by the stalled connection
    gap = await next_item(rec.gaps)
    assert gap.reason == "stall: no frame for 0.3 s"
    await rec.health(StreamHealth.CONNECTED)
    await place(venue, "sd-s4-2")
    await rec.execution("sd-s4-2")


async def test_the_liveness_probe_answers_on_the_subscribed_connection(
    venue: BinanceVenue, sim: Any
) -> None:
    rec = Recorder()
    supervisor = user_stream(venue, rec, probe_timeout_s=0.3)
    supervisor.start()
    await rec.health(StreamHealth.CONNECTED)
    api, handle = venue.client.ws_api, supervisor._handle
    assert handle is not None
    assert await supervisor._still_alive(handle) is True
    assert venue.client.ws_api is api and api.ws is not None
    await sim.admin.stream_fault("stall", account=sim.demo_account_id)
    assert await supervisor._still_alive(handle) is False
    await sim.admin.clear_stream_faults()  # so that closing can unsubscribe without waiting


async def test_marks_follow_the_market(venue: BinanceVenue, sim: Any) -> None:
    store = MarkStore(SystemClock())
    marks: asyncio.Queue[Mark] = asyncio.Queue()
    statuses: asyncio.Queue[StreamStatus] = asyncio.Queue()
    venue.market_stream(
        [SYMBOL, "ETHUSDT"],
        store,
        rng=random.Random(2),
        on_status=statuses.put_nowait,
        on_mark=marks.put_nowait,
        config=QUICK,
    ).start()
    assert (await next_item(statuses)).health is StreamHealth.CONNECTED
    await sim.admin.set_price(SYMBOL, "97000.00")
    bid, ask = (await venue.book_tickers(SYMBOL))[SYMBOL]
    while True:
        mark = await next_item(marks)
        if mark.symbol == SYMBOL and (mark.bid, mark.ask) == (bid, ask):
            break
    assert mark.mid == (bid + ask) / 2
    assert store.get(SYMBOL) is not None


async def test_the_mark_socket_is_recreated_after_a_drop(venue: BinanceVenue, sim: Any) -> None:
    store = MarkStore(SystemClock())
    marks: asyncio.Queue[Mark] = asyncio.Queue()
    statuses: asyncio.Queue[StreamStatus] = asyncio.Queue()
    venue.market_stream(
        [SYMBOL],
        store,
        rng=random.Random(2),
        on_status=statuses.put_nowait,
        on_mark=marks.put_nowait,
        config=QUICK,
    ).start()
    assert (await next_item(statuses)).health is StreamHealth.CONNECTED
    await sim.admin.stream_fault("drop", target="market")
    assert (await next_item(statuses)).health is StreamHealth.DEGRADED
    assert (await next_item(statuses)).health is StreamHealth.CONNECTED
    await sim.admin.set_price(SYMBOL, "93000.00")
    bid, ask = (await venue.book_tickers(SYMBOL))[SYMBOL]
    while True:
        mark = await next_item(marks)
        if (mark.bid, mark.ask) == (bid, ask):
            break


async def test_an_ed25519_key_trades_and_subscribes(sim: Any, tmp_path: Any) -> None:
    key = ECC.generate(curve="ed25519")
    await sim.admin.register_key(
        sim.demo_account_id,
        api_key="EdKey1",
        ed25519_public_key_pem=key.public_key().export_key(format="PEM"),
    )
    pem_file = tmp_path / "ed25519.pem"
    pem_file.write_text(key.export_key(format="PEM") + "\r\n")
    venue = make_venue(
        sim.url, Credentials(SecretStr("EdKey1"), private_key_pem=read_private_key_pem(pem_file))
    )
    await venue.start()
    try:
        rec = Recorder()
        user_stream(venue, rec).start()
        await rec.health(StreamHealth.CONNECTED)
        await place(venue, "sd-s6-1")  # POST, form body signed with Ed25519
        await rec.execution("sd-s6-1")
        assert (await venue.get_order(SYMBOL, "sd-s6-1")).state is OrderState.NEW  # GET
        canceled = await venue.cancel_order(SYMBOL, "sd-s6-1")  # DELETE, body signed
        assert canceled.state is OrderState.CANCELED
    finally:
        await venue.close()


def test_frames_that_end_a_subscription(clock: Any) -> None:
    seen: list[dict[str, Any]] = []
    supervisor = UserStreamSupervisor(None, on_event=seen.append, clock=clock, rng=random.Random(1))  # type: ignore[arg-type]
    supervisor._handle_frame({"e": "outboundAccountPosition", "E": 1, "u": 1, "B": []})
    assert seen == [{"e": "outboundAccountPosition", "E": 1, "u": 1, "B": []}]
    assert supervisor.last_event_at == clock.now()
    for frame, reason in [
        (
            {"e": "error", "type": "ConnectionClosedError", "m": "x"},
            "connection error ConnectionClosedError",
        ),
        (
            {"e": "error", "type": "BinanceWebsocketUnableToConnect"},
            "connection error BinanceWebsocketUnableToConnect",
        ),
        ({"e": "eventStreamTerminated", "E": 2}, "subscription terminated by the exchange"),
        ({"e": "serverShutdown", "E": 3}, "server shutdown announced"),
    ]:
        with pytest.raises(Reconnect) as caught:
            supervisor._handle_frame(frame)
        assert str(caught.value) == reason
    assert len(seen) == 1
