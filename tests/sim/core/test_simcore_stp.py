"""Self-trade prevention: what each mode expires when a taker meets its own resting order."""

from __future__ import annotations

import pytest
from simcore_helpers import Env


def setup_maker(env: Env) -> tuple[int, int]:
    """An account with a resting sell of 5 at 100.00 (inside the synthetic spread)."""
    alice = env.account(USDT="10000", SOL="10")
    maker = env.limit(alice, "SELL", "5", "100.00", selfTradePreventionMode="NONE")
    return alice, maker["orderId"]


def test_expire_maker_is_the_default(env: Env) -> None:
    alice, maker_id = setup_maker(env)
    recorder = env.record(alice)
    taker = env.limit(alice, "BUY", "5", "100.00")
    assert taker["selfTradePreventionMode"] == "EXPIRE_MAKER"
    assert (taker["status"], taker["fills"]) == ("NEW", [])  # nothing else at 100.00: it rests
    assert taker["preventedMatches"] == [
        {
            "preventedMatchId": 0,
            "makerOrderId": maker_id,
            "price": "100.00000000",
            "makerPreventedQuantity": "5.00000000",
        }
    ]
    maker = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(maker_id)})
    assert (maker["status"], maker["preventedMatchId"], maker["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH",
        0,
        "5.00000000",
    )
    report = recorder.reports(maker_id)[0]
    assert (report["x"], report["X"], report["v"], report["A"], report["B"], report["U"]) == (
        "TRADE_PREVENTION",
        "EXPIRED_IN_MATCH",
        0,
        "5.00000000",
        "5.00000000",
        taker["orderId"],
    )
    assert env.balance(alice, "SOL") == ("10.00000000", "0.00000000")
    env.conserved()


@pytest.mark.parametrize(
    ("mode", "taker_status", "maker_status", "taker_prevented", "maker_prevented"),
    [
        ("EXPIRE_TAKER", "EXPIRED_IN_MATCH", "NEW", "5.00000000", None),
        ("EXPIRE_BOTH", "EXPIRED_IN_MATCH", "EXPIRED_IN_MATCH", "5.00000000", "5.00000000"),
        ("DECREMENT", "EXPIRED_IN_MATCH", "NEW", "2.00000000", "2.00000000"),
    ],
)
def test_other_modes(
    env: Env,
    mode: str,
    taker_status: str,
    maker_status: str,
    taker_prevented: str,
    maker_prevented: str | None,
) -> None:
    alice, maker_id = setup_maker(env)
    qty = "2" if mode == "DECREMENT" else "5"
    taker = env.limit(alice, "BUY", qty, "100.00", selfTradePreventionMode=mode)
    assert taker["status"] == taker_status
    assert taker["preventedQuantity"] == taker_prevented
    maker = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(maker_id)})
    assert maker["status"] == maker_status
    assert maker.get("preventedQuantity") == maker_prevented
    if mode == "DECREMENT":
        # the maker can still sell 3, and only 3 stay locked
        assert env.balance(alice, "SOL") == ("7.00000000", "3.00000000")
    assert env.balance(alice, "USDT") == ("10000.00000000", "0.00000000")
    env.conserved()


def test_none_lets_the_account_trade_with_itself(env: Env) -> None:
    alice, maker_id = setup_maker(env)
    taker = env.limit(alice, "BUY", "5", "100.00", selfTradePreventionMode="NONE")
    assert taker["status"] == "FILLED"
    trades = env.ex.my_trades(alice, {"symbol": "SOLUSDT"})
    assert [(t["orderId"], t["isBuyer"], t["isMaker"], t["commission"]) for t in trades] == [
        (maker_id, False, True, "0.50000000"),
        (taker["orderId"], True, False, "0.00500000"),
    ]
    assert env.balance(alice, "SOL") == ("9.99500000", "0.00000000")
    assert env.balance(alice, "USDT") == ("9999.50000000", "0.00000000")
    env.conserved()


def test_market_taker_skips_its_own_order_and_takes_the_synthetic_book(env: Env) -> None:
    alice, maker_id = setup_maker(env)
    taker = env.market(alice, "BUY", "1")
    assert [f["price"] for f in taker["fills"]] == ["100.01000000"]
    assert env.status(alice, maker_id) == "EXPIRED_IN_MATCH"
