"""Everything risk needs to know about the account at the moment an order is proposed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport
from engine.core.rules import SymbolRules
from engine.risk.counters import DayTotals
from engine.risk.numbers import ZERO
from engine.risk.state import TradingState


def convert(
    amount: Decimal, asset: str, quote: str, marks: Mapping[str, Decimal]
) -> Decimal | None:
    """`amount` of `asset` in `quote`, at the mark of the symbol <asset><quote>; None without it."""
    if asset == quote:
        return amount
    mark = marks.get(f"{asset}{quote}")
    return None if mark is None else amount * mark


def account_equity(
    balances: Iterable[BalanceReport], marks: Mapping[str, Decimal], quote: str
) -> tuple[Decimal, tuple[str, ...]]:
    """The account's worth in `quote` (free and locked), and the assets left out for want of a
    mark: leaving them out understates equity, which only makes share limits stricter."""
    total = ZERO
    unvalued: list[str] = []
    for balance in balances:
        if balance.total == 0:
            continue
        value = convert(balance.total, balance.asset, quote, marks)
        if value is None:
            unvalued.append(balance.asset)
        else:
            total += value
    return total, tuple(sorted(unvalued))


@dataclass(frozen=True, slots=True)
class RiskContext:
    """The account as risk sees it when an order is proposed; built by the engine each time.

    `equity` is in the limits' quote asset (see `account_equity`); `marks` are per symbol, in
    the symbol's quote asset; `open_orders` are the book's open orders (their reserved notional
    and committed quantities count); `day` and `recent_order_times` come from DailyCounters;
    `fee_rate` is the taker rate used to estimate an order's fee.
    """

    now: datetime
    equity: Decimal
    balances: Mapping[str, BalanceReport]
    positions: Mapping[str, Position]
    marks: Mapping[str, Decimal]
    rules: Mapping[str, SymbolRules]
    day: DayTotals
    open_orders: Sequence[Order] = ()
    recent_order_times: Sequence[datetime] = ()
    trading_state: TradingState = TradingState.ACTIVE
    trading_state_reason: str = ""
    fee_rate: Decimal = Decimal("0.001")

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("RiskContext.now must be timezone-aware")

    def free(self, asset: str) -> Decimal:
        balance = self.balances.get(asset)
        return ZERO if balance is None else balance.free

    def locked(self, asset: str) -> Decimal:
        balance = self.balances.get(asset)
        return ZERO if balance is None else balance.locked

    def convert(self, amount: Decimal, asset: str, quote: str) -> Decimal | None:
        return convert(amount, asset, quote, self.marks)
