"""Property: an order risk allows never breaches a limit once it fills at its price.

The account and the order are drawn first; the fill is then simulated here, independently of
the risk code, and the limits are drawn around what the fill would really do (just below, at,
just above), so a check that is even slightly too lax lets an order through that breaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from risk_helpers import DAY, RULES, T0, balance, position

from engine.core.types import OrderType, Side
from engine.risk import DayTotals, ProposedOrder, RiskContext, RiskLimits, evaluate
from engine.risk.numbers import WIDE

D = Decimal
# Marks of the form 2^a x 5^b, so quote quantities divide exactly.
MARKS = {
    "BTCUSDT": [D(40000), D(50000), D(62500)],
    "ETHUSDT": [D(1600), D(2000), D(2500)],
    "SOLUSDT": [D(80), D(100), D(125)],
}
STEPS = {"BTCUSDT": D("0.00001"), "ETHUSDT": D("0.0001"), "SOLUSDT": D("0.001")}
CENT = D("0.01")
DUST = D(1)


@dataclass(frozen=True)
class After:
    """The account once the order filled, with every position at `marks`."""

    cash: Decimal
    position: Decimal  # the traded symbol's value
    equity: Decimal
    total: Decimal
    open_positions: int
    loss: Decimal


def fill_price(ctx: RiskContext, order: ProposedOrder) -> Decimal:
    mark: Decimal = ctx.marks[order.symbol]
    return mark if order.price is None else order.price


def after_fill(
    ctx: RiskContext, order: ProposedOrder, fee_in_base: bool, marks: dict[str, Decimal]
) -> After:
    """The account after `order` fills at its price (no rounding: the orders are on the grid)."""
    with localcontext(WIDE):
        price = fill_price(ctx, order)
        qty = order.qty if order.qty is not None else order.quote_qty / price
        cash = ctx.balances["USDT"].free
        qtys = {s: p.qty for s, p in ctx.positions.items()}
        costs = {s: p.cost_basis or D(0) for s, p in ctx.positions.items()}
        held, cost = qtys.get(order.symbol, D(0)), costs.get(order.symbol, D(0))
        fee = qty * price * ctx.fee_rate
        if order.side is Side.BUY:
            cash -= qty * price + (0 if fee_in_base else fee)
            qtys[order.symbol] = held + qty - (qty * ctx.fee_rate if fee_in_base else 0)
            costs[order.symbol] = cost + qty * price + (0 if fee_in_base else fee)
        else:
            cash += qty * price - fee
            qtys[order.symbol] = held - qty
            costs[order.symbol] = cost - (cost * qty / held if held else 0)
        values = {s: q * marks[s] for s, q in qtys.items()}
        total = sum(values.values(), D(0))
        unrealized = sum((max(costs[s] - values[s], D(0)) for s in qtys), D(0))
        return After(
            cash=cash,
            position=values[order.symbol],
            equity=cash + total,
            total=total,
            open_positions=sum(1 for v in values.values() if v >= DUST),
            loss=max(unrealized - ctx.day.realized_pnl["USDT"], D(0)),
        )


def scenarios_after(ctx: RiskContext, order: ProposedOrder, fee_in_base: bool) -> list[After]:
    """Marks unchanged, and the traded symbol marked up to the price paid when above the mark."""
    moved = {**ctx.marks, order.symbol: max(fill_price(ctx, order), ctx.marks[order.symbol])}
    return [
        after_fill(ctx, order, fee_in_base, dict(ctx.marks)),
        after_fill(ctx, order, fee_in_base, moved),
    ]


@dataclass(frozen=True)
class Scenario:
    ctx: RiskContext
    limits: RiskLimits
    order: ProposedOrder
    fee_in_base: bool


CENTS = st.integers(0, 9999).map(lambda cents: D(cents) / 100)


def worth(value: str, mark: Decimal, symbol: str) -> Decimal:
    """The quantity worth about `value` at `mark`, on the symbol's step (at least one step)."""
    step = STEPS[symbol]
    return max((D(value) / mark // step) * step, step)


LIMITS = ("order", "position", "share", "total", "long", "loss", "open", "cash")


def near(draw: st.DrawFn, value: Decimal, delta: Decimal, floor: Decimal) -> Decimal:
    """Just below, at or just above `value`, never under `floor`."""
    return max(draw(st.sampled_from([value - delta, value, value + delta])), floor)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    marks = {symbol: draw(st.sampled_from(choices)) for symbol, choices in MARKS.items()}
    positions, balances = [], []
    for symbol, mark in marks.items():
        if draw(st.booleans()):
            qty = worth(draw(st.sampled_from(["3", "200", "800", "1500", "3000"])), mark, symbol)
            factor = D(draw(st.sampled_from(["0.8", "0.95", "1", "1.1"])))
            positions.append(position(symbol, qty, (qty * mark * factor).quantize(CENT)))
            balances.append(balance(RULES[symbol].base_asset, qty))
    side = draw(st.sampled_from(list(Side)))
    # One or two limits sit right at what the fill really does; the rest leave room.
    tight = draw(st.sets(st.sampled_from(LIMITS), min_size=1, max_size=2))
    held = sorted(p.symbol for p in positions)
    unheld = sorted(set(marks) - set(held))
    # Sells of what is held (selling nothing is refused, which proves little); buys that open
    # a position when the count of positions is the tight limit.
    symbols = sorted(marks)
    if side is Side.SELL and held:
        symbols = held
    elif "open" in tight and unheld:
        symbols = unheld
    symbol = draw(st.sampled_from(symbols))
    qty = worth(
        draw(st.sampled_from(["6", "50", "300", "900", "1900", "2400"])), marks[symbol], symbol
    )
    if side is Side.SELL and held:
        holding = next(p.qty for p in positions if p.symbol == symbol)
        half = max(holding / 2 // STEPS[symbol] * STEPS[symbol], STEPS[symbol])
        qty = draw(st.sampled_from([holding, half, qty]))
    kind = draw(st.sampled_from(["limit", "market", "quote"]))
    if kind == "limit":
        factor = D(draw(st.sampled_from(["0.95", "0.99", "1", "1.01", "1.05"])))
        order = ProposedOrder(symbol, side, OrderType.LIMIT, qty=qty, price=marks[symbol] * factor)
    elif kind == "market":
        order = ProposedOrder(symbol, side, OrderType.MARKET, qty=qty)
    else:
        quote = draw(st.sampled_from([D(10), D(100), D(500), D(1500)]))
        order = ProposedOrder(symbol, side, OrderType.MARKET, quote_qty=quote)
    fee_rate = draw(st.sampled_from([D(0), D("0.001"), D("0.0075")]))
    fee_in_base = draw(st.booleans())
    value = order.quote_qty or order.qty * (order.price or marks[symbol])
    spend = value * (1 + (0 if fee_in_base else fee_rate))
    if side is Side.BUY and "cash" in tight:
        cash = near(draw, spend, CENT, D(0))
    else:
        cash = draw(st.sampled_from([D(20000), D(5000)])) + draw(CENTS)
    balances.append(balance("USDT", cash))
    ctx = RiskContext(
        now=T0,
        equity=cash + sum((p.qty * marks[p.symbol] for p in positions), D(0)),
        balances={b.asset: b for b in balances},
        positions={p.symbol: p for p in positions},
        marks=marks,
        rules=RULES,
        day=DayTotals(
            DAY,
            trades=draw(st.sampled_from([0, 20, 49])),
            realized_pnl={
                "USDT": draw(st.sampled_from([D(-300), D(-50), D(0), D(100)])) + draw(CENTS)
            },
        ),
        fee_rate=fee_rate,
    )
    if side is Side.SELL:
        return Scenario(ctx, RiskLimits(), order, fee_in_base)
    worst = scenarios_after(ctx, order, fee_in_base)
    position_value = max(a.position for a in worst)
    total = max(a.total for a in worst)
    equity = max(min(a.equity for a in worst), CENT)
    tiny = D("1E-9")

    def limit(name: str, at: Decimal, delta: Decimal, floor: Decimal, roomy: Decimal) -> Decimal:
        return near(draw, at, delta, floor) if name in tight else roomy

    limits = RiskLimits(
        min_order_value=D(0),
        min_position_value=D(0),
        max_order_value=limit("order", value, CENT, CENT, D(2000)),
        max_position_value=limit("position", position_value, CENT, CENT, D(5000)),
        max_position_share=min(limit("share", position_value / equity, tiny, tiny, D(1)), D(1)),
        max_total_exposure=limit("total", total, CENT, CENT, D(20000)),
        max_long_exposure_share=min(limit("long", total / equity, tiny, tiny, D(1)), D(1)),
        daily_loss_limit=limit("loss", max(a.loss for a in worst), CENT, CENT, D(100000)),
        max_open_positions=int(
            limit("open", D(max(a.open_positions for a in worst)), D(1), D(0), D(3))
        ),
        max_trades_per_day=50,
    )
    return Scenario(ctx, limits, order, fee_in_base)


@settings(
    max_examples=1000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(scenarios())
def test_an_allowed_order_never_breaches_a_limit_after_it_fills(scenario: Scenario) -> None:
    ctx, limits, order = scenario.ctx, scenario.limits, scenario.order
    decision = evaluate(order, ctx, limits)
    if not decision.allowed:
        return
    assert decision.order == order  # already on the grid: rounding changed nothing
    if order.side is Side.SELL:
        position = ctx.positions.get(order.symbol)
        qty = order.qty if order.qty is not None else order.quote_qty / ctx.marks[order.symbol]
        assert position is not None and qty <= position.qty, "a sell opened a short"
        assert qty <= ctx.balances[RULES[order.symbol].base_asset].free
        return
    value = order.quote_qty or order.qty * fill_price(ctx, order)
    assert limits.min_order_value <= value <= limits.max_order_value
    assert ctx.day.trades + 1 <= limits.max_trades_per_day
    for after in scenarios_after(ctx, order, scenario.fee_in_base):
        assert after.cash >= 0, "spent more than the free balance"
        assert after.position <= limits.max_position_value
        assert after.position <= limits.max_position_share * after.equity
        assert after.total <= limits.max_total_exposure
        assert after.total <= limits.max_long_exposure_share * after.equity
        assert after.open_positions <= limits.max_open_positions
        assert after.loss <= limits.daily_loss_limit


def test_the_property_sees_allowed_buys_and_sells() -> None:
    """Guard against a generator whose orders are all refused (the property would be empty)."""
    seen: set[Side] = set()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(scenarios())
    def collect(scenario: Scenario) -> None:
        if evaluate(scenario.order, scenario.ctx, scenario.limits).allowed:
            seen.add(scenario.order.side)

    collect()
    assert seen == {Side.BUY, Side.SELL}
