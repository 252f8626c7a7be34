"""The window of evicted orders: exactly the last `capacity` remembered, in bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.orders.window import GENERATIONS, EvictedWindow


def add_order(window: EvictedWindow, n: int, cid: str | None = None) -> None:
    """Evicted order number n: client id sd-n, order id n, trades 10n and 10n+1."""
    window.add(cid or f"sd-{n}", "BTCUSDT", n, [("BTCUSDT", 10 * n), ("BTCUSDT", 10 * n + 1)])


def test_exactly_the_last_capacity_orders_are_remembered_across_generations() -> None:
    window = EvictedWindow(10)  # generations of 2 orders (10 / 8, rounded up)
    for n in range(1, 26):
        add_order(window, n)
    remembered = [
        n
        for n in range(1, 26)
        if window.has_client_id(f"sd-{n}")
        and window.has_order("BTCUSDT", n)
        and window.has_trade(("BTCUSDT", 10 * n))
        and window.has_trade(("BTCUSDT", 10 * n + 1))
    ]
    forgotten = [
        n
        for n in range(1, 26)
        if not window.has_client_id(f"sd-{n}")
        and not window.has_order("BTCUSDT", n)
        and not window.has_trade(("BTCUSDT", 10 * n))
        and not window.has_trade(("BTCUSDT", 10 * n + 1))
    ]
    assert remembered == list(range(16, 26))
    assert forgotten == list(range(1, 16))
    assert len(window) == 10
    assert not window.has_order("ETHUSDT", 20) and not window.has_trade(("ETHUSDT", 200))


def test_a_reused_client_id_is_remembered_by_its_newest_eviction() -> None:
    window = EvictedWindow(3)
    add_order(window, 1, cid="sd-a")
    for n in (2, 3, 4):
        add_order(window, n)
    assert not window.has_client_id("sd-a")  # forgotten: the id may be used again
    add_order(window, 5, cid="sd-a")
    assert window.has_client_id("sd-a") and not window.has_order("BTCUSDT", 1)
    for n in (6, 7):
        add_order(window, n)
    assert window.has_client_id("sd-a")  # order 5 is still one of the last three
    add_order(window, 8)
    assert not window.has_client_id("sd-a")


def test_memory_stays_bounded_however_many_orders_leave() -> None:
    window = EvictedWindow(1000)  # generations of 125 orders
    held = []
    for n in range(1, 20_001):
        window.add(f"sd-{n}", "BTCUSDT", n, [("BTCUSDT", n)])
        held.append(window.held())
    assert len(window) == 1000
    # Past the first 1000, the tables hold the window plus at most 124 stale orders.
    assert (min(held[1000:]), max(held)) == (1000, 1000 + 1000 // GENERATIONS - 1)
    assert window.has_trade(("BTCUSDT", 19_001)) and not window.has_trade(("BTCUSDT", 19_000))


def test_a_window_of_zero_holds_nothing() -> None:
    window = EvictedWindow(0)
    add_order(window, 1)
    assert (len(window), window.held(), window.has_client_id("sd-1")) == (0, 0, False)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=20),
    cids=st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=80),
)
def test_the_window_answers_like_a_list_of_the_last_capacity_orders(
    capacity: int, cids: list[int]
) -> None:
    """Against a plain model (reused client ids included): order n has order id and trade n."""
    window = EvictedWindow(capacity)
    model: list[tuple[str, int]] = []
    for n, cid in enumerate(cids, start=1):
        window.add(f"c{cid}", "BTCUSDT", n, [("BTCUSDT", n)])
        model = [*model, (f"c{cid}", n)][-capacity:]
        kept_cids = {c for c, _ in model}
        kept_numbers = {number for _, number in model}
        for probe in range(16):
            assert window.has_client_id(f"c{probe}") == (f"c{probe}" in kept_cids)
        for number in range(1, n + 1):
            assert window.has_order("BTCUSDT", number) == (number in kept_numbers)
            assert window.has_trade(("BTCUSDT", number)) == (number in kept_numbers)
        assert window.held() <= capacity + -(-capacity // GENERATIONS) - 1
