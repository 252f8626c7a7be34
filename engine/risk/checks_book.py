"""The checks about the account after the order: daily loss and trades, positions, exposure.

Sells pass them all (a sell only ever reduces), with the current numbers shown for the preview.
"""

from __future__ import annotations

from decimal import Decimal

from engine.risk.checks_order import unknown_because
from engine.risk.context import RiskContext
from engine.risk.limits import RiskLimits
from engine.risk.numbers import fmt, percent
from engine.risk.projection import Projection
from engine.risk.results import CheckResult, Level, Rule, level_of, result, shown


def daily_loss(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    q, limit = limits.quote_asset, limits.daily_loss_limit
    warn_at = limit * limits.warning_ratio
    exposure = p.exposure
    loss = exposure.daily_loss()
    values: dict[str, object] = {
        "realized_pnl": exposure.realized_today,
        "fees": exposure.fees_today,
        "unrealized_loss": exposure.unrealized_loss,
        "unpriced": ",".join(exposure.unpriced),
        "loss": loss,
        "limit": limit,
        "warning_at": warn_at,
    }
    if p.order.reduces_position:
        level = Level.WARNING if loss is None or loss >= warn_at else Level.OK
        message = (
            f"a sell reduces a position; today's loss is {shown(loss)} {q} of the {fmt(limit)} "
            f"{q} limit"
        )
        return result(Rule.DAILY_LOSS, True, message, values, level)
    added = p.loss_added
    if loss is None or added is None:
        message = f"today's loss is unknown: {unknown_because(p, ctx, limits)}"
        return result(Rule.DAILY_LOSS, False, message, values)
    projected = exposure.daily_loss(added)
    assert projected is not None  # known whenever `loss` is
    values.update(order_loss=added, projected_loss=projected)
    if loss >= limit:
        message = (
            f"today's loss {fmt(loss)} {q} has reached the limit {fmt(limit)} {q}: only sells "
            "may be placed"
        )
        return result(Rule.DAILY_LOSS, False, message, values)
    if projected > limit:
        message = (
            f"today's loss would be {fmt(projected)} {q} with this order's fee and price "
            f"({fmt(added)} {q}); the limit is {fmt(limit)} {q}"
        )
        return result(Rule.DAILY_LOSS, False, message, values)
    message = (
        f"today's loss would be {fmt(projected)} {q}, {percent(projected, limit)} of the limit "
        f"{fmt(limit)} {q}"
    )
    level = level_of(projected, limit, limits.warning_ratio)
    if level is Level.WARNING:
        message += f" (warning from {percent(limits.warning_ratio, Decimal(1))})"
    return result(Rule.DAILY_LOSS, True, message, values, level)


def daily_trades(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    trades, limit, day = ctx.day.trades, limits.max_trades_per_day, ctx.day.day.isoformat()
    values: dict[str, object] = {"trades": trades, "limit": limit, "day": day}
    if p.order.reduces_position:
        message = (
            f"sells are not limited by the daily trade count ({trades} of {limit} buys on {day})"
        )
        return result(Rule.DAILY_TRADES, True, message, values)
    after = trades + 1
    if after > limit:
        message = (
            f"{trades} buys on trading day {day}; the limit is {limit} per day (the day rolls "
            f"over at {limits.trading_day_rollover_hour:02d}:00 UTC)"
        )
        return result(Rule.DAILY_TRADES, False, message, values)
    message = f"buy {after} of {limit} on trading day {day}"
    level = level_of(Decimal(after), Decimal(limit), limits.warning_ratio)
    values["after"] = after
    return result(Rule.DAILY_TRADES, True, message, values, level)


def open_positions(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    open_now = p.exposure.open_symbols
    limit = limits.max_open_positions
    values: dict[str, object] = {"open": ",".join(open_now), "count": len(open_now), "limit": limit}
    if p.order.reduces_position:
        message = f"a sell never opens a position ({len(open_now)} of {limit} open)"
        return result(Rule.OPEN_POSITIONS, True, message, values)
    after = len(open_now) + (0 if p.order.symbol in open_now else 1)
    values["after"] = after
    if after > limit:
        listed = ", ".join(open_now) or "none"
        message = (
            f"buying {p.order.symbol} would make {after} open positions; the limit is {limit} "
            f"(open: {listed})"
        )
        return result(Rule.OPEN_POSITIONS, False, message, values)
    message = f"{after} of {limit} open positions after this order"
    level = level_of(Decimal(after), Decimal(limit), limits.warning_ratio)
    return result(Rule.OPEN_POSITIONS, True, message, values, level)


def position_value(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    q, name, value = limits.quote_asset, p.order.symbol, p.position_value
    low, high = limits.min_position_value, limits.max_position_value
    values: dict[str, object] = {
        "held_qty": p.held.held_qty,
        "held": p.held_value,
        "resting_buys": p.held.resting_buy_value,
        "order": p.added_value,
        "value": value,
        "min": low,
        "max": high,
    }
    if p.order.reduces_position:
        message = "a sell only reduces the position"
        return result(Rule.POSITION_VALUE, True, message, {"held_qty": p.held.held_qty})
    if value is None:
        message = f"the {name} position's value is unknown: {unknown_because(p, ctx, limits)}"
        return result(Rule.POSITION_VALUE, False, message, values)
    if value < low:
        message = f"the {name} position would be {fmt(value)} {q}, below the minimum {fmt(low)} {q}"
        return result(Rule.POSITION_VALUE, False, message, values)
    if value > high:
        message = (
            f"the {name} position would be {fmt(value)} {q} (held {shown(p.held_value)}, resting "
            f"buys {shown(p.held.resting_buy_value)}, this order {shown(p.added_value)}); the "
            f"maximum is {fmt(high)} {q}"
        )
        return result(Rule.POSITION_VALUE, False, message, values)
    message = f"the {name} position would be {fmt(value)} {q} of the {fmt(high)} {q} maximum"
    level = level_of(value, high, limits.warning_ratio)
    return result(Rule.POSITION_VALUE, True, message, values, level)


def _share_of_equity(
    rule: Rule,
    what: str,
    value: Decimal | None,
    share: Decimal,
    p: Projection,
    ctx: RiskContext,
    limits: RiskLimits,
) -> CheckResult:
    """`value` after a buy against `share` of the equity left after it."""
    q, equity = limits.quote_asset, p.equity_after
    cap = None if equity is None else equity * share
    values: dict[str, object] = {"value": value, "equity": equity, "share": share, "cap": cap}
    if value is None or equity is None or cap is None:
        message = f"{what} is unknown: {unknown_because(p, ctx, limits)}"
        return result(rule, False, message, values)
    if equity <= 0:
        message = f"equity after this order would be {fmt(equity)} {q}"
        return result(rule, False, message, values)
    limit_text = f"the limit is {percent(share, Decimal(1))} ({fmt(cap)} {q})"
    message = (
        f"{what} would be {fmt(value)} {q}, {percent(value, equity)} of equity {fmt(equity)} {q}; "
        f"{limit_text}"
    )
    level = level_of(value, cap, limits.warning_ratio)
    return result(rule, value <= cap, message, values, level)


def position_share(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    if p.order.reduces_position:
        return result(Rule.POSITION_SHARE, True, "a sell only reduces the position")
    what = f"the {p.order.symbol} position"
    share = limits.max_position_share
    return _share_of_equity(Rule.POSITION_SHARE, what, p.position_value, share, p, ctx, limits)


def total_exposure(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    q, limit = limits.quote_asset, limits.max_total_exposure
    if p.order.reduces_position:
        now = p.exposure.total
        message = f"a sell only reduces exposure ({shown(now)} {q} of the {fmt(limit)} {q} limit)"
        return result(Rule.TOTAL_EXPOSURE, True, message, {"value": now, "limit": limit})
    value = p.total_exposure
    values: dict[str, object] = {"value": value, "limit": limit}
    if value is None:
        message = f"total exposure is unknown: {unknown_because(p, ctx, limits)}"
        return result(Rule.TOTAL_EXPOSURE, False, message, values)
    if value > limit:
        message = f"total exposure would be {fmt(value)} {q}; the limit is {fmt(limit)} {q}"
        return result(Rule.TOTAL_EXPOSURE, False, message, values)
    message = f"total exposure would be {fmt(value)} {q} of the {fmt(limit)} {q} limit"
    level = level_of(value, limit, limits.warning_ratio)
    return result(Rule.TOTAL_EXPOSURE, True, message, values, level)


def long_exposure(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    if p.order.reduces_position:
        return result(Rule.LONG_EXPOSURE, True, "a sell reduces long exposure")
    share = limits.max_long_exposure_share
    return _share_of_equity(
        Rule.LONG_EXPOSURE, "long exposure", p.total_exposure, share, p, ctx, limits
    )
