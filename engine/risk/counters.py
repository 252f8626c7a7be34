"""Today's counters (orders, buys, realized PnL, fees) and recent order times, rolling over daily.

The trading day starts at the configured UTC hour and is named by the date it starts on. The
engine journals `to_json()` as state and `journal_counters()` as the journal's named counters
(which only ever increase: one name per trading day), and restores both at start. The times of
the last minute's orders are not in the state (it is written with every order, and the window
can hold thousands): the engine restores them from the journaled intents.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.core.position import Position
from engine.risk.numbers import ZERO
from engine.risk.proposal import ProposedOrder

ORDER_RATE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class DayTotals:
    """One trading day's totals; PnL and fees per quote asset, PnL net of every fee."""

    day: date
    trades: int = 0  # orders that may open or add to a position (buys) sent today
    orders: int = 0  # orders of any kind sent today
    realized_pnl: dict[str, Decimal] = field(default_factory=dict)
    fees: dict[str, Decimal] = field(default_factory=dict)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the risk counters only take timezone-aware UTC datetimes")
    return moment


class DailyCounters:
    """Counters for the current trading day, fed by the engine as orders go out and fill."""

    def __init__(
        self, rollover_hour: int, now: datetime, positions: Iterable[Position] = ()
    ) -> None:
        """Start counting at `now`; the PnL `positions` already carry is not today's."""
        if not 0 <= rollover_hour <= 23:
            raise ValueError(f"rollover hour {rollover_hour} is not between 0 and 23")
        self._hour = rollover_hour
        self._totals = DayTotals(self.trading_day(now))
        self._seen: dict[str, tuple[str, Decimal, Decimal]] = {
            p.symbol: (p.quote_asset, p.realized_pnl, p.fees_paid) for p in positions
        }
        # Times of the orders sent in the last minute, kept sorted (a clock stepped back may
        # record one earlier than the last), so the window's start is found by bisection.
        self._recent: list[datetime] = []

    @property
    def rollover_hour(self) -> int:
        return self._hour

    def trading_day(self, moment: datetime) -> date:
        """The trading day `moment` falls in, named by the UTC date it started on."""
        return (_aware(moment).astimezone(UTC) - timedelta(hours=self._hour)).date()

    def totals(self, now: datetime) -> DayTotals:
        """Today's totals as of `now` (zeros right after a roll-over)."""
        self._roll(now)
        return self._totals

    def recent_orders(self, now: datetime) -> tuple[datetime, ...]:
        """Times of the orders sent in the last minute before `now`."""
        cutoff = _aware(now) - ORDER_RATE_WINDOW
        return tuple(self._recent[bisect_right(self._recent, cutoff) :])

    # -- inputs --------------------------------------------------------------------------------

    def record_order(self, order: ProposedOrder, now: datetime) -> dict[str, int]:
        """An order was sent (its intent journaled); returns the named counters to advance."""
        self._roll(now)
        totals = self._totals
        trades = totals.trades + (0 if order.reduces_position else 1)
        self._totals = DayTotals(
            totals.day, trades, totals.orders + 1, totals.realized_pnl, totals.fees
        )
        self._keep_recent(now)
        return self.journal_counters()

    def _keep_recent(self, now: datetime) -> None:
        """Drop the times older than a minute before `now`, then add `now` in its place."""
        recent = self._recent
        del recent[: bisect_right(recent, now - ORDER_RATE_WINDOW)]
        insort(recent, now)

    def restore_recent(self, moments: Iterable[datetime]) -> None:
        """Add the times of orders journaled before a restart (the intents of the last minute)
        to the window; a time already in it is not counted twice."""
        self._recent = sorted({*self._recent, *(_aware(moment) for moment in moments)})

    def observe_positions(self, positions: Iterable[Position], now: datetime) -> None:
        """Book what realized PnL and fees moved since the positions were last seen to today."""
        self._roll(now)
        realized = dict(self._totals.realized_pnl)
        fees = dict(self._totals.fees)
        for position in positions:
            quote = position.quote_asset
            _, seen_pnl, seen_fees = self._seen.get(position.symbol, (quote, ZERO, ZERO))
            pnl_change = position.realized_pnl - seen_pnl
            fee_change = position.fees_paid - seen_fees
            if pnl_change:
                realized[quote] = realized.get(quote, ZERO) + pnl_change
            if fee_change:
                fees[quote] = fees.get(quote, ZERO) + fee_change
            self._seen[position.symbol] = (quote, position.realized_pnl, position.fees_paid)
        totals = self._totals
        self._totals = DayTotals(totals.day, totals.trades, totals.orders, realized, fees)

    def _roll(self, now: datetime) -> None:
        """Start a new day once `now` is past the roll-over; a clock that steps back keeps the
        current day (and its counts) rather than reopening an old one."""
        day = self.trading_day(now)
        if day > self._totals.day:
            self._totals = DayTotals(day)

    # -- persistence ---------------------------------------------------------------------------

    def journal_counters(self) -> dict[str, int]:
        """The journal's named counters for today, e.g. {"trades.2026-01-02": 3, ...}."""
        day = self._totals.day.isoformat()
        return {f"trades.{day}": self._totals.trades, f"orders.{day}": self._totals.orders}

    def restore_counts(self, counters: Mapping[str, int]) -> None:
        """Take the journal's counters for today when they are ahead of the stored state (the
        two are written separately, so either may be the newer after a crash)."""
        day = self._totals.day.isoformat()
        totals = self._totals
        self._totals = DayTotals(
            totals.day,
            max(totals.trades, counters.get(f"trades.{day}", 0)),
            max(totals.orders, counters.get(f"orders.{day}", 0)),
            totals.realized_pnl,
            totals.fees,
        )

    def to_json(self) -> dict[str, Any]:
        totals = self._totals
        return {
            "rollover_hour": self._hour,
            "day": totals.day.isoformat(),
            "trades": totals.trades,
            "orders": totals.orders,
            "realized_pnl": {asset: str(v) for asset, v in sorted(totals.realized_pnl.items())},
            "fees": {asset: str(v) for asset, v in sorted(totals.fees.items())},
            "seen": {
                symbol: {"quote": quote, "realized_pnl": str(pnl), "fees": str(fee)}
                for symbol, (quote, pnl, fee) in sorted(self._seen.items())
            },
        }

    @classmethod
    def from_json(
        cls, stored: Mapping[str, Any], rollover_hour: int, now: datetime
    ) -> DailyCounters:
        """Counters a previous run journaled, rolled to `now` under the configured hour.

        Raises ValueError when the record cannot be read: the engine must not trade on counters
        it cannot trust (it halts, R12)."""
        counters = cls(rollover_hour, now)
        try:
            totals = DayTotals(
                date.fromisoformat(stored["day"]),
                int(stored["trades"]),
                int(stored["orders"]),
                {asset: Decimal(v) for asset, v in stored["realized_pnl"].items()},
                {asset: Decimal(v) for asset, v in stored["fees"].items()},
            )
            counters._seen = {
                symbol: (seen["quote"], Decimal(seen["realized_pnl"]), Decimal(seen["fees"]))
                for symbol, seen in stored["seen"].items()
            }
            # Older journals stored the window here; newer ones rebuild it from the intents.
            recent = [_aware(datetime.fromisoformat(t)) for t in stored.get("recent", [])]
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
            raise ValueError(f"stored risk counters unreadable: {error!r}") from error
        counters._recent = sorted(recent)
        if totals.day >= counters._totals.day:
            counters._totals = totals  # the stored day is still today (or the clock stepped back)
        return counters
