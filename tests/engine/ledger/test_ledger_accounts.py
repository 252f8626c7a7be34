"""Balances from the venue, sellable quantity, and adoption of holdings that predate the desk."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_fills import RULES, at, balance, rules, trade

from engine.core.events import BalanceChanged, PositionChanged
from engine.core.position import Position
from engine.core.reports import BalanceReport
from engine.core.types import Side
from engine.ledger import Ledger

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(RULES)


# -- balances -------------------------------------------------------------------------------------


def test_stream_updates_replace_absolute_values(ledger: Ledger) -> None:
    first = balance("BTC", "1.5", "0.5", t=10)
    assert ledger.apply_balances([first]) == [BalanceChanged(first, None)]
    second = balance("BTC", "1.2", "0.8", t=20)
    assert ledger.apply_balances([second]) == [BalanceChanged(second, first)]
    assert ledger.balances.get("BTC") == second
    assert (ledger.balances.free("BTC"), ledger.balances.total("BTC")) == (D("1.2"), D(2))
    assert (ledger.balances.free("ETH"), ledger.balances.total("ETH")) == (0, 0)


def test_a_stale_report_is_ignored(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "2", t=20)])
    assert ledger.apply_balances([balance("BTC", "1", t=10)]) == []
    assert ledger.balances.free("BTC") == D(2)


def test_an_unchanged_report_raises_no_event(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "2", t=20)])
    assert ledger.apply_balances([balance("BTC", "2.00000000", t=30)]) == []
    current = ledger.balances.get("BTC")
    assert current is not None and current.time == at(30)


def test_a_snapshot_zeroes_assets_it_does_not_list(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "2", t=10), balance("ETH", "5", t=10)])
    ledger.apply_balances([balance("BNB", "1", t=50)])  # newer than the snapshot below
    events = ledger.apply_account_snapshot([balance("USDT", "100", t=30)], at(30))
    assert [(e.balance.asset, e.balance.free) for e in events if isinstance(e, BalanceChanged)] == [
        ("USDT", D(100)),
        ("BTC", D(0)),
        ("ETH", D(0)),
    ]
    assert [b.asset for b in ledger.balances] == ["BNB", "BTC", "ETH", "USDT"]
    assert ledger.balances.free("BNB") == D(1)


# -- sellable quantity ---------------------------------------------------------------------------


def test_sellable_is_the_free_balance_floored_to_the_step(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "0.123456789", "5")])
    assert ledger.sellable_qty("BTCUSDT", D(60000)) == D("0.12345")
    assert ledger.sellable_qty("BTCUSDT", D(60000), market=False) == D("0.12345")


def test_sellable_is_zero_below_min_notional_or_min_qty(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "0.00008")])
    assert ledger.sellable_qty("BTCUSDT", D(60000)) == 0  # 4.8 USDT < 5
    assert ledger.sellable_qty("BTCUSDT", D(62500)) == D("0.00008")  # exactly 5 USDT
    ledger.apply_balances([balance("BTC", "0.000009", t=1)])
    assert ledger.sellable_qty("BTCUSDT", D(60000000)) == 0  # floors to zero
    ledger.apply_balances([balance("ETH", "0.009")])
    # 0.009 passes LOT_SIZE (min 0.001) but not MARKET_LOT_SIZE (min 0.01).
    assert ledger.sellable_qty("ETHUSDT", D(3000), market=False) == D("0.009")
    assert ledger.sellable_qty("ETHUSDT", D(3000)) == 0


def test_rules_can_change_at_runtime(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "0.123456789")])
    ledger.update_rules(rules("BTCUSDT", "BTC", "USDT", min_qty="0.001", step="0.001"))
    assert ledger.sellable_qty("BTCUSDT", D(60000)) == D("0.123")
    assert ledger.rules("BTCUSDT").lot_size is not None


# -- adoption -------------------------------------------------------------------------------------


def test_history_that_explains_the_holding_gives_the_entry(ledger: Ledger) -> None:
    history = [
        trade(BUY, "1", "80"),
        trade(SELL, "1", "110"),
        trade(BUY, "2", "90", "0.18", "USDT"),
        trade(BUY, "1", "120", "0.001", "BNB"),
        trade(BUY, "7", "1", symbol="ETHUSDT"),
    ]
    ledger.apply_balances([balance("BTC", "2.5", "0.5")])
    events = ledger.adopt("BTCUSDT", history, at(99))
    position = ledger.position("BTCUSDT")
    assert events == [PositionChanged(position)]
    assert position == Position(
        "BTCUSDT", "BTC", "USDT", qty=D(3), cost_basis=D("300.18"), adopted=True, updated_at=at(99)
    )
    assert position.avg_entry_price == D("100.06")


def test_a_recent_run_explains_the_holding_when_older_history_does_not(ledger: Ledger) -> None:
    history = [trade(BUY, "1", "50"), trade(BUY, "2", "90", "0.002", "BTC")]
    ledger.apply_balances([balance("BTC", "1.998")])
    ledger.adopt("BTCUSDT", history, at(0))
    position = ledger.position("BTCUSDT")
    assert position is not None and (position.qty, position.cost_basis) == (D("1.998"), D(180))


def test_a_deposit_leaves_the_entry_unknown(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "5")])
    ledger.adopt("BTCUSDT", [trade(BUY, "3", "100")], at(0))
    position = ledger.position("BTCUSDT")
    assert position is not None
    assert (position.qty, position.cost_basis, position.adopted) == (D(5), None, True)
    assert position.unrealized_pnl(D(100)) is None


def test_a_run_that_sells_what_it_never_bought_does_not_explain(ledger: Ledger) -> None:
    ledger.apply_balances([balance("BTC", "1")])
    ledger.adopt("BTCUSDT", [trade(SELL, "2", "100"), trade(BUY, "3", "90")], at(0))
    position = ledger.position("BTCUSDT")
    assert position is not None and (position.qty, position.cost_basis) == (D(1), None)


def test_adoption_needs_a_holding_and_no_open_position(ledger: Ledger) -> None:
    assert ledger.adopt("BTCUSDT", [], at(0)) == []
    ledger.apply_fill(trade(BUY, "1", "100"))
    ledger.apply_balances([balance("BTC", "3")])
    assert ledger.adopt("BTCUSDT", [], at(0)) == []
    ledger.apply_fill(trade(SELL, "1", "100"))
    assert len(ledger.adopt("BTCUSDT", [], at(0))) == 1


def test_balance_report_total_includes_locked() -> None:
    assert BalanceReport("BTC", D(1), D(2), at(0)).total == D(3)


def test_a_holding_shared_by_two_symbols_is_adopted_once() -> None:
    ledger = Ledger({**RULES, "BNBFDUSD": rules("BNBFDUSD", "BNB", "FDUSD")})
    ledger.apply_balances([balance("BNB", "4", "1")])
    first = ledger.adopt("BNBUSDT", [], at(0))
    assert [event.position.qty for event in first] == [D(5)]  # type: ignore[attr-defined]
    assert ledger.adopt("BNBFDUSD", [], at(1)) == []
    assert ledger.position("BNBFDUSD") is None


def test_only_the_units_no_position_holds_are_adopted() -> None:
    ledger = Ledger({**RULES, "BNBFDUSD": rules("BNBFDUSD", "BNB", "FDUSD")})
    ledger.apply_fill(trade(BUY, "2", "600", symbol="BNBUSDT"))
    ledger.apply_balances([balance("BNB", "3.5")])
    ledger.adopt("BNBFDUSD", [], at(5))
    assert ledger.position("BNBFDUSD") == Position(
        "BNBFDUSD", "BNB", "FDUSD", qty=D("1.5"), cost_basis=None, adopted=True, updated_at=at(5)
    )
    assert ledger.adopt("BNBUSDT", [], at(6)) == []  # its position is open: left alone
