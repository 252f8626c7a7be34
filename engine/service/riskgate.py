"""The engine's side of pre-trade risk: a live context for `engine.risk.evaluate`, today's
counters journaled and restored, the snapshot's gauges, and REDUCING on a daily-loss breach."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.core.rules import SymbolRules
from engine.journal import JournalError
from engine.risk import (
    DailyCounters,
    Gauge,
    Level,
    ProposedOrder,
    RiskContext,
    RiskDecision,
    RiskLimits,
    SizingResult,
    TradingState,
    build_context,
    evaluate,
    size_from_stop,
    utilisation,
)
from engine.risk.counters import ORDER_RATE_WINDOW
from engine.risk.exposure import Exposure, measured
from engine.risk.gauges import daily_loss_gauge
from engine.risk.numbers import fmt
from engine.service.gate import TRADING_KEY
from engine.service.parts import Parts
from engine.service.trading import TradingControl
from engine.venue.errors import VenueError

log = logging.getLogger(__name__)

DEFAULT_FEE_RATE = Decimal("0.001")  # Binance's base taker rate; used to estimate fees


class RiskGate:
    """Evaluates every order the engine sends against the live account (the one choke point)."""

    def __init__(
        self,
        parts: Parts,
        limits: RiskLimits,
        control: TradingControl,
        fee_rate: Decimal = DEFAULT_FEE_RATE,
    ) -> None:
        self._parts = parts
        self.limits = limits
        self._control = control
        self._fee_rate = fee_rate
        parts.gate.counters = self.counters = self._restored_counters()
        # The last REST prices and when they came (monotonic): they stand in for marks the
        # streams lack for as long as a mark stays fresh, so one lookup serves many orders.
        self._rest_prices: dict[str, Decimal] = {}
        self._rest_mono: float | None = None

    def _restored_counters(self) -> DailyCounters:
        """The journaled counters rolled to now; unreadable ones halt (R12) and start afresh."""
        parts, hour = self._parts, self.limits.trading_day_rollover_hour
        now = parts.clock.now()
        stored = parts.gate.stored_counters
        if stored is not None:
            try:
                return DailyCounters.from_json(stored, hour, now)
            except ValueError as error:
                self._control.halt(str(error))
        return DailyCounters(hour, now, parts.ledger.positions())

    async def restore_counts(self) -> None:
        """Take the journal's named counters for today when they are ahead of the state record
        (the two are written separately, so either may be the newer after a crash), and the
        times of the last minute's orders from their journaled intents."""
        journal, counters = self._parts.journal, self.counters
        day = counters.totals(self._parts.clock.now()).day.isoformat()
        found: dict[str, int] = {}
        for name in (f"trades.{day}", f"orders.{day}"):
            value = await journal.max_counter(f"risk.{name}")
            if value is not None:
                found[name] = value
        counters.restore_counts(found)
        now = self._parts.clock.now()
        counters.restore_recent(await journal.intent_times_after(now - ORDER_RATE_WINDOW))

    # -- the choke point -----------------------------------------------------------------------

    async def decide(
        self, order: ProposedOrder, mark: Decimal | None = None, *, flattening: bool = False
    ) -> RiskDecision:
        """Every check on `order` against the account as it is now; `mark` is the order
        symbol's reference price when the caller already has one. `flattening` (the emergency
        stop's sells) is judged as REDUCING while HALTED: sells pass, nothing else."""
        known = {} if mark is None else {order.symbol: mark}
        ctx, exposure = await self._assess((order.symbol,), True, known)
        if flattening and ctx.trading_state is TradingState.HALTED:
            reason = f"emergency flatten while HALTED ({ctx.trading_state_reason})"
            ctx = replace(ctx, trading_state=TradingState.REDUCING, trading_state_reason=reason)
        return evaluate(order, ctx, self.limits, exposure)

    async def size(
        self,
        rules: SymbolRules,
        entry: Decimal,
        stop: Decimal,
        mark: Decimal | None,
        *,
        market: bool,
    ) -> tuple[SizingResult, Decimal]:
        """A long entry's size from its stop, risking `risk_per_trade` of the live equity (the
        same context the checks use), and that equity; `mark` as in `decide`."""
        known = {} if mark is None else {rules.symbol: mark}
        ctx = await self.context((rules.symbol,), known=known)
        limits = self.limits
        sized = size_from_stop(
            ctx.equity, limits.risk_per_trade, entry, stop, rules, limits, market=market
        )
        return sized, ctx.equity

    async def context(
        self,
        symbols: tuple[str, ...] = (),
        *,
        fetch: bool = True,
        known: Mapping[str, Decimal] | None = None,
    ) -> RiskContext:
        """The live context; with `fetch`, marks missing for `symbols` or held assets are read
        over REST (without, assets lacking a fresh mark are left unvalued)."""
        ctx, _ = await self._assess(symbols, fetch, known or {})
        return ctx

    async def _assess(
        self, symbols: tuple[str, ...], fetch: bool, known: Mapping[str, Decimal]
    ) -> tuple[RiskContext, Exposure]:
        """The live context and its exposure, measured once (the checks and the daily-loss
        watch share it)."""
        parts = self._parts
        marks = await self._marks(symbols, fetch, known)
        ctx = build_context(
            now=parts.clock.now(),
            ledger=parts.ledger,
            rules=parts.rules,
            marks=marks,
            open_orders=list(parts.book.open_orders()),
            counters=self.counters,
            state=parts.gate.machine,
            limits=self.limits,
            fee_rate=self._fee_rate,
        )
        exposure = measured(ctx, self.limits)
        self._watch_daily_loss(ctx, exposure)
        return ctx, exposure

    async def _marks(
        self, symbols: tuple[str, ...], fetch: bool, known: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        parts = self._parts
        quote = self.limits.quote_asset
        wanted = set(symbols)
        wanted.update(f"{b.asset}{quote}" for b in parts.ledger.balances if b.asset != quote)
        wanted.update(p.symbol for p in parts.ledger.positions())
        wanted &= set(parts.rules)
        marks: dict[str, Decimal] = {s: m for s, m in known.items() if s in wanted}
        for symbol in wanted - set(marks):
            mark = parts.mark_price(symbol)
            if mark is not None:
                marks[symbol] = mark
        if fetch and wanted - set(marks):
            prices = await self._rest_marks()
            marks.update({s: prices[s] for s in wanted - set(marks) if s in prices})
        return marks

    async def _rest_marks(self) -> Mapping[str, Decimal]:
        """Every last price over REST, reused while younger than a mark may be (the same age
        a streamed mark is trusted for); a failed lookup gives none and is not kept."""
        parts = self._parts
        now = parts.clock.monotonic()
        if self._rest_mono is not None and now - self._rest_mono <= parts.options.mark_max_age_s:
            return self._rest_prices
        try:  # one request for every price (weight 4) rather than one per symbol
            prices = await parts.link.call(parts.venue.ticker_prices())
        except VenueError as error:
            log.warning("no prices for risk: %s", error)
            return {}
        self._rest_prices, self._rest_mono = dict(prices), now
        return self._rest_prices

    def record_order(self, order: ProposedOrder) -> None:
        """An order's intent was journaled: count it (journal counters and the state record)."""
        parts = self._parts
        named = self.counters.record_order(order, parts.clock.now())
        for name, value in named.items():
            parts.journal.advance_counter(f"risk.{name}", value).add_done_callback(_logged)
        parts.journal.set_state(TRADING_KEY, parts.gate.stored()).add_done_callback(_logged)

    def _watch_daily_loss(self, ctx: RiskContext, exposure: Exposure) -> None:
        """A breached daily loss moves ACTIVE to REDUCING, with the numbers (journaled)."""
        if ctx.trading_state is not TradingState.ACTIVE:
            return
        loss = daily_loss_gauge(exposure, self.limits)
        if loss.level is Level.BREACH and loss.value is not None:
            self._control.reduce(
                f"daily loss {fmt(loss.value)} {loss.unit} reached the limit "
                f"{fmt(loss.limit)} {loss.unit}"
            )

    def _gauges(self, ctx: RiskContext, exposure: Exposure) -> list[Gauge]:
        budget = self._parts.venue.budget.snapshot()
        used, limit = budget.used_weight_1m or 0, budget.weight_limit_1m
        return utilisation(ctx, self.limits, used, limit, exposure)

    # -- the snapshot ----------------------------------------------------------------------------

    async def snapshot_json(self) -> dict[str, Any]:
        """The `risk` section of the snapshot: gauges, today's counters, the limits."""
        ctx, exposure = await self._assess((), False, {})  # never waits on the exchange
        totals = ctx.day
        return {
            "gauges": [gauge.to_json() for gauge in self._gauges(ctx, exposure)],
            "day": {
                "day": totals.day.isoformat(),
                "rollover_hour": self.limits.trading_day_rollover_hour,
                "trades": totals.trades,
                "orders": totals.orders,
                "realized_pnl": _texts(totals.realized_pnl),
                "fees": _texts(totals.fees),
            },
            "equity": fmt(ctx.equity),
            "limits": self.limits.model_dump(mode="json"),
        }


def _texts(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {asset: fmt(value) for asset, value in sorted(amounts.items())}


def _logged(future: Any) -> None:
    """A failed counter write is reported by the journal's own failure path; log it here too."""
    if future.cancelled():
        return
    error = future.exception()
    if isinstance(error, JournalError):
        log.warning("risk counters not journaled: %s", error)
    elif error is not None:
        log.error("risk counters not journaled", exc_info=error)
