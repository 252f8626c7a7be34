"""Exact conversions between Binance's epoch milliseconds and timezone-aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_from_ms(epoch_ms: int) -> datetime:
    """An aware UTC datetime for epoch milliseconds, without going through a float."""
    return EPOCH + timedelta(milliseconds=epoch_ms)


def ms_from_utc(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (sub-millisecond parts are truncated)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the engine only uses timezone-aware UTC datetimes")
    return (moment - EPOCH) // timedelta(milliseconds=1)
