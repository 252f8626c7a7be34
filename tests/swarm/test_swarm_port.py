"""The swarm's venue is only as good as its faults: each REST fault raises the exception the real
adapter would, and executes at the exchange exactly when it says; the user stream keeps order,
duplicates, swaps, stalls and reconnects with a gap as the profile says."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from swarm_faults import FaultProfile, Faults, RestFault
from swarm_loop import RunStuck, VirtualClock, VirtualTimeLoop
from swarm_port import RECONNECT_S, STALL_NOTICED_S, SendLog, SimPort

from engine.sim.core.exchange import Exchange
from engine.venue.errors import NotSent, RateLimited, Rejected, Unknown, VenueError
from engine.venue.health import StreamGap, StreamHealth, StreamStatus

T = TypeVar("T")
EPOCH = datetime(2026, 3, 2, tzinfo=UTC)


def _virtual(work: Callable[[VirtualTimeLoop], Awaitable[T]]) -> T:
    loop = VirtualTimeLoop(limit_s=10_000)
    try:
        return loop.run_until_complete(work(loop))
    finally:
        loop.close()


def _venue(loop: VirtualTimeLoop, profile: FaultProfile) -> tuple[SimPort, Exchange, int]:
    clock = VirtualClock(loop, EPOCH)
    core = Exchange(clock=clock, seed=1)
    account = core.create_account({"USDT": Decimal(10_000)})
    faults = Faults(profile, random.Random(1))
    return SimPort(core, account, clock=clock, faults=faults, sends=SendLog()), core, account


async def _buy(port: SimPort) -> Any:
    return await port.create_order(
        symbol="BTCUSDT",
        side="BUY",
        order_type="MARKET",
        client_order_id="sd-t-1",
        quote_quantity=Decimal(100),
    )


@pytest.mark.parametrize(
    ("fault", "kind", "placed"),
    [
        (RestFault.NOT_SENT, NotSent, False),
        (RestFault.DROP, Unknown, False),
        (RestFault.LOSE, Unknown, True),
        (RestFault.HANG_BEFORE, Unknown, False),
        (RestFault.HANG_AFTER, Unknown, True),
        (RestFault.E5XX_BEFORE, Unknown, False),
        (RestFault.E5XX_AFTER, Unknown, True),
        (RestFault.E1007_BEFORE, Unknown, False),
        (RestFault.E1007_AFTER, Unknown, True),
        (RestFault.E1006_AFTER, Unknown, True),
        (RestFault.RATE_429, RateLimited, False),
    ],
)
def test_each_rest_fault_raises_the_adapters_kind_and_executes_as_it_says(
    fault: RestFault, kind: type[VenueError], placed: bool
) -> None:
    profile = FaultProfile(rest_rate=1.0, rest_kinds=(fault,), hang_s=3.0)

    async def work(loop: VirtualTimeLoop) -> None:
        port, core, account = _venue(loop, profile)
        with pytest.raises(VenueError) as raised:
            await _buy(port)
        assert type(raised.value) is kind
        orders = core.oracle(account)["orders"]
        assert [o["status"] for o in orders] == (["FILLED"] if placed else [])
        hangs = fault in (RestFault.HANG_BEFORE, RestFault.HANG_AFTER)
        assert loop.time() == (3.0 if hangs else 0.0)
        if isinstance(raised.value, Unknown):
            assert raised.value.server_time_ms == VirtualClock(loop, EPOCH).now_ms()
        if fault is RestFault.RATE_429:  # the budget refuses locally until Retry-After
            with pytest.raises(RateLimited, match="refusing to send until Retry-After"):
                await port.account()

    _virtual(work)


def test_an_exchange_refusal_is_rejected_and_a_clean_create_fills() -> None:
    async def work(loop: VirtualTimeLoop) -> None:
        port, _, _ = _venue(loop, FaultProfile())
        response = await _buy(port)
        assert response.status.state.value == "FILLED"
        assert sum(fill.quote_qty for fill in response.fills) == pytest.approx(Decimal(100), 1)
        with pytest.raises(Rejected) as refused:
            await port.create_order(
                symbol="BTCUSDT",
                side="SELL",
                order_type="MARKET",
                client_order_id="sd-t-2",
                quantity=Decimal(5),
            )
        assert refused.value.code == -2010

    _virtual(work)


class _Listener:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.statuses: list[StreamHealth] = []
        self.gaps: list[StreamGap] = []

    def event(self, raw: dict[str, Any]) -> None:
        if raw["e"] == "executionReport":
            self.events.append(f"{raw['c']}:{raw['X']}")
        else:
            self.events.append(raw["e"])

    def status(self, status: StreamStatus) -> None:
        self.statuses.append(status.health)


async def _limit(port: SimPort, cid: str) -> None:
    await port.create_order(
        symbol="ETHUSDT",
        side="BUY",
        order_type="LIMIT",
        client_order_id=cid,
        quantity=Decimal("0.01"),
        price=Decimal(3000),
        time_in_force="GTC",
    )


def test_the_user_stream_keeps_order_and_stalls_into_a_gap() -> None:
    listener = _Listener()

    async def work(loop: VirtualTimeLoop) -> None:
        port, _, _ = _venue(loop, FaultProfile(event_delay_s=0.05))
        stream = port.user_stream(
            listener.event,
            rng=random.Random(0),
            on_status=listener.status,
            on_gap=listener.gaps.append,
        )
        stream.start()
        await asyncio.sleep(0)
        for n in range(5):
            await _limit(port, f"sd-t-{n}")
        await asyncio.sleep(1)
        in_order = [e for n in range(5) for e in (f"sd-t-{n}:NEW", "outboundAccountPosition")]
        assert listener.events == in_order  # despite each event's own travel time
        stream.stall()
        await _limit(port, "sd-t-lost")
        await asyncio.sleep(STALL_NOTICED_S + RECONNECT_S + 0.1)
        assert "sd-t-lost:NEW" not in listener.events
        assert listener.statuses == [
            StreamHealth.CONNECTED,
            StreamHealth.DEGRADED,
            StreamHealth.CONNECTED,
        ]
        assert [gap.reason for gap in listener.gaps] == ["stall"]
        await _limit(port, "sd-t-after")
        await asyncio.sleep(1)
        assert listener.events[-2:] == ["sd-t-after:NEW", "outboundAccountPosition"]
        await port.close()
        assert listener.statuses[-1] is StreamHealth.DOWN

    _virtual(work)


def test_duplicated_and_swapped_events_reach_the_engine() -> None:
    listener = _Listener()

    async def work(loop: VirtualTimeLoop) -> None:
        port, _, _ = _venue(loop, FaultProfile(event_duplicate=1.0))
        stream = port.user_stream(listener.event, rng=random.Random(0))
        stream.start()
        await asyncio.sleep(0)
        await _limit(port, "sd-t-a")
        await asyncio.sleep(0.1)
        execution, position = "sd-t-a:NEW", "outboundAccountPosition"
        assert listener.events == [execution, execution, position, position]

    _virtual(work)
    swapped = _Listener()

    async def swap(loop: VirtualTimeLoop) -> None:
        port, _, _ = _venue(loop, FaultProfile(event_swap=1.0))
        stream = port.user_stream(swapped.event, rng=random.Random(0))
        stream.start()
        await asyncio.sleep(0)
        await _limit(port, "sd-t-a")
        await _limit(port, "sd-t-b")
        await asyncio.sleep(0.1)
        # Each execution report is held back behind the account update that follows it.
        position = "outboundAccountPosition"
        assert swapped.events == [position, "sd-t-a:NEW", position, "sd-t-b:NEW"]

    _virtual(swap)


def test_virtual_time_jumps_to_timers_and_a_stuck_run_says_so() -> None:
    async def sleeper(loop: VirtualTimeLoop) -> float:
        await asyncio.sleep(3600)
        await asyncio.wait_for(asyncio.sleep(10), 20)
        return loop.time()

    assert _virtual(sleeper) == 3610.0

    async def stuck(loop: VirtualTimeLoop) -> None:
        await loop.create_future()

    with pytest.raises(RunStuck, match="no timer"):
        _virtual(stuck)
