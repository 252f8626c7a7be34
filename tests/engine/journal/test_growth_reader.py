"""The restart's cheap reads: trade ids past a cursor come from the fills' key alone."""

from __future__ import annotations

from engine.journal import Journal


async def test_trade_ids_after_are_one_symbols_ids_above_the_cursor_ascending(
    journal: Journal,
) -> None:
    # Journaled out of order, on two symbols, with one duplicate refused.
    for symbol, trade_id in [
        ("BTCUSDT", 7),
        ("BTCUSDT", 3),
        ("ETHUSDT", 9),
        ("BTCUSDT", 12),
        ("BTCUSDT", 5),
        ("BTCUSDT", 7),
    ]:
        journal.record_fill(symbol, trade_id, client_order_id="sd-1-1", payload={"qty": "1"})
    await journal.flush()

    assert await journal.trade_ids_after("BTCUSDT", 4) == [5, 7, 12]
    assert await journal.trade_ids_after("BTCUSDT", 0) == [3, 5, 7, 12]
    assert await journal.trade_ids_after("BTCUSDT", 12) == []
    assert await journal.trade_ids_after("ETHUSDT", 8) == [9]
    assert await journal.trade_ids_after("SOLUSDT", 0) == []
