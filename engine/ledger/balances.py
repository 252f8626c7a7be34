"""Balances per asset as the venue reports them: absolute values, the newest report wins.

An account snapshot (GET /account) sets every asset; outboundAccountPosition then carries
absolute values for the assets that changed. Reports can arrive late (a snapshot taken before a
stream update but answered after it), so an asset only takes a report at least as new as the one
it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from engine.core.events import BalanceChanged
from engine.core.reports import BalanceReport

ZERO = Decimal(0)


class Balances:
    """The latest BalanceReport per asset."""

    def __init__(self) -> None:
        self._by_asset: dict[str, BalanceReport] = {}

    def __iter__(self) -> Iterator[BalanceReport]:
        return iter(sorted(self._by_asset.values(), key=lambda b: b.asset))

    def get(self, asset: str) -> BalanceReport | None:
        return self._by_asset.get(asset)

    def free(self, asset: str) -> Decimal:
        balance = self._by_asset.get(asset)
        return ZERO if balance is None else balance.free

    def total(self, asset: str) -> Decimal:
        balance = self._by_asset.get(asset)
        return ZERO if balance is None else balance.total

    def apply(self, report: BalanceReport) -> list[BalanceChanged]:
        """Take one asset's report unless a newer one is already held."""
        previous = self._by_asset.get(report.asset)
        if previous is not None and report.time < previous.time:
            return []  # stale: a newer report already arrived
        self._by_asset[report.asset] = report
        if previous is not None and (previous.free, previous.locked) == (
            report.free,
            report.locked,
        ):
            return []
        return [BalanceChanged(report, previous)]

    def apply_snapshot(
        self, reports: Iterable[BalanceReport], time: datetime
    ) -> list[BalanceChanged]:
        """A complete account snapshot taken at `time`: assets it leaves out are zero."""
        events: list[BalanceChanged] = []
        listed: set[str] = set()
        for report in reports:
            listed.add(report.asset)
            events.extend(self.apply(report))
        for asset in sorted(set(self._by_asset) - listed):
            events.extend(self.apply(BalanceReport(asset, ZERO, ZERO, time)))
        return events
