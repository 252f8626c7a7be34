"""Daily counters: roll-over at midnight or a configured hour, journal names, restarts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from risk_helpers import D, buy, position, sell

from engine.risk import DailyCounters, DayTotals


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


def test_the_day_rolls_over_at_utc_midnight_by_default() -> None:
    counters = DailyCounters(0, at(1, 12))
    assert counters.trading_day(at(1, 23, 59, 59)) == date(2026, 1, 1)
    assert counters.trading_day(at(2, 0)) == date(2026, 1, 2)
    counters.record_order(buy(), at(1, 23, 59, 59))
    assert counters.totals(at(1, 23, 59, 59)).trades == 1
    assert counters.totals(at(2, 0)) == DayTotals(date(2026, 1, 2))


def test_the_day_rolls_over_at_a_configured_hour() -> None:
    counters = DailyCounters(6, at(2, 5))
    assert counters.rollover_hour == 6
    assert counters.trading_day(at(2, 5, 59, 59)) == date(2026, 1, 1)
    assert counters.trading_day(at(2, 6)) == date(2026, 1, 2)
    other_zone = datetime(2026, 1, 2, 8, 30, tzinfo=timezone(timedelta(hours=3)))  # 05:30 UTC
    assert counters.trading_day(other_zone) == date(2026, 1, 1)
    counters.record_order(buy(), at(2, 5, 59))
    assert counters.journal_counters() == {"trades.2026-01-01": 1, "orders.2026-01-01": 1}
    counters.record_order(buy(), at(2, 6))
    assert counters.journal_counters() == {"trades.2026-01-02": 1, "orders.2026-01-02": 1}


def test_buys_are_trades_and_every_order_is_counted() -> None:
    counters = DailyCounters(0, at(2, 9))
    assert counters.record_order(buy(), at(2, 9)) == {
        "trades.2026-01-02": 1,
        "orders.2026-01-02": 1,
    }
    assert counters.record_order(sell(), at(2, 9, 1)) == {
        "trades.2026-01-02": 1,
        "orders.2026-01-02": 2,
    }
    totals = counters.totals(at(2, 9, 2))
    assert (totals.trades, totals.orders) == (1, 2)


def test_recent_orders_keep_only_the_last_minute() -> None:
    counters = DailyCounters(0, at(2, 9))
    for second in (0, 30, 59):
        counters.record_order(sell(), at(2, 9, 0, second))
    assert counters.recent_orders(at(2, 9, 1)) == (at(2, 9, 0, 30), at(2, 9, 0, 59))
    assert counters.recent_orders(at(2, 9, 1, 30)) == (at(2, 9, 0, 59),)
    counters.record_order(sell(), at(2, 9, 2))
    assert counters.recent_orders(at(2, 9, 2)) == (at(2, 9, 2),)
    assert "recent" not in counters.to_json()  # restored from the journaled intents instead


def test_recent_orders_stay_right_when_the_clock_steps_back() -> None:
    counters = DailyCounters(0, at(2, 9))
    for moment in (at(2, 9, 0, 40), at(2, 9, 0, 10), at(2, 9, 0, 50)):  # stepped back once
        counters.record_order(sell(), moment)
    assert counters.recent_orders(at(2, 9, 1, 12)) == (at(2, 9, 0, 40), at(2, 9, 0, 50))
    counters.record_order(sell(), at(2, 9, 1, 15))  # the early one leaves the window
    assert counters.recent_orders(at(2, 9, 1, 15)) == (
        at(2, 9, 0, 40),
        at(2, 9, 0, 50),
        at(2, 9, 1, 15),
    )
    counters.record_order(sell(), at(2, 9, 1, 45))  # back in order: the window is searched
    assert counters.recent_orders(at(2, 9, 1, 46)) == (
        at(2, 9, 0, 50),
        at(2, 9, 1, 15),
        at(2, 9, 1, 45),
    )


def test_the_window_is_restored_from_intent_times_without_counting_one_twice() -> None:
    counters = DailyCounters(0, at(2, 9))
    counters.record_order(sell(), at(2, 9, 0, 30))
    counters.restore_recent([at(2, 9, 0, 50), at(2, 9, 0, 30), at(2, 9, 0, 10)])
    assert counters.recent_orders(at(2, 9, 1)) == (
        at(2, 9, 0, 10),
        at(2, 9, 0, 30),
        at(2, 9, 0, 50),
    )
    counters.record_order(sell(), at(2, 9, 1, 20))
    assert counters.recent_orders(at(2, 9, 1, 20)) == (
        at(2, 9, 0, 30),
        at(2, 9, 0, 50),
        at(2, 9, 1, 20),
    )


def test_a_window_stored_by_an_older_journal_is_still_read() -> None:
    stored = {**DailyCounters(0, at(2, 9)).to_json(), "recent": [at(2, 9, 0, 30).isoformat()]}
    restored = DailyCounters.from_json(stored, 0, at(2, 9, 1))
    assert restored.recent_orders(at(2, 9, 1)) == (at(2, 9, 0, 30),)


def test_a_clock_that_steps_back_keeps_the_current_day() -> None:
    counters = DailyCounters(0, at(2, 0, 0, 5))
    counters.record_order(buy(), at(2, 0, 0, 5))
    counters.record_order(buy(), at(1, 23, 59, 59))  # NTP stepped the clock back
    assert counters.totals(at(1, 23, 59, 59)) == DayTotals(date(2026, 1, 2), 2, 2)


def test_realized_pnl_and_fees_are_booked_to_the_day_they_are_seen() -> None:
    start = [position("BTCUSDT", "0.02", "1000", realized="-50", fees="2")]
    counters = DailyCounters(0, at(1, 20), start)  # yesterday's PnL is not today's
    assert counters.totals(at(1, 20)).realized_pnl == {}
    counters.observe_positions(
        [position("BTCUSDT", "0.01", "500", realized="-80", fees="2.5")], at(1, 21)
    )
    assert counters.totals(at(1, 21)).realized_pnl == {"USDT": D(-30)}
    assert counters.totals(at(1, 21)).fees == {"USDT": D("0.5")}
    counters.observe_positions(
        [
            position("BTCUSDT", "0", "0", realized="-70", fees="3"),
            position("ETHUSDT", "1", "2000", fees="2"),
        ],
        at(2, 1),
    )
    today = counters.totals(at(2, 1))
    assert today.realized_pnl == {"USDT": D(10)} and today.fees == {"USDT": D("2.5")}
    counters.observe_positions([position("ETHUSDT", "1", "2000", fees="2")], at(2, 2))
    assert counters.totals(at(2, 2)) == today  # nothing moved


def test_counters_round_trip_through_json() -> None:
    counters = DailyCounters(6, at(2, 7), [position("BTCUSDT", "0.02", "1000", realized="3")])
    counters.record_order(buy(), at(2, 7))
    counters.record_order(sell(), at(2, 7, 0, 30))
    counters.observe_positions(
        [position("BTCUSDT", "0.01", "500", realized="1.25", fees="0.5")], at(2, 8)
    )
    stored = json.loads(json.dumps(counters.to_json()))
    assert stored == {
        "rollover_hour": 6,
        "day": "2026-01-02",
        "trades": 1,
        "orders": 2,
        "realized_pnl": {"USDT": "-1.75"},
        "fees": {"USDT": "0.5"},
        "seen": {"BTCUSDT": {"quote": "USDT", "realized_pnl": "1.25", "fees": "0.5"}},
    }
    restored = DailyCounters.from_json(stored, 6, at(2, 9))
    assert restored.to_json() == stored
    assert restored.totals(at(2, 9)) == counters.totals(at(2, 9))
    # The position seen before the restart books nothing new.
    restored.observe_positions(
        [position("BTCUSDT", "0.01", "500", realized="1.25", fees="0.5")], at(2, 9)
    )
    assert restored.to_json() == stored


def test_restoring_on_a_later_day_starts_from_zero_but_remembers_positions() -> None:
    counters = DailyCounters(0, at(1, 20))
    counters.record_order(buy(), at(1, 20))
    counters.observe_positions([position("BTCUSDT", "0.02", "1000", realized="-5")], at(1, 20))
    restored = DailyCounters.from_json(counters.to_json(), 0, at(2, 3))
    assert restored.totals(at(2, 3)) == DayTotals(date(2026, 1, 2))
    restored.observe_positions([position("BTCUSDT", "0.02", "1000", realized="-5")], at(2, 3))
    assert restored.totals(at(2, 3)).realized_pnl == {}


def test_the_journal_counters_win_when_they_are_ahead() -> None:
    counters = DailyCounters.from_json(
        {
            "rollover_hour": 0,
            "day": "2026-01-02",
            "trades": 3,
            "orders": 9,
            "realized_pnl": {},
            "fees": {},
            "seen": {},
            "recent": [],
        },
        0,
        at(2, 12),
    )
    counters.restore_counts(
        {"trades.2026-01-02": 5, "orders.2026-01-02": 4, "trades.2026-01-01": 50}
    )
    assert counters.journal_counters() == {"trades.2026-01-02": 5, "orders.2026-01-02": 9}


def test_counters_refuse_naive_times_and_bad_hours() -> None:
    with pytest.raises(ValueError, match="between 0 and 23"):
        DailyCounters(24, at(2, 0))
    counters = DailyCounters(0, at(2, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        counters.record_order(buy(), datetime(2026, 1, 2, 1))  # noqa: DTZ001 - under test


@pytest.mark.parametrize(
    "damage",
    [
        {"day": "yesterday"},
        {"trades": None},
        {"fees": {"USDT": "lots"}},
        {"recent": ["2026-01-02T10:00:00"]},  # a naive time
    ],
)
def test_an_unreadable_record_is_refused(damage: dict[str, object]) -> None:
    stored = {**DailyCounters(0, at(2, 9)).to_json(), **damage}
    with pytest.raises(ValueError, match="stored risk counters unreadable: "):
        DailyCounters.from_json(stored, 0, at(2, 9))
