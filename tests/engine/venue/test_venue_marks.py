"""The mark store and the market supervisor's frame handling (no network)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from engine.venue.marketdata import Mark, MarketStreamSupervisor, MarkStore
from engine.venue.supervisor import Reconnect


def test_book_and_last_price_merge_into_one_mark(clock: Any) -> None:
    store = MarkStore(clock)
    store.update("btcusdt", bid=Decimal("100.10"), ask=Decimal("100.30"))
    clock.advance(2)
    mark = store.update("BTCUSDT", last=Decimal("100.25"))
    assert (mark.bid, mark.ask, mark.mid, mark.last, mark.price) == (
        Decimal("100.10"),
        Decimal("100.30"),
        Decimal("100.20"),
        Decimal("100.25"),
        Decimal("100.20"),
    )
    assert mark.at == clock.now()
    assert store.get("btcusdt") == mark


def test_an_empty_book_side_falls_back_to_the_last_price(clock: Any) -> None:
    store = MarkStore(clock)
    mark = store.update(
        "ETHUSDT", bid=Decimal("0.00000000"), ask=Decimal("2000.5"), last=Decimal("2000.1")
    )
    assert (mark.bid, mark.mid, mark.price) == (None, None, Decimal("2000.1"))


def test_stale_marks_are_not_fresh(clock: Any) -> None:
    store = MarkStore(clock)
    store.update("BTCUSDT", bid=Decimal(1), ask=Decimal(2))
    clock.advance(5)
    store.update("ETHUSDT", bid=Decimal(1), ask=Decimal(2))
    clock.advance(1)
    assert store.fresh("BTCUSDT", 5.5) is None
    assert store.fresh("ETHUSDT", 5.5) is not None
    assert store.stale(["btcusdt", "ethusdt", "solusdt"], 5.5) == ["BTCUSDT", "SOLUSDT"]


def _supervisor(clock: Any, store: MarkStore, seen: list[Mark]) -> MarketStreamSupervisor:
    return MarketStreamSupervisor(
        "ws://127.0.0.1:1/",
        ["ETHUSDT", "btcusdt"],
        store,
        clock=clock,
        rng=random.Random(1),
        on_mark=seen.append,
    )


def test_frames_update_the_store_and_errors_ask_for_a_reconnect(clock: Any) -> None:
    store = MarkStore(clock)
    seen: list[Mark] = []
    sup = _supervisor(clock, store, seen)
    assert sup._path == (
        "streams=btcusdt@bookTicker/ethusdt@bookTicker/btcusdt@miniTicker/ethusdt@miniTicker"
    )
    sup._handle_frame(
        {
            "stream": "btcusdt@bookTicker",
            "data": {"u": 1, "s": "BTCUSDT", "b": "99.5", "B": "1", "a": "100.5", "A": "2"},
        }
    )
    sup._handle_frame(
        {
            "stream": "btcusdt@miniTicker",
            "data": {
                "e": "24hrMiniTicker",
                "E": 1,
                "s": "BTCUSDT",
                "c": "100.1",
                "o": "1",
                "h": "1",
                "l": "1",
                "v": "1",
                "q": "1",
            },
        }
    )
    sup._handle_frame(
        {"stream": "btcusdt@bookTicker", "data": {"u": 2, "s": "BTCUSDT", "b": 99.5, "a": "100.5"}}
    )  # a float
    assert [(m.mid, m.last) for m in seen] == [
        (Decimal("100.0"), None),
        (Decimal("100.0"), Decimal("100.1")),
    ]
    assert sup.last_event_at == clock.now()
    with pytest.raises(Reconnect, match="ConnectionClosedError"):
        sup._handle_frame({"e": "error", "type": "ConnectionClosedError", "m": "x"})


def test_the_market_socket_needs_a_big_queue_and_a_trailing_slash(clock: Any) -> None:
    with pytest.raises(ValueError, match="end with"):
        MarketStreamSupervisor(
            "ws://127.0.0.1:1", ["BTCUSDT"], MarkStore(clock), clock=clock, rng=random.Random(1)
        )
    with pytest.raises(ValueError, match="1000"):
        MarketStreamSupervisor(
            "ws://127.0.0.1:1/",
            ["BTCUSDT"],
            MarkStore(clock),
            clock=clock,
            rng=random.Random(1),
            max_queue_size=100,
        )
