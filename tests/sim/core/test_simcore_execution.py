"""Order types and times in force against the synthetic book, with exact fills and balances."""

from __future__ import annotations

from decimal import Decimal as D

from simcore_helpers import Env


def test_market_buy_walks_the_book_and_pays_commission_in_base(env: Env) -> None:
    alice = env.account(USDT="100000")
    response = env.market(alice, "BUY", "20")
    assert response["status"] == "FILLED"
    assert response["executedQty"] == "20.00000000"
    assert response["cummulativeQuoteQty"] == "2000.30001000"  # 9.999*100.01 + 10.001*100.02
    assert response["fills"] == [
        {
            "price": "100.01000000",
            "qty": "9.99900000",
            "commission": "0.00999900",
            "commissionAsset": "SOL",
            "tradeId": 1,
        },
        {
            "price": "100.02000000",
            "qty": "10.00100000",
            "commission": "0.01000100",
            "commissionAsset": "SOL",
            "tradeId": 2,
        },
    ]
    assert env.balance(alice, "SOL") == ("19.98000000", "0.00000000")
    assert env.balance(alice, "USDT") == ("97999.69999000", "0.00000000")
    env.conserved()


def test_market_sell_pays_commission_in_quote(env: Env) -> None:
    alice = env.account(SOL="20")
    response = env.market(alice, "SELL", "12")
    assert [(f["price"], f["qty"], f["commission"]) for f in response["fills"]] == [
        ("99.99000000", "10.00100000", "0.99999999"),
        ("99.98000000", "1.99900000", "0.19986002"),
    ]
    # 10.001*99.99 + 1.999*99.98 = 1199.86001, less 0.1% commission
    assert env.balance(alice, "USDT") == ("1198.66014999", "0.00000000")
    assert env.balance(alice, "SOL") == ("8.00000000", "0.00000000")
    env.conserved()


def test_market_order_that_exhausts_the_book_expires_with_what_it_got(env: Env) -> None:
    alice = env.account(USDT="100000")
    recorder = env.record(alice)
    response = env.market(alice, "BUY", "50")
    assert response["status"] == "EXPIRED"
    assert response["executedQty"] == "44.99000000"
    assert response["cummulativeQuoteQty"] == "4499.99975000"
    assert response["expiryReason"] == "INSUFFICIENT_LIQUIDITY"
    assert [(r["x"], r["X"]) for r in recorder.reports()] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("EXPIRED", "EXPIRED"),
    ]
    assert recorder.reports()[-1]["eR"] == "INSUFFICIENT_LIQUIDITY"
    # the book stays used up until the market moves
    assert env.ex.book_ticker({"symbol": "SOLUSDT"})["askPrice"] == "0.00000000"
    env.ex.step_market()
    assert env.ex.book_ticker({"symbol": "SOLUSDT"})["askPrice"] == "100.01000000"


def test_market_buy_by_quote_quantity_spends_at_most_that(env: Env) -> None:
    alice = env.account(USDT="2000")
    response = env.order(alice, side="BUY", type="MARKET", quoteOrderQty="1500")
    assert response["status"] == "FILLED"
    assert response["origQty"] == "14.99800000"  # 9.999 + floor(500.00001 / 100.02, 0.001)
    assert response["executedQty"] == "14.99800000"
    assert response["origQuoteOrderQty"] == "1500.00000000"
    assert response["cummulativeQuoteQty"] == "1499.99997000"
    assert env.balance(alice, "USDT") == ("500.00003000", "0.00000000")


def test_market_sell_by_quote_quantity_receives_at_most_that(env: Env) -> None:
    alice = env.account(SOL="100")
    response = env.order(alice, side="SELL", type="MARKET", quoteOrderQty="500")
    assert response["executedQty"] == "5.00000000"  # floor(500 / 99.99, 0.001)
    assert response["cummulativeQuoteQty"] == "499.95000000"


def test_limit_gtc_fills_what_crosses_and_rests_the_remainder_with_exact_locks(env: Env) -> None:
    alice = env.account(USDT="100000")
    response = env.limit(alice, "BUY", "30", "100.02")
    assert response["status"] == "PARTIALLY_FILLED"
    assert response["executedQty"] == "24.99600000"
    # locked 100.02 * 30, the first fill at 100.01 gave 0.09999 back, 5.004 still rest
    assert env.balance(alice, "USDT") == ("96999.49999000", "500.50008000")
    book = env.ex.book_ticker({"symbol": "SOLUSDT"})
    assert (book["bidPrice"], book["bidQty"]) == ("100.02000000", "5.00400000")
    assert (book["askPrice"], book["askQty"]) == ("100.03000000", "19.99400000")
    env.ex.step_market()  # fresh synthetic liquidity at 100.01 crosses the resting bid
    order = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(response["orderId"])})
    assert order["status"] == "FILLED"
    assert order["cummulativeQuoteQty"] == "3000.50001000"
    trades = env.ex.my_trades(alice, {"symbol": "SOLUSDT"})
    assert [(t["price"], t["qty"], t["isMaker"]) for t in trades] == [
        ("100.01000000", "9.99900000", False),
        ("100.02000000", "14.99700000", False),
        ("100.02000000", "5.00400000", True),
    ]
    assert env.balance(alice, "USDT") == ("96999.49999000", "0.00000000")
    env.conserved()


def test_limit_ioc_expires_its_remainder(env: Env) -> None:
    alice = env.account(USDT="100000")
    response = env.limit(alice, "BUY", "12", "100.01", timeInForce="IOC")
    assert (response["status"], response["executedQty"]) == ("EXPIRED", "9.99900000")
    assert response["expiryReason"] == "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert env.balance(alice, "USDT") == ("99000.00001000", "0.00000000")


def test_limit_fok_is_all_or_nothing(env: Env) -> None:
    alice = env.account(USDT="100000")
    recorder = env.record(alice)
    response = env.limit(alice, "BUY", "12", "100.01", timeInForce="FOK")
    assert (response["status"], response["executedQty"], response["fills"]) == (
        "EXPIRED",
        "0.00000000",
        [],
    )
    assert response["expiryReason"] == "UNFILLED_FOK_ORDER_EXPIRED"
    assert [(r["x"], r.get("eR")) for r in recorder.reports()] == [
        ("NEW", None),
        ("EXPIRED", "UNFILLED_FOK_ORDER_EXPIRED"),
    ]
    assert env.balance(alice, "USDT") == ("100000.00000000", "0.00000000")
    filled = env.limit(alice, "BUY", "12", "100.02", timeInForce="FOK")
    assert (filled["status"], filled["executedQty"]) == ("FILLED", "12.00000000")


def test_limit_maker_rests_or_is_rejected_when_it_would_take(env: Env, expect_error) -> None:
    alice = env.account(USDT="1000")
    expect_error(
        -2010,
        "Order would immediately match and take.",
        lambda: env.order(alice, side="BUY", type="LIMIT_MAKER", quantity="1", price="100.01"),
    )
    response = env.order(
        alice, side="BUY", type="LIMIT_MAKER", quantity="1", price="100.00",
        newOrderRespType="RESULT",
    )  # fmt: skip
    assert response["status"] == "NEW"
    assert response["timeInForce"] == "GTC"
    assert "fills" not in response
    assert env.balance(alice, "USDT") == ("900.00000000", "100.00000000")


def test_resting_orders_fill_as_makers_when_the_market_moves_through_them(env: Env) -> None:
    alice = env.account(SOL="10")
    sell = env.limit(alice, "SELL", "5", "101.00")
    assert sell["status"] == "NEW"
    assert env.balance(alice, "SOL") == ("5.00000000", "5.00000000")
    env.ex.set_price("SOLUSDT", D("101.50"))
    order = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(sell["orderId"])})
    assert (order["status"], order["cummulativeQuoteQty"]) == ("FILLED", "505.00000000")
    assert env.balance(alice, "USDT") == ("504.49500000", "0.00000000")
    # the last price is the market's, not the resting order's
    assert env.ex.ticker_price({"symbol": "SOLUSDT"}) == {
        "symbol": "SOLUSDT",
        "price": "101.50000000",
    }
    env.conserved()


def test_orders_of_two_accounts_trade_with_each_other_first_at_equal_price(env: Env) -> None:
    alice = env.account(SOL="10")
    bob = env.account(USDT="1000")
    sell = env.limit(alice, "SELL", "2", "100.01")  # joins the synthetic best ask
    buy = env.market(bob, "BUY", "3")
    assert [(f["price"], f["qty"]) for f in buy["fills"]] == [
        ("100.01000000", "2.00000000"),
        ("100.01000000", "1.00000000"),
    ]
    assert env.status(alice, sell["orderId"]) == "FILLED"
    alice_trade = env.ex.my_trades(alice, {"symbol": "SOLUSDT"})[0]
    bob_trade = env.ex.my_trades(bob, {"symbol": "SOLUSDT"})[0]
    assert alice_trade["id"] == bob_trade["id"] == 1
    assert (alice_trade["isBuyer"], alice_trade["isMaker"]) == (False, True)
    assert (bob_trade["isBuyer"], bob_trade["isMaker"]) == (True, False)
    env.conserved()


def test_response_types(env: Env) -> None:
    alice = env.account(USDT="1000")
    ack = env.limit(alice, "BUY", "1", "99.00", newOrderRespType="ACK")
    assert ack == {
        "symbol": "SOLUSDT",
        "orderId": 1,
        "orderListId": -1,
        "clientOrderId": ack["clientOrderId"],
        "transactTime": env.clock.now_ms(),
    }
    assert len(ack["clientOrderId"]) == 22 and ack["clientOrderId"].isalnum()
    result = env.limit(alice, "BUY", "1", "99.00", newOrderRespType="RESULT")
    assert result == {
        "symbol": "SOLUSDT",
        "orderId": 2,
        "orderListId": -1,
        "clientOrderId": result["clientOrderId"],
        "transactTime": env.clock.now_ms(),
        "price": "99.00000000",
        "origQty": "1.00000000",
        "executedQty": "0.00000000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "workingTime": env.clock.now_ms(),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    full = env.limit(alice, "BUY", "1", "99.00")
    assert full["fills"] == []
    stop = env.order(alice, side="BUY", type="STOP_LOSS", quantity="1", stopPrice="101")
    assert set(stop) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}


def test_test_orders_validate_but_neither_check_balance_nor_place(env: Env, expect_error) -> None:
    broke = env.account()
    params = {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    assert env.ex.new_order(broke, {**params, "quantity": "1", "price": "99"}, test=True) == {}
    expect_error(
        -1013,
        "Filter failure: NOTIONAL",
        lambda: env.ex.new_order(broke, {**params, "quantity": "0.01", "price": "99"}, test=True),
    )
    assert env.ex.open_orders(broke, {}) == []


def test_iceberg_quantity_is_checked_and_echoed(env: Env, expect_error) -> None:
    alice = env.account(USDT="1000")
    expect_error(
        -1013,
        "Filter failure: ICEBERG_PARTS",
        lambda: env.limit(alice, "BUY", "5", "99", icebergQty="0.1"),
    )
    placed = env.limit(alice, "BUY", "5", "99", icebergQty="1", newOrderRespType="RESULT")
    assert placed["icebergQty"] == "1.00000000"
    query = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(placed["orderId"])})
    assert query["icebergQty"] == "1.00000000"
