"""Cancelling: single orders, restrictions, all open orders, and cancel-replace."""

from __future__ import annotations

from simcore_helpers import Env, raises

Q = {"symbol": "SOLUSDT"}


def test_cancel_by_order_id_or_client_id_and_the_cancel_ids(env: Env) -> None:
    alice = env.account(USDT="1000")
    placed = env.limit(alice, "BUY", "2", "99", newClientOrderId="orig-1")
    recorder = env.record(alice)
    env.clock.advance(10)
    response = env.ex.cancel_order(
        alice, {**Q, "origClientOrderId": "orig-1", "newClientOrderId": "cancel-1"}
    )
    assert response == {
        "symbol": "SOLUSDT",
        "origClientOrderId": "orig-1",
        "orderId": placed["orderId"],
        "orderListId": -1,
        "clientOrderId": "cancel-1",
        "transactTime": env.clock.now_ms(),
        "price": "99.00000000",
        "origQty": "2.00000000",
        "executedQty": "0.00000000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000",
        "status": "CANCELED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    report = recorder.reports()[0]
    assert (report["x"], report["X"], report["c"], report["C"]) == (
        "CANCELED",
        "CANCELED",
        "cancel-1",
        "orig-1",
    )
    assert recorder.user[-1]["B"] == [{"a": "USDT", "f": "1000.00000000", "l": "0.00000000"}]
    query = env.ex.get_order(alice, {**Q, "orderId": str(placed["orderId"])})
    assert (query["clientOrderId"], query["updateTime"]) == ("orig-1", env.clock.now_ms())


def test_cancel_errors(env: Env) -> None:
    alice = env.account(USDT="100000")
    raises(
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        lambda: env.ex.cancel_order(alice, Q),
    )
    raises(-2011, "Unknown order sent.", lambda: env.ex.cancel_order(alice, {**Q, "orderId": "7"}))
    filled = env.market(alice, "BUY", "1")
    raises(
        -2011,
        "Unknown order sent.",
        lambda: env.ex.cancel_order(alice, {**Q, "orderId": str(filled["orderId"])}),
    )
    resting = env.limit(alice, "BUY", "1", "99", newClientOrderId="a")
    raises(
        -2011,
        "Unknown order sent.",
        lambda: env.ex.cancel_order(
            alice, {**Q, "orderId": str(resting["orderId"]), "origClientOrderId": "b"}
        ),
    )
    bob = env.account()
    raises(
        -2011,
        "Unknown order sent.",
        lambda: env.ex.cancel_order(bob, {**Q, "orderId": str(resting["orderId"])}),
    )
    raises(
        -1145,
        "Invalid cancelRestrictions",
        lambda: env.ex.cancel_order(alice, {**Q, "orderId": "2", "cancelRestrictions": "NEVER"}),
    )


def test_cancel_restrictions(env: Env) -> None:
    alice = env.account(USDT="100000")
    partial = env.limit(alice, "BUY", "12", "100.01")  # 9.999 fill, the rest rests
    fresh = env.limit(alice, "BUY", "1", "99")
    restricted = "Order was not canceled due to cancel restrictions."
    raises(
        -2011,
        restricted,
        lambda: env.ex.cancel_order(
            alice, {**Q, "orderId": str(partial["orderId"]), "cancelRestrictions": "ONLY_NEW"}
        ),
    )
    raises(
        -2011,
        restricted,
        lambda: env.ex.cancel_order(
            alice,
            {**Q, "orderId": str(fresh["orderId"]), "cancelRestrictions": "ONLY_PARTIALLY_FILLED"},
        ),
    )
    done = env.ex.cancel_order(
        alice,
        {**Q, "orderId": str(partial["orderId"]), "cancelRestrictions": "ONLY_PARTIALLY_FILLED"},
    )
    assert (done["status"], done["executedQty"]) == ("CANCELED", "9.99900000")
    assert env.balance(alice, "USDT")[1] == "99.00000000"  # only the fresh order's lock left


def test_cancel_open_orders_cancels_orders_and_lists(env: Env) -> None:
    alice = env.account(USDT="1000", SOL="10")
    raises(-2011, "Unknown order sent.", lambda: env.ex.cancel_open_orders(alice, Q))
    env.limit(alice, "BUY", "1", "99")
    env.ex.new_oco(
        alice,
        {**Q, "side": "SELL", "quantity": "2", "aboveType": "LIMIT_MAKER", "abovePrice": "101",
         "belowType": "STOP_LOSS", "belowStopPrice": "99"},
    )  # fmt: skip
    env.ex.new_order(
        alice,
        {"symbol": "BNBUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "1", "price": "400"},
    )  # fmt: skip
    response = env.ex.cancel_open_orders(alice, {**Q, "newClientOrderId": "all"})
    assert [r.get("orderId", r.get("orderListId")) for r in response] == [1, 1]
    assert response[0]["status"] == "CANCELED"
    assert response[1]["contingencyType"] == "OCO"
    assert {r["clientOrderId"] for r in response[1]["orderReports"]} == {"all"}
    assert [o["symbol"] for o in env.ex.open_orders(alice, {})] == ["BNBUSDT"]
    assert env.balance(alice, "SOL") == ("10.00000000", "0.00000000")


def test_cancel_replace_success(env: Env) -> None:
    alice = env.account(USDT="1000")
    old = env.limit(alice, "BUY", "2", "99", newClientOrderId="old")
    response = env.ex.cancel_replace(
        alice,
        {**Q, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrigClientOrderId": "old",
         "cancelNewClientOrderId": "cxl", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "3", "price": "99.50", "newClientOrderId": "new"},
    )  # fmt: skip
    assert (response["cancelResult"], response["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    cancel = response["cancelResponse"]
    assert (cancel["orderId"], cancel["clientOrderId"], cancel["origClientOrderId"]) == (
        old["orderId"],
        "cxl",
        "old",
    )
    new = response["newOrderResponse"]
    assert (new["clientOrderId"], new["status"], new["fills"]) == ("new", "NEW", [])
    assert env.balance(alice, "USDT") == ("701.50000000", "298.50000000")


def test_cancel_replace_stop_on_failure_does_not_place(env: Env) -> None:
    alice = env.account(USDT="1000")
    error = raises(
        -2022,
        "Order cancel-replace failed.",
        lambda: env.ex.cancel_replace(
            alice,
            {**Q, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": "42", "side": "BUY",
             "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "99"},
        ),
    )  # fmt: skip
    assert error.http_status == 400
    assert error.body() == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    assert env.ex.open_orders(alice, Q) == []


def test_cancel_replace_allow_failure_places_anyway(env: Env) -> None:
    alice = env.account(USDT="1000")
    error = raises(
        -2021,
        "Order cancel-replace partially failed.",
        lambda: env.ex.cancel_replace(
            alice,
            {**Q, "cancelReplaceMode": "ALLOW_FAILURE", "cancelOrderId": "42", "side": "BUY",
             "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "99",
             "newOrderRespType": "ACK"},
        ),
    )  # fmt: skip
    assert error.http_status == 409
    data = error.extra["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert set(data["newOrderResponse"]) == {
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    }
    assert len(env.ex.open_orders(alice, Q)) == 1


def test_cancel_replace_cancel_succeeds_new_order_fails(env: Env) -> None:
    alice = env.account(USDT="1000")
    old = env.limit(alice, "BUY", "1", "99")
    error = raises(
        -2021,
        "Order cancel-replace partially failed.",
        lambda: env.ex.cancel_replace(
            alice,
            {**Q, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": str(old["orderId"]),
             "side": "BUY", "type": "LIMIT_MAKER", "quantity": "1", "price": "100.01"},
        ),
    )  # fmt: skip
    data = error.extra["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"] == {
        "code": -2010,
        "msg": "Order would immediately match and take.",
    }
    assert env.balance(alice, "USDT") == ("1000.00000000", "0.00000000")


def test_cancel_replace_both_fail_and_filters_come_first(env: Env) -> None:
    alice = env.account(USDT="1000")
    error = raises(
        -2022,
        "Order cancel-replace failed.",
        lambda: env.ex.cancel_replace(
            alice,
            {**Q, "cancelReplaceMode": "ALLOW_FAILURE", "cancelOrderId": "42", "side": "BUY",
             "type": "LIMIT_MAKER", "quantity": "1", "price": "100.01"},
        ),
    )  # fmt: skip
    assert (error.extra["data"]["cancelResult"], error.extra["data"]["newOrderResult"]) == (
        "FAILURE",
        "FAILURE",
    )
    old = env.limit(alice, "BUY", "1", "99")
    raises(
        -1013,
        "Filter failure: LOT_SIZE",
        lambda: env.ex.cancel_replace(
            alice,
            {**Q, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": str(old["orderId"]),
             "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.0001",
             "price": "99"},
        ),
    )  # fmt: skip
    assert env.status(alice, old["orderId"]) == "NEW"
    raises(
        -1102,
        "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.",
        lambda: env.ex.cancel_replace(alice, {**Q, "side": "BUY", "type": "MARKET"}),
    )
