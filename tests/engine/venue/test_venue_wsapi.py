"""TrackedWebsocketAPI's routing of frames python-binance would lose or choke on (no network)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from engine.venue.client import TrackedWebsocketAPI


def frame(**body: Any) -> str:
    return json.dumps(body)


async def test_events_before_registration_are_held_then_delivered_in_order() -> None:
    api = TrackedWebsocketAPI("ws://127.0.0.1:1/ws-api/v3")
    held = frame(subscriptionId=4, event={"e": "executionReport", "i": 1})
    assert api._handle_message(held) is None
    api._handle_message(frame(subscriptionId=9, event={"e": "eventStreamTerminated"}))
    api._handle_message(frame(subscriptionId=4, event={"e": "executionReport", "i": 2}))
    queue: asyncio.Queue[Any] = asyncio.Queue()
    api.register_subscription_queue(4, queue)  # type: ignore[arg-type]
    api._handle_message(frame(subscriptionId=4, event={"e": "executionReport", "i": 3}))
    got = [queue.get_nowait()["i"] for _ in range(queue.qsize())]
    assert got == [1, 2, 3]
    assert [sid for sid, _ in api._pending] == [9]
    assert api._queue.empty()  # nothing goes to the queue nobody reads


async def test_server_shutdown_reaches_every_subscription() -> None:
    api = TrackedWebsocketAPI("ws://127.0.0.1:1/ws-api/v3")
    first: asyncio.Queue[Any] = asyncio.Queue()
    second: asyncio.Queue[Any] = asyncio.Queue()
    api.register_subscription_queue(1, first)  # type: ignore[arg-type]
    api.register_subscription_queue(2, second)  # type: ignore[arg-type]
    api._handle_message(frame(event={"e": "serverShutdown", "E": 5}))
    assert first.get_nowait() == second.get_nowait() == {"e": "serverShutdown", "E": 5}


async def test_replies_still_settle_requests_and_stray_errors_do_not_raise() -> None:
    api = TrackedWebsocketAPI("ws://127.0.0.1:1/ws-api/v3")
    pending: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    api._responses["req-1"] = pending
    api._handle_message(frame(id="req-1", status=200, result={"subscriptionId": 0}))
    assert pending.result()["result"] == {"subscriptionId": 0}
    # A late error for a request that already timed out: python-binance would raise it inside
    # its read loop and end the loop.
    api._handle_message(frame(id="gone", status=400, error={"code": -1121, "msg": "x"}))
    assert api._queue.empty()
