"""Ledger properties over random fills: quantity is conserved exactly, never negative, and
realized plus unrealized PnL equals the cash-flow PnL at the mark, to the last digit.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_fills import RULES, trade

from engine.core.types import Side
from engine.ledger import Ledger

ZERO = Decimal(0)
PRICES = st.integers(1, 10**9).map(lambda n: Decimal(n).scaleb(-2))  # 0.01 .. 10,000,000.00
QTYS = st.integers(1, 10**10).map(lambda n: Decimal(n).scaleb(-8))  # 0.00000001 .. 100
FEE_RATES = st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.00075")])
FEE_ASSETS = st.sampled_from(["BTC", "USDT", "BNB", None])
FRACTIONS = st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("0.3333"), Decimal("0.01")])


def _quantum(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.00000001"), rounding="ROUND_FLOOR")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), steps=st.integers(1, 25), mark=PRICES)
def test_quantity_is_conserved_and_pnl_matches_cash_flows(
    data: st.DataObject, steps: int, mark: Decimal
) -> None:
    ledger = Ledger(RULES)
    expected_qty = ZERO
    cash = ZERO  # quote paid and received, every fee valued as the ledger values it
    for _ in range(steps):
        position = ledger.position("BTCUSDT")
        held = ZERO if position is None else position.qty
        price = data.draw(PRICES)
        rate = data.draw(FEE_RATES)
        asset = data.draw(FEE_ASSETS)
        bnb_price = data.draw(PRICES)
        side = data.draw(st.sampled_from([Side.BUY, Side.SELL])) if held > 0 else Side.BUY
        if side is Side.BUY:
            qty = data.draw(QTYS)
        else:
            # Never more than held, commission included.
            qty = _quantum(held * data.draw(FRACTIONS) / (1 + rate))
            if qty == 0:
                continue
        commission = _quantum(qty * rate) if asset != "USDT" else _quantum(qty * price * rate)
        ledger.apply_fill(trade(side, qty, price, commission, asset), fee_price=bnb_price)
        base_fee = commission if asset == "BTC" else ZERO
        quote_fee = commission if asset == "USDT" else ZERO
        bnb_value = commission * bnb_price if asset == "BNB" else ZERO
        if side is Side.BUY:
            expected_qty += qty - base_fee
            cash -= qty * price + quote_fee + bnb_value
        else:
            expected_qty -= qty + base_fee
            cash += qty * price - quote_fee - bnb_value
        position = ledger.position("BTCUSDT")
        assert position is not None
        assert position.qty == expected_qty
        assert position.qty >= 0 and position.oversold_qty == 0
        unrealized = position.unrealized_pnl(mark)
        assert unrealized is not None
        assert position.realized_pnl + unrealized == cash + position.qty * mark


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    fills=st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), QTYS, PRICES, FEE_ASSETS), max_size=20
    )
)
def test_sells_never_take_a_position_below_zero(
    fills: list[tuple[Side, Decimal, Decimal, str | None]],
) -> None:
    ledger = Ledger(RULES)
    model_qty = ZERO
    excess = ZERO
    for side, qty, price, asset in fills:
        commission = _quantum(qty * Decimal("0.001")) if asset == "BTC" else ZERO
        ledger.apply_fill(trade(side, qty, price, commission, asset))
        if side is Side.BUY:
            model_qty += qty - commission
        else:
            leaving = qty + commission
            excess += max(leaving - model_qty, ZERO)
            model_qty = max(model_qty - leaving, ZERO)
        position = ledger.position("BTCUSDT")
        assert position is not None
        assert position.qty == model_qty >= 0
        assert position.oversold_qty == excess
        assert position.cost_basis is not None and position.cost_basis >= 0
        if position.qty == 0:
            assert position.cost_basis == 0
