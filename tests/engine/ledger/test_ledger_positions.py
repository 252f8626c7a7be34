"""The cost-basis method with exact Decimals: buys, sells, fees in every asset, oversells."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_fills import RULES, at, trade

from engine.core.events import PositionChanged, PositionOversold
from engine.core.position import Position
from engine.core.types import Side
from engine.ledger import Ledger
from engine.ledger.costbasis import dispose

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(RULES)


def test_buy_with_the_commission_in_the_base_asset(ledger: Ledger) -> None:
    fill = trade(BUY, "1", "100", "0.001", "BTC", t=5)
    events = ledger.apply_fill(fill)
    position = ledger.position("BTCUSDT")
    assert events == [PositionChanged(position, fill)] and position is not None
    assert (position.qty, position.cost_basis, position.fees_paid, position.realized_pnl) == (
        D("0.999"),
        D(100),
        D("0.1"),
        D(0),
    )
    assert position.avg_entry_price == D(100) / D("0.999")
    assert position.updated_at == at(5)


def test_buy_and_sell_with_quote_commissions(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "2", "100", "0.2", "USDT"))
    position = ledger.position("BTCUSDT")
    assert position is not None and (position.cost_basis, position.avg_entry_price) == (
        D("200.2"),
        D("100.1"),
    )
    ledger.apply_fill(trade(SELL, "1", "110", "0.11", "USDT"))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.qty, position.cost_basis, position.realized_pnl, position.fees_paid) == (
        D(1),
        D("100.1"),
        D("9.79"),
        D("0.31"),
    )
    assert position.unrealized_pnl(D(120)) == D("19.9")


def test_sell_with_the_commission_in_the_base_asset(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "2", "100"))
    ledger.apply_fill(trade(SELL, "1", "110", "0.001", "BTC"))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.qty, position.cost_basis, position.realized_pnl, position.fees_paid) == (
        D("0.999"),
        D("99.9"),
        D("9.9"),
        D("0.11"),
    )


def test_selling_everything_removes_the_whole_cost(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "3", "10.01"))
    ledger.apply_fill(trade(SELL, "1", "11"))
    ledger.apply_fill(trade(SELL, "2", "12"))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.qty, position.cost_basis, position.realized_pnl) == (D(0), D(0), D("4.97"))
    assert position.is_flat and position.avg_entry_price is None


def test_bnb_commission_is_charged_to_realized_pnl(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "100", "0.01", "BNB"), fee_price=D(300))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.qty, position.cost_basis, position.realized_pnl, position.fees_paid) == (
        D(1),
        D(100),
        D(-3),
        D(3),
    )
    ledger.apply_fill(trade(SELL, "1", "110", "0.01", "BNB"), fee_price=D(310))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.realized_pnl, position.fees_paid) == (D("3.9"), D("6.1"))


def test_bnb_commission_without_a_price_is_kept_unvalued(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "100", "0.01", "BNB"))
    ledger.apply_fill(trade(BUY, "1", "100", "0.02", "BNB"))
    ledger.apply_fill(trade(BUY, "1", "100", "0.5", "ETH"))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.realized_pnl, position.fees_paid) == (D(0), D(0))
    assert position.unvalued_fees == (("BNB", D("0.03")), ("ETH", D("0.5")))


def test_bnb_held_as_a_position_pays_the_commission(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "250", symbol="BNBUSDT"))
    fill = trade(BUY, "1", "100", "0.01", "BNB", t=7)
    events = ledger.apply_fill(fill, fee_price=D(300))
    bnb = ledger.position("BNBUSDT")
    btc = ledger.position("BTCUSDT")
    assert bnb is not None and btc is not None
    assert events == [PositionChanged(btc, fill), PositionChanged(bnb, fill)]
    # The BNB left at its market value: 0.01 x 300 = 3 against a cost of 2.5.
    assert (bnb.qty, bnb.cost_basis, bnb.realized_pnl, bnb.updated_at) == (
        D("0.99"),
        D("247.5"),
        D("0.5"),
        at(7),
    )
    assert btc.realized_pnl == D(-3)
    # Together: -2.5, what the BNB spent had cost.
    assert bnb.realized_pnl + btc.realized_pnl == D("-2.5")


def test_bnb_positions_in_another_quote_give_up_units_at_cost(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "0.005", "0.004", symbol="BNBBTC"))
    ledger.apply_fill(trade(BUY, "0.01", "250", symbol="BNBUSDT"))
    ledger.apply_fill(trade(BUY, "1", "100", "0.012", "BNB"), fee_price=D(300))
    usdt_bnb = ledger.position("BNBUSDT")
    btc_bnb = ledger.position("BNBBTC")
    assert usdt_bnb is not None and btc_bnb is not None
    assert (usdt_bnb.qty, usdt_bnb.cost_basis, usdt_bnb.realized_pnl) == (D(0), D(0), D("0.5"))
    assert (btc_bnb.qty, btc_bnb.cost_basis, btc_bnb.realized_pnl) == (
        D("0.003"),
        D("0.000012"),
        D(0),
    )


def test_bnb_commission_beyond_the_bnb_position_takes_what_is_there(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "0.004", "250", symbol="BNBUSDT"))
    ledger.apply_fill(trade(BUY, "1", "100", "0.01", "BNB"), fee_price=D(300))
    bnb = ledger.position("BNBUSDT")
    assert bnb is not None and (bnb.qty, bnb.cost_basis, bnb.realized_pnl) == (D(0), D(0), D("0.2"))
    assert bnb.oversold_qty == 0


def test_a_sell_beyond_the_position_clamps_at_zero_and_raises_an_alarm(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "100"))
    fill = trade(SELL, "1.5", "110", "0.165", "USDT")
    events = ledger.apply_fill(fill)
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert events == [PositionChanged(position, fill), PositionOversold(position, D("0.5"), fill)]
    assert events[1].is_alarm
    # Only the covered third of the proceeds is realized: (165 - 0.165) / 1.5 - 100.
    assert (position.qty, position.cost_basis, position.realized_pnl, position.oversold_qty) == (
        D(0),
        D(0),
        D("9.89"),
        D("0.5"),
    )


def test_a_sell_with_no_position_is_all_excess(ledger: Ledger) -> None:
    events = ledger.apply_fill(trade(SELL, "2", "100", "0.2", "USDT"))
    position = ledger.position("BTCUSDT")
    assert position is not None and isinstance(events[1], PositionOversold)
    assert (position.qty, position.realized_pnl, position.oversold_qty, position.fees_paid) == (
        D(0),
        D(0),
        D(2),
        D("0.2"),
    )


def test_units_of_unknown_cost(ledger: Ledger) -> None:
    ledger.restore(Position("BTCUSDT", "BTC", "USDT", qty=D(1), cost_basis=None, adopted=True))
    ledger.apply_fill(trade(BUY, "1", "100"))
    position = ledger.position("BTCUSDT")
    assert position is not None and (position.qty, position.cost_basis) == (D(2), None)
    ledger.apply_fill(trade(SELL, "0.5", "110"))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (
        position.qty,
        position.cost_basis,
        position.realized_pnl,
        position.realized_complete,
    ) == (
        D("1.5"),
        None,
        D(0),
        False,
    )
    ledger.apply_fill(trade(SELL, "1.5", "110"))
    ledger.apply_fill(trade(BUY, "1", "90"))
    position = ledger.position("BTCUSDT")
    assert position is not None and (position.qty, position.cost_basis) == (D(1), D(90))
    assert position.realized_complete is False


def test_bnb_position_of_unknown_cost_pays_a_commission(ledger: Ledger) -> None:
    ledger.restore(Position("BNBUSDT", "BNB", "USDT", qty=D(1), cost_basis=None, adopted=True))
    ledger.apply_fill(trade(BUY, "1", "100", "0.25", "BNB"), fee_price=D(300))
    bnb = ledger.position("BNBUSDT")
    assert bnb is not None
    assert (bnb.qty, bnb.cost_basis, bnb.realized_complete) == (D("0.75"), None, False)
    ledger.apply_fill(trade(BUY, "1", "100", "0.75", "BNB"), fee_price=D(300))
    bnb = ledger.position("BNBUSDT")
    assert bnb is not None and (bnb.qty, bnb.cost_basis) == (D(0), D(0))


def test_positions_are_listed_by_symbol_and_unknown_symbols_refused(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "100", symbol="ETHUSDT"))
    ledger.apply_fill(trade(BUY, "1", "100"))
    assert [p.symbol for p in ledger.positions()] == ["BTCUSDT", "ETHUSDT"]
    with pytest.raises(KeyError, match="no exchangeInfo rules for DOGEUSDT"):
        ledger.apply_fill(trade(BUY, "1", "1", symbol="DOGEUSDT"))


def test_the_first_bnb_position_that_covers_the_commission_pays_it_all(ledger: Ledger) -> None:
    ledger.apply_fill(trade(BUY, "1", "0.004", symbol="BNBBTC"))
    ledger.apply_fill(trade(BUY, "1", "250", symbol="BNBUSDT"))
    events = ledger.apply_fill(trade(BUY, "1", "100", "0.01", "BNB"), fee_price=D(300))
    assert [e.position.symbol for e in events if isinstance(e, PositionChanged)] == [
        "BTCUSDT",
        "BNBUSDT",
    ]
    btc_bnb = ledger.position("BNBBTC")
    assert btc_bnb is not None and btc_bnb.qty == D(1)


def test_disposing_of_nothing_changes_nothing() -> None:
    position = Position("BNBUSDT", "BNB", "USDT", qty=D(1), cost_basis=None)
    assert dispose(position, D(0), D(300)) == position
    assert dispose(Position("BNBUSDT", "BNB", "USDT"), D(1), D(300)) == Position(
        "BNBUSDT", "BNB", "USDT"
    )
