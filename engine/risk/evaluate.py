"""The one choke point every order passes before it is sent: `evaluate`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import localcontext

from engine.risk import checks_book, checks_order
from engine.risk.context import RiskContext
from engine.risk.exposure import Exposure
from engine.risk.limits import RiskLimits
from engine.risk.numbers import WIDE
from engine.risk.projection import Projection, project
from engine.risk.proposal import ProposedOrder
from engine.risk.results import CheckResult, RiskDecision

Check = Callable[[Projection, RiskContext, RiskLimits], CheckResult]

CHECKS: tuple[Check, ...] = (
    checks_order.trading_state,
    checks_order.symbol,
    checks_order.exchange_filters,
    checks_order.order_rate,
    checks_order.balance,
    checks_order.no_short,
    checks_book.daily_loss,
    checks_book.daily_trades,
    checks_book.open_positions,
    checks_order.order_value,
    checks_book.position_value,
    checks_book.position_share,
    checks_book.total_exposure,
    checks_book.long_exposure,
    checks_order.soft_notional,
)


def evaluate(
    order: ProposedOrder,
    ctx: RiskContext,
    limits: RiskLimits,
    exposure: Exposure | None = None,
) -> RiskDecision:
    """Every check on `order` (rounded toward safety first), in a fixed order; deterministic.
    `exposure` is `measured(ctx, limits)` when the caller has it already."""
    with localcontext(WIDE):
        projection = project(order, ctx, limits, exposure)
        checks = tuple(check(projection, ctx, limits) for check in CHECKS)
        return RiskDecision(
            order=projection.order,
            adjusted=projection.adjusted,
            notional=projection.order_value,
            checks=checks,
            needs_confirmation=checks_order.needs_confirmation(projection, limits),
        )
