"""Checks on the order itself: trading state, symbol, filters, rate, funds, size, confirmation."""

from __future__ import annotations

from bisect import bisect_right
from datetime import timedelta
from decimal import Decimal

from engine.core.types import Side
from engine.risk.context import RiskContext
from engine.risk.counters import ORDER_RATE_WINDOW
from engine.risk.limits import RiskLimits
from engine.risk.numbers import ZERO, fmt
from engine.risk.projection import Projection
from engine.risk.results import CheckResult, Level, Rule, level_of, result, shown
from engine.risk.state import TradingState


def unknown_because(p: Projection, ctx: RiskContext, limits: RiskLimits) -> str:
    """Why an amount could not be valued: missing rules, marks, sizes or a quote conversion."""
    symbol = p.order.symbol
    if p.rules is None:
        return f"no exchangeInfo rules for {symbol}"
    suspects = set(p.exposure.unknown) | set(p.exposure.loss_unknown())
    missing = sorted(s for s in suspects | {symbol} if s not in ctx.marks)
    if missing:
        return "no mark for " + ", ".join(missing)
    q = limits.quote_asset
    if suspects:
        return (
            f"cannot value {', '.join(sorted(suspects))}: an open order without a size or a "
            f"side, or a quote asset with no mark in {q}"
        )
    if ctx.convert(Decimal(1), p.rules.quote_asset, q) is None:
        return f"no mark to convert {p.rules.quote_asset} into {q}"
    return f"today's realized PnL is in an asset with no mark in {q}"


def trading_state(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    state = ctx.trading_state
    why = f" ({ctx.trading_state_reason})" if ctx.trading_state_reason else ""
    values = {"state": state, "reason": ctx.trading_state_reason}
    allowed = state.allows(p.order)
    if state is TradingState.ACTIVE:
        message = "trading is ACTIVE"
    elif state is TradingState.REDUCING and allowed:
        message = f"trading is REDUCING{why}; a sell reduces a position"
    elif state is TradingState.REDUCING:
        message = f"trading is REDUCING{why}: only sells, which reduce positions, may be placed"
    else:
        message = f"trading is HALTED{why}: no new orders until the operator arms with a reason"
    level = Level.WARNING if allowed and state is not TradingState.ACTIVE else None
    return result(Rule.TRADING_STATE, allowed, message, values, level)


def symbol(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    name = p.order.symbol
    values = {
        "symbol": name,
        "allowed": ",".join(limits.allowed_symbols) or "all",
        "denied": ",".join(limits.denied_symbols),
    }
    if p.rules is None:
        return result(Rule.SYMBOL, False, f"no exchangeInfo rules for {name}", values)
    if p.order.reduces_position:
        message = f"{name} may be sold (the allow and deny lists limit buys only)"
        return result(Rule.SYMBOL, True, message, values)
    if name in limits.denied_symbols:
        return result(Rule.SYMBOL, False, f"{name} is on the deny list", values)
    if not limits.symbol_allowed(name):
        message = f"{name} is not on the allow list ({', '.join(limits.allowed_symbols)})"
        return result(Rule.SYMBOL, False, message, values)
    if p.rules.quote_asset != limits.quote_asset:
        message = (
            f"{name} is quoted in {p.rules.quote_asset}, not in {limits.quote_asset}, the asset "
            "the risk limits are in"
        )
        return result(Rule.SYMBOL, False, message, values)
    return result(Rule.SYMBOL, True, f"{name} may be bought", values)


def exchange_filters(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    order, rules = p.order, p.rules
    given = {
        "quantity": order.qty,
        "quote_qty": order.quote_qty,
        "price": order.price,
        "stop_price": order.stop_price,
    }
    values: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    values["adjusted"] = ",".join(p.adjusted)
    if rules is None:
        message = f"no exchangeInfo rules for {order.symbol}"
        return result(Rule.EXCHANGE_FILTERS, False, message, values)
    mine = [o for o in ctx.open_orders if o.symbol == order.symbol and o.is_open]
    algo = [o for o in mine if o.type is not None and o.type.has_stop_price]
    violations = rules.check(
        order.side,
        order.type,
        order.qty,
        order.price,
        p.mark,
        stop_price=order.stop_price,
        quote_qty=order.quote_qty,
        open_orders=len(mine),
        open_algo_orders=len(algo),
    )
    if violations:
        filters = sorted({v.filter for v in violations})
        message = "; ".join(v.message for v in violations)
        values["filters"] = ",".join(filters)
        return result(Rule.EXCHANGE_FILTERS, False, message, values)
    rounded = f" (rounded: {', '.join(p.adjusted)})" if p.adjusted else ""
    message = f"passes {order.symbol}'s exchange filters{rounded}"
    return result(Rule.EXCHANGE_FILTERS, True, message, values)


def order_rate(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    cutoff = ctx.now - ORDER_RATE_WINDOW
    ordered = sorted(ctx.recent_order_times)
    recent = ordered[bisect_right(ordered, cutoff) :]
    limit = limits.max_orders_per_minute
    after = len(recent) + 1
    seconds = int(ORDER_RATE_WINDOW / timedelta(seconds=1))
    values: dict[str, object] = {"sent": len(recent), "after": after, "limit": limit}
    text = f"{len(recent)} orders sent in the last {seconds} s; the limit is {limit} per minute"
    if after > limit:
        frees = recent[len(recent) - limit] + ORDER_RATE_WINDOW
        message = f"{text} (the next one may go at {frees.isoformat()})"
        values["next_at"] = frees.isoformat()
        return result(Rule.ORDER_RATE, False, message, values)
    level = level_of(Decimal(after), Decimal(limit), limits.warning_ratio)
    return result(Rule.ORDER_RATE, True, text, values, level)


def balance(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    rules = p.rules
    if rules is None:
        return result(Rule.BALANCE, False, f"no exchangeInfo rules for {p.order.symbol}")
    buy = p.order.side is Side.BUY
    asset = rules.quote_asset if buy else rules.base_asset
    free, locked = ctx.free(asset), ctx.locked(asset)
    values: dict[str, object] = {"asset": asset, "free": free, "locked": locked}
    if buy:
        if p.cost is None or p.fee is None:
            message = f"the order's cost is unknown: {unknown_because(p, ctx, limits)}"
            return result(Rule.BALANCE, False, message, values)
        need = p.cost + p.fee
        text = (
            f"needs {fmt(need)} {asset} ({fmt(p.cost)} plus an estimated fee {fmt(p.fee)}); "
            f"{fmt(free)} {asset} is free ({fmt(locked)} locked is not available)"
        )
        values.update(cost=p.cost, fee=p.fee)
    else:
        if p.qty is None:
            message = f"the quantity to sell is unknown: {unknown_because(p, ctx, limits)}"
            return result(Rule.BALANCE, False, message, values)
        need = p.qty
        text = (
            f"sells {fmt(need)} {asset}; {fmt(free)} {asset} is free "
            f"({fmt(locked)} locked is not available)"
        )
    values["need"] = need
    return result(Rule.BALANCE, need <= free, text, values)


def no_short(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    if p.order.side is Side.BUY:
        return result(Rule.NO_SHORT, True, "a buy cannot open a short")
    held, offered = p.held.held_qty, p.held.resting_sell_qty
    available = max(held - offered, ZERO)
    base = p.rules.base_asset if p.rules is not None else "units"
    values = {"qty": p.qty, "held": held, "offered": offered, "available": available}
    detail = (
        f"{fmt(available)} {base} available (held {fmt(held)}, offered by open sells "
        f"{fmt(offered)})"
    )
    if p.qty is None:
        message = f"the quantity to sell is unknown: {unknown_because(p, ctx, limits)}"
        return result(Rule.NO_SHORT, False, message, values)
    if p.qty > available:
        message = f"selling {fmt(p.qty)} {base} would open a short: {detail}"
        return result(Rule.NO_SHORT, False, message, values)
    return result(Rule.NO_SHORT, True, f"sells {fmt(p.qty)} {base} of {detail}", values)


def order_value(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    q, value = limits.quote_asset, p.order_value
    low, high = limits.min_order_value, limits.max_order_value
    values = {"value": value, "min": low, "max": high}
    if p.order.reduces_position:
        message = f"a sell is not limited by order value ({shown(value)} {q})"
        return result(Rule.ORDER_VALUE, True, message, values)
    if value is None:
        message = f"the order's value in {q} is unknown: {unknown_because(p, ctx, limits)}"
        return result(Rule.ORDER_VALUE, False, message, values)
    if value < low:
        message = f"order value {fmt(value)} {q} is below the minimum {fmt(low)} {q}"
        return result(Rule.ORDER_VALUE, False, message, values)
    if value > high:
        message = f"order value {fmt(value)} {q} is above the maximum {fmt(high)} {q}"
        return result(Rule.ORDER_VALUE, False, message, values)
    message = f"order value {fmt(value)} {q} is within {fmt(low)} to {fmt(high)} {q}"
    level = level_of(value, high, limits.warning_ratio)
    return result(Rule.ORDER_VALUE, True, message, values, level)


def needs_confirmation(p: Projection, limits: RiskLimits) -> bool:
    """Above the soft notional limit (or of unknown value) and not confirmed by the operator."""
    above = p.order_value is None or p.order_value > limits.soft_notional_limit
    return above and not p.order.confirmed


def soft_notional(p: Projection, ctx: RiskContext, limits: RiskLimits) -> CheckResult:
    q, value, soft = limits.quote_asset, p.order_value, limits.soft_notional_limit
    values = {"value": value, "soft_limit": soft, "confirmed": p.order.confirmed}
    if value is not None and value <= soft:
        message = f"order value {fmt(value)} {q} is within the soft limit {fmt(soft)} {q}"
        return result(Rule.SOFT_NOTIONAL, True, message, values)
    if value is None:
        what = f"the order's value is unknown ({unknown_because(p, ctx, limits)})"
    else:
        what = f"order value {fmt(value)} {q} is above the soft limit {fmt(soft)} {q}"
    outcome = "confirmed" if p.order.confirmed else "it needs an explicit confirmation"
    return result(Rule.SOFT_NOTIONAL, True, f"{what}: {outcome}", values, Level.WARNING)
