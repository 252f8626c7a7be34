"""The ledger: balances from the venue's reports and long-only positions from fills, in Decimal.

Feed it the balance reports as they come and the fills the order book emitted (the book has
already dropped duplicates). See `costbasis.py` for the accounting method and `adoption.py` for
holdings that predate the desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from engine.core.events import Event, PositionChanged, PositionOversold
from engine.core.position import ZERO, Position
from engine.core.reports import BalanceReport, FillReport
from engine.core.rules import SymbolRules
from engine.ledger.adoption import adopt_holding
from engine.ledger.balances import Balances
from engine.ledger.costbasis import apply_fill, dispose, split_fee


class Ledger:
    """Balances per asset and positions per symbol."""

    def __init__(self, rules: Mapping[str, SymbolRules]) -> None:
        self._rules = dict(rules)
        self.balances = Balances()
        self._positions: dict[str, Position] = {}

    def update_rules(self, rules: SymbolRules) -> None:
        """New filters from exchangeInfo (they can change at runtime)."""
        self._rules[rules.symbol] = rules

    def rules(self, symbol: str) -> SymbolRules:
        try:
            return self._rules[symbol]
        except KeyError:
            raise KeyError(f"no exchangeInfo rules for {symbol}") from None

    # -- positions ----------------------------------------------------------------------------

    def position(self, symbol: str) -> Position | None:
        return self._positions.get(symbol)

    def positions(self) -> list[Position]:
        return [self._positions[symbol] for symbol in sorted(self._positions)]

    def restore(self, position: Position) -> None:
        """Put back a position read from the journal at start."""
        self._positions[position.symbol] = position

    def _flat(self, symbol: str) -> Position:
        rules = self.rules(symbol)
        return Position(symbol, rules.base_asset, rules.quote_asset)

    def apply_fill(self, fill: FillReport, *, fee_price: Decimal | None = None) -> list[Event]:
        """Book one fill; `fee_price` is the price of a third-asset commission (BNB) in the
        fill's quote asset at fill time."""
        position = self._positions.get(fill.symbol) or self._flat(fill.symbol)
        effect = apply_fill(position, fill, fee_price)
        self._positions[fill.symbol] = effect.position
        events: list[Event] = [PositionChanged(effect.position, fill)]
        if effect.excess_qty > 0:
            events.append(PositionOversold(effect.position, effect.excess_qty, fill))
        if fill.commission_asset not in (None, position.base_asset, position.quote_asset):
            # Only a third-asset commission needs the split again (a restart replays every
            # fill through here, so the usual case skips it).
            fee = split_fee(position, fill)
            if fee.third_asset is not None:
                events.extend(
                    self._spend_fee_asset(fee.third_asset, fee.third, fee_price, position, fill)
                )
        return events

    def _spend_fee_asset(
        self,
        asset: str,
        amount: Decimal,
        fee_price: Decimal | None,
        payer: Position,
        fill: FillReport,
    ) -> list[Event]:
        """A commission paid in an asset held as positions takes units from them.

        Positions quoted like the fill go first, as the fee was valued in that quote; the
        others give units up at cost (no PnL), since no price in their quote is known.
        """
        holders = sorted(
            (p for p in self._positions.values() if p.base_asset == asset and p.qty > 0),
            key=lambda p: (p.quote_asset != payer.quote_asset, p.symbol),
        )
        events: list[Event] = []
        left = amount
        for holder in holders:
            if left <= 0:
                break
            taken = min(left, holder.qty)
            unit_value = fee_price if holder.quote_asset == payer.quote_asset else None
            moved = replace(dispose(holder, taken, unit_value), updated_at=fill.time)
            self._positions[holder.symbol] = moved
            left -= taken
            events.append(PositionChanged(moved, fill))
        return events

    def adopt(self, symbol: str, trades: Sequence[FillReport], time: datetime) -> list[Event]:
        """Turn the account's holding of `symbol`'s base asset into a position.

        `trades` is the account's trade history for the symbol (myTrades rows, newest last).
        Only the part of the holding that no position already accounts for is adopted: two
        symbols sharing a base asset (BTCUSDT, BTCFDUSD) never adopt the same units twice.
        Does nothing when the desk already holds a position or nothing is left to adopt.
        """
        existing = self._positions.get(symbol)
        if existing is not None and not existing.is_flat:
            return []
        flat = self._flat(symbol)
        holding = self.balances.total(flat.base_asset) - self._held(flat.base_asset)
        if holding <= 0:
            return []
        position = adopt_holding(flat, holding, trades, time)
        self._positions[symbol] = position
        return [PositionChanged(position)]

    def _held(self, asset: str) -> Decimal:
        """Units of `asset` that positions (of any symbol with it as base) already hold."""
        return sum((p.qty for p in self._positions.values() if p.base_asset == asset), start=ZERO)

    # -- balances -----------------------------------------------------------------------------

    def apply_balances(self, reports: Iterable[BalanceReport]) -> list[Event]:
        """Absolute balances of some assets (an outboundAccountPosition)."""
        events: list[Event] = []
        for report in reports:
            events.extend(self.balances.apply(report))
        return events

    def apply_account_snapshot(
        self, reports: Iterable[BalanceReport], time: datetime
    ) -> list[Event]:
        """Every balance of the account (GET /account) at `time`."""
        return list(self.balances.apply_snapshot(reports, time))

    # -- what can be sold ---------------------------------------------------------------------

    def sellable_qty(self, symbol: str, mark: Decimal, *, market: bool = True) -> Decimal:
        """The free base balance floored to the step, or zero when the venue would refuse it.

        Zero when the floored quantity is below the minimum quantity or its notional at `mark`
        is under a minimum notional (whether or not the filter applies to MARKET orders: a
        dust-sized remainder is not worth an order).
        """
        rules = self.rules(symbol)
        qty = rules.floor_qty(self.balances.free(rules.base_asset), market=market)
        if qty <= 0:
            return ZERO
        lots = (rules.lot_size, rules.market_lot_size if market else None)
        below_min_qty = any(lot is not None and qty < lot.min_qty for lot in lots)
        below_notional = any(qty * mark < f.min_notional for f in rules.notional_filters)
        return ZERO if below_min_qty or below_notional else qty
