"""The account's exposure and today's loss, measured from a RiskContext in the limits' quote.

Whatever cannot be valued (no mark, no conversion) is named rather than guessed, so the checks
that need it fail closed. A resting buy counts as exposure as if it had filled: risk only ever
overstates what may be bought.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from engine.core.order import Order
from engine.core.position import Position
from engine.core.types import Side
from engine.risk.context import RiskContext
from engine.risk.limits import RiskLimits
from engine.risk.numbers import CEILING, WIDE, ZERO


@dataclass(frozen=True, slots=True)
class SymbolExposure:
    """One symbol: what is held and what resting orders may add or take away."""

    symbol: str
    quote_asset: str
    held_qty: Decimal = ZERO
    held_value: Decimal | None = ZERO  # at the mark, in the limits' quote; None when unknown
    resting_buy_value: Decimal | None = ZERO  # reserved by open buys; None when unknown
    resting_buy_count: int = 0
    resting_sell_qty: Decimal = ZERO  # base quantity open sells may still take
    unrealized_loss: Decimal | None = ZERO  # None when the mark is unknown
    entry_known: bool = True

    @property
    def value(self) -> Decimal | None:
        """Held plus resting buys, or None when either is unknown."""
        if self.held_value is None or self.resting_buy_value is None:
            return None
        return self.held_value + self.resting_buy_value


@dataclass(frozen=True, slots=True)
class Exposure:
    """Every symbol held or with open orders, plus today's realized PnL and fees."""

    symbols: dict[str, SymbolExposure]
    realized_today: Decimal | None  # net of fees; None when a quote cannot be converted
    fees_today: Decimal | None
    dust_value: Decimal
    unknown: tuple[str, ...] = field(default=())  # symbols whose exposure cannot be valued

    def of(self, symbol: str, quote_asset: str) -> SymbolExposure:
        return self.symbols.get(symbol) or SymbolExposure(symbol, quote_asset)

    @property
    def total(self) -> Decimal | None:
        """Positions at their marks plus resting buys, or None when something is unknown."""
        if self.unknown:
            return None
        return sum((s.value or ZERO for s in self.symbols.values()), ZERO)

    def total_without(self, symbol: str) -> Decimal | None:
        """The total of every other symbol, or None when one of them is unknown."""
        others = [s for name, s in self.symbols.items() if name != symbol]
        values = [s.value for s in others]
        if any(value is None for value in values):
            return None
        return sum((value or ZERO for value in values), ZERO)

    @property
    def open_symbols(self) -> tuple[str, ...]:
        """Symbols held (not dust, or of unknown value) or with a resting buy order."""
        return tuple(
            sorted(
                s.symbol
                for s in self.symbols.values()
                if s.resting_buy_count > 0
                or (s.held_qty > 0 and (s.held_value is None or s.held_value >= self.dust_value))
            )
        )

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Positions of unknown entry: their unrealized PnL is unknown and left out of the loss."""
        return tuple(sorted(s.symbol for s in self.symbols.values() if not s.entry_known))

    @property
    def unrealized_loss(self) -> Decimal | None:
        losses = [s.unrealized_loss for s in self.symbols.values()]
        if any(loss is None for loss in losses):
            return None
        return sum((loss or ZERO for loss in losses), ZERO)

    def loss_unknown(self) -> tuple[str, ...]:
        """Symbols whose unrealized loss cannot be measured (no mark)."""
        return tuple(sorted(s.symbol for s in self.symbols.values() if s.unrealized_loss is None))

    def daily_loss(self, extra: Decimal = ZERO) -> Decimal | None:
        """Today's loss, never negative: unrealized losses (plus `extra`) less today's realized
        PnL. Unrealized gains never offset a loss; realized gains do."""
        unrealized = self.unrealized_loss
        if unrealized is None or self.realized_today is None:
            return None
        return max(unrealized + extra - self.realized_today, ZERO)


def _order_value(order: Order, mark: Decimal | None) -> Decimal | None:
    """What an open buy may still spend, in its symbol's quote asset."""
    if order.qty is None:
        if order.quote_qty is None:
            return None
        return max(order.quote_qty - order.cum_quote, ZERO)
    remaining = order.remaining_qty or ZERO
    unit = order.price or order.stop_price or mark
    return None if unit is None else remaining * unit


def _sell_qty(order: Order, mark: Decimal | None, held: Decimal) -> Decimal:
    """What an open sell may still take, in base units; all that is held when unknown."""
    if order.qty is not None:
        return order.remaining_qty or ZERO
    if order.quote_qty is None or mark is None or mark == 0:
        return held
    return CEILING.divide(max(order.quote_qty - order.cum_quote, ZERO), mark)


def _quote_of(ctx: RiskContext, symbol: str) -> str | None:
    rules = ctx.rules.get(symbol)
    if rules is not None:
        return rules.quote_asset
    position = ctx.positions.get(symbol)
    return None if position is None else position.quote_asset


def measured(ctx: RiskContext, limits: RiskLimits) -> Exposure:
    """`measure` in the limits' quote and dust value, at the checks' precision: measured once
    per decision and shared by the checks and the daily-loss watch."""
    with localcontext(WIDE):
        return measure(ctx, limits.quote_asset, limits.dust_value)


def measure(ctx: RiskContext, quote: str, dust_value: Decimal) -> Exposure:
    """The exposure of every symbol held or with open orders, valued in `quote`."""
    orders_by_symbol: dict[str, list[Order]] = {}
    for order in ctx.open_orders:
        if order.is_open:
            orders_by_symbol.setdefault(order.symbol, []).append(order)
    held = {s: p for s, p in ctx.positions.items() if p.qty > 0}
    symbols: dict[str, SymbolExposure] = {}
    unknown: list[str] = []
    for symbol in sorted(set(held) | set(orders_by_symbol)):
        orders = orders_by_symbol.get(symbol, [])
        symbol_quote = _quote_of(ctx, symbol)
        exposure = _symbol(ctx, symbol, symbol_quote, held.get(symbol), orders, quote)
        symbols[symbol] = exposure
        if exposure.value is None:
            unknown.append(symbol)
    return Exposure(
        symbols,
        _sum_converted(ctx, ctx.day.realized_pnl, quote),
        _sum_converted(ctx, ctx.day.fees, quote),
        dust_value,
        tuple(unknown),
    )


def _symbol(
    ctx: RiskContext,
    symbol: str,
    symbol_quote: str | None,
    position: Position | None,
    orders: list[Order],
    quote: str,
) -> SymbolExposure:
    mark = ctx.marks.get(symbol)
    held_qty = ZERO if position is None else position.qty

    def value(amount: Decimal | None) -> Decimal | None:
        if amount is None or symbol_quote is None:
            return None
        return ctx.convert(amount, symbol_quote, quote)

    held_value: Decimal | None = ZERO
    loss: Decimal | None = ZERO
    entry_known = True
    if position is not None:
        held_value = value(None if mark is None else held_qty * mark)
        if position.cost_basis is None:
            entry_known = False
        else:
            unrealized = None if mark is None else position.unrealized_pnl(mark)
            loss = value(None if unrealized is None else max(-unrealized, ZERO))
    # An order of unknown side might be a buy: its value counts as unknown.
    buys = [o for o in orders if o.side is not Side.SELL]
    resting: Decimal | None = ZERO
    for order in buys:
        order_value = value(_order_value(order, mark)) if order.side is Side.BUY else None
        resting = None if resting is None or order_value is None else resting + order_value
    sells = sum((_sell_qty(o, mark, held_qty) for o in orders if o.side is Side.SELL), ZERO)
    return SymbolExposure(
        symbol=symbol,
        quote_asset=symbol_quote or quote,
        held_qty=held_qty,
        held_value=held_value,
        resting_buy_value=resting,
        resting_buy_count=len(buys),
        resting_sell_qty=sells,
        unrealized_loss=loss,
        entry_known=entry_known,
    )


def _sum_converted(ctx: RiskContext, amounts: dict[str, Decimal], quote: str) -> Decimal | None:
    total = ZERO
    for asset, amount in amounts.items():
        value = ctx.convert(amount, asset, quote)
        if value is None:
            return None
        total += value
    return total
