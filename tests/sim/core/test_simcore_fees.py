"""Commissions: base on buys, quote on sells, BNB at the discounted rate when enabled and held."""

from __future__ import annotations

from simcore_helpers import Env


def test_bnb_burn_pays_commission_in_bnb_at_the_bnb_price(env: Env) -> None:
    alice = env.account(USDT="10000", BNB="1")
    env.ex.set_bnb_burn(alice, True)
    response = env.market(alice, "BUY", "9.999")
    # 999.99999 USDT * 0.075% / 500 USDT per BNB = 0.0014999999850, rounded up
    assert response["fills"][0]["commission"] == "0.00150000"
    assert response["fills"][0]["commissionAsset"] == "BNB"
    assert env.balance(alice, "SOL") == ("9.99900000", "0.00000000")
    assert env.balance(alice, "BNB") == ("0.99850000", "0.00000000")
    assert env.balance(alice, "USDT") == ("9000.00001000", "0.00000000")
    sell = env.market(alice, "SELL", "5")
    assert sell["fills"][0]["commissionAsset"] == "BNB"
    # + 499.95 * 0.075% / 500 = 0.000749925, rounded up
    assert env.ex.oracle()["fees"] == {"BNB": "0.00224993"}
    env.conserved()


def test_without_enough_bnb_the_commission_falls_back_to_the_received_asset(env: Env) -> None:
    alice = env.account(USDT="10000", BNB="0.001")
    env.ex.set_bnb_burn(alice, True)
    response = env.market(alice, "BUY", "9.999")
    assert (response["fills"][0]["commission"], response["fills"][0]["commissionAsset"]) == (
        "0.00999900",
        "SOL",
    )
    assert env.balance(alice, "BNB") == ("0.00100000", "0.00000000")
    env.conserved()


def test_buying_bnb_with_bnb_burn_can_pay_from_what_it_bought(env: Env) -> None:
    alice = env.account(USDT="10000")
    env.ex.set_bnb_burn(alice, True)
    response = env.ex.new_order(
        alice, {"symbol": "BNBUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
    )
    fill = response["fills"][0]
    assert (fill["price"], fill["commission"], fill["commissionAsset"]) == (
        "500.01000000",
        "0.00075002",  # 500.01 * 0.075% / 500, rounded up
        "BNB",
    )
    assert env.balance(alice, "BNB") == ("0.99924998", "0.00000000")
    env.conserved()


def test_fee_rate_is_configurable_and_commission_rounds_up_to_8_decimals(env: Env) -> None:
    env.ex.configure({"fee_rate": "0.00075"})
    alice = env.account(SOL="1")
    response = env.market(alice, "SELL", "0.123")
    # 0.123 * 99.99 = 12.29877; * 0.00075 = 0.0092240775 -> 0.00922408
    assert response["fills"][0]["commission"] == "0.00922408"
    assert env.balance(alice, "USDT") == ("12.28954592", "0.00000000")
    assert env.ex.account(alice, {})["commissionRates"]["taker"] == "0.00075000"
    env.conserved()
