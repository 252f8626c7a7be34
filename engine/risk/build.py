"""Assembles a RiskContext from the engine's live parts: ledger, open orders, marks, counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from engine.core.order import Order
from engine.core.rules import SymbolRules
from engine.ledger import Ledger
from engine.risk.context import RiskContext, account_equity
from engine.risk.counters import DailyCounters
from engine.risk.limits import RiskLimits
from engine.risk.state import TradingStateMachine


def build_context(
    *,
    now: datetime,
    ledger: Ledger,
    rules: Mapping[str, SymbolRules],
    marks: Mapping[str, Decimal],
    open_orders: Sequence[Order],
    counters: DailyCounters,
    state: TradingStateMachine,
    limits: RiskLimits,
    fee_rate: Decimal,
) -> RiskContext:
    """The context for one evaluation. Equity is every balance valued at the marks (assets
    without one are left out: it only makes share limits stricter). The counters first book
    whatever realized PnL the ledger's positions gained or lost since they last looked."""
    positions = ledger.positions()
    counters.observe_positions(positions, now)
    balances = {balance.asset: balance for balance in ledger.balances}
    equity, _ = account_equity(balances.values(), marks, limits.quote_asset)
    return RiskContext(
        now=now,
        equity=equity,
        balances=balances,
        positions={position.symbol: position for position in positions},
        marks=marks,
        rules=rules,
        day=counters.totals(now),
        open_orders=[order for order in open_orders if order.is_open],
        recent_order_times=counters.recent_orders(now),
        trading_state=state.state,
        trading_state_reason=state.reason,
        fee_rate=fee_rate,
    )
