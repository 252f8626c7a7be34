"""Payload views as clients see them: times keep their own offset, whatever was formatted before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from engine.core.reports import BalanceReport
from engine.service.payloads import balance_json


def _balance(time: datetime) -> BalanceReport:
    return BalanceReport(asset="BTC", free=Decimal("1.50000000"), locked=Decimal(0), time=time)


def test_the_same_instant_in_two_zones_keeps_each_zones_text() -> None:
    # UTC times are formatted once and remembered; an equal instant in another zone is a
    # different text and must not be served the remembered one.
    utc = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    eastern = utc.astimezone(timezone(timedelta(hours=-5)))
    assert utc == eastern
    assert balance_json(_balance(utc)) == {
        "asset": "BTC",
        "free": "1.50000000",
        "locked": "0",
        "time": "2026-01-02T03:04:05.006000+00:00",
    }
    assert balance_json(_balance(eastern))["time"] == "2026-01-01T22:04:05.006000-05:00"
    assert balance_json(_balance(utc))["time"] == "2026-01-02T03:04:05.006000+00:00"
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert balance_json(_balance(whole_second))["time"] == "2026-01-02T03:04:05+00:00"
