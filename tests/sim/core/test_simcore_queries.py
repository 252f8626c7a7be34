"""USER_DATA reads: orders, trades, account, keys, the visibility lag; and the user events."""

from __future__ import annotations

from decimal import Decimal as D

from simcore_helpers import Env, raises

Q = {"symbol": "SOLUSDT"}


def test_get_order_shape_and_errors(env: Env) -> None:
    alice = env.account(USDT="1000")
    placed = env.limit(alice, "BUY", "1", "99", newClientOrderId="q1")
    now = env.clock.now_ms()
    assert env.ex.get_order(alice, {**Q, "orderId": "1"}) == {
        "symbol": "SOLUSDT",
        "orderId": placed["orderId"],
        "orderListId": -1,
        "clientOrderId": "q1",
        "price": "99.00000000",
        "origQty": "1.00000000",
        "executedQty": "0.00000000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": now,
        "updateTime": now,
        "isWorking": True,
        "workingTime": now,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    raises(
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        lambda: env.ex.get_order(alice, Q),
    )
    raises(-2013, "Order does not exist.", lambda: env.ex.get_order(alice, {**Q, "orderId": "2"}))
    raises(
        -2013,
        "Order does not exist.",
        lambda: env.ex.get_order(alice, {**Q, "origClientOrderId": "nope"}),
    )
    raises(
        -1121, "Invalid symbol.", lambda: env.ex.get_order(alice, {"symbol": "X", "orderId": "1"})
    )


def test_visibility_lag_hides_young_orders_from_queries(env: Env) -> None:
    env.ex.configure({"visibility_lag_ms": 3000})
    alice = env.account(USDT="1000")
    placed = env.limit(alice, "BUY", "1", "99")
    query = {**Q, "orderId": str(placed["orderId"])}
    raises(-2013, "Order does not exist.", lambda: env.ex.get_order(alice, query))
    assert env.ex.open_orders(alice, Q) == []
    assert env.ex.all_orders(alice, Q) == []
    env.clock.advance(2999)
    assert env.ex.open_orders(alice, {}) == []
    env.clock.advance(1)
    assert env.ex.get_order(alice, query)["status"] == "NEW"
    assert len(env.ex.open_orders(alice, {})) == 1
    # the oracle always sees everything; cancelling is not delayed
    assert len(env.ex.oracle(alice)["orders"]) == 1


def test_all_orders_paging(env: Env) -> None:
    alice = env.account(USDT="100000")
    for _ in range(5):
        env.limit(alice, "BUY", "1", "99")
        env.clock.advance(1000)
    start = env.clock.now_ms() - 5000

    def ids(**params: str) -> list[int]:
        return [o["orderId"] for o in env.ex.all_orders(alice, {**Q, **params})]

    assert ids() == [1, 2, 3, 4, 5]
    assert ids(limit="2") == [4, 5]
    assert ids(orderId="2", limit="2") == [2, 3]
    assert ids(startTime=str(start + 1000)) == [2, 3, 4, 5]
    assert ids(endTime=str(start + 1000)) == [1, 2]
    raises(
        -1127,
        "More than 24 hours between startTime and endTime.",
        lambda: ids(startTime="0", endTime=str(start)),
    )
    raises(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
           lambda: env.ex.all_orders(alice, {}))  # fmt: skip


def test_my_trades_fields_filters_and_combinations(env: Env) -> None:
    alice = env.account(USDT="100000")
    first = env.market(alice, "BUY", "20")  # trades 1 and 2
    env.clock.advance(1000)
    env.ex.step_market()
    second = env.market(alice, "BUY", "1")  # trade 3
    trades = env.ex.my_trades(alice, Q)
    assert trades[0] == {
        "symbol": "SOLUSDT",
        "id": 1,
        "orderId": first["orderId"],
        "orderListId": -1,
        "price": "100.01000000",
        "qty": "9.99900000",
        "quoteQty": "999.99999000",
        "commission": "0.00999900",
        "commissionAsset": "SOL",
        "time": env.clock.now_ms() - 1000,
        "isBuyer": True,
        "isMaker": False,
        "isBestMatch": True,
    }
    assert [t["id"] for t in env.ex.my_trades(alice, {**Q, "orderId": str(second["orderId"])})] == [
        3
    ]
    assert [t["id"] for t in env.ex.my_trades(alice, {**Q, "fromId": "2"})] == [2, 3]
    assert [t["id"] for t in env.ex.my_trades(alice, {**Q, "limit": "1"})] == [3]
    raises(
        -1128,
        "Combination of optional parameters invalid.",
        lambda: env.ex.my_trades(alice, {**Q, "fromId": "1", "startTime": "1"}),
    )


def test_account_shape_and_omit_zero_balances(env: Env) -> None:
    alice = env.account(USDT="1000", SOL="2")
    env.limit(alice, "SELL", "1", "101")
    account = env.ex.account(alice, {"omitZeroBalances": "true"})
    assert account == {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": env.clock.now_ms(),
        "accountType": "SPOT",
        "balances": [
            {"asset": "SOL", "free": "1.00000000", "locked": "1.00000000"},
            {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"},
        ],
        "permissions": ["SPOT"],
        "uid": 100000000 + alice,
    }
    everything = env.ex.account(alice, {})["balances"]
    assert [b["asset"] for b in everything] == ["BNB", "BTC", "ETH", "SOL", "USDT"]


def test_keys_permissions_and_api_restrictions(env: Env) -> None:
    alice = env.account()
    env.ex.register_key(alice, "reader", hmac_secret="s", permissions={
        "enableSpotAndMarginTrading": False})  # fmt: skip
    env.ex.register_key(alice, "trader", ed25519_public_key_pem="-----BEGIN PUBLIC KEY-----")
    reader = env.ex.key("reader")
    assert reader is not None and (reader.account_id, reader.hmac_secret) == (alice, "s")
    assert env.ex.api_restrictions(alice, "reader") == {
        "ipRestrict": False,
        "createTime": env.clock.now_ms(),
        "enableReading": True,
        "enableSpotAndMarginTrading": False,
        "enableWithdrawals": False,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enablePortfolioMarginTrading": False,
    }
    assert env.ex.api_restrictions(alice)["enableSpotAndMarginTrading"] is False
    assert env.ex.api_restrictions(alice, "trader")["enableSpotAndMarginTrading"] is True
    assert env.ex.authorize("reader", "get_order") == alice
    assert env.ex.authorize("trader", "new_order") == alice
    error = raises(
        -2015,
        "Invalid API-key, IP, or permissions for action.",
        lambda: env.ex.authorize("reader", "new_order"),
    )
    assert error.http_status == 401
    raises(-2015, "Invalid API-key, IP, or permissions for action.",
           lambda: env.ex.authorize("nobody", "account"))  # fmt: skip


def test_execution_report_has_every_field(env: Env) -> None:
    alice = env.account(USDT="1000")
    recorder = env.record(alice)
    placed = env.limit(alice, "BUY", "1", "99", newClientOrderId="e1")
    now = env.clock.now_ms()
    new, position = recorder.user
    assert new == {
        "e": "executionReport",
        "E": now,
        "s": "SOLUSDT",
        "c": "e1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1.00000000",
        "p": "99.00000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": placed["orderId"],
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": now,
        "t": -1,
        "I": new["I"],
        "w": True,
        "m": False,
        "M": False,
        "O": now,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": now,
        "V": "EXPIRE_MAKER",
    }
    assert position == {
        "e": "outboundAccountPosition",
        "E": now,
        "u": now,
        "B": [{"a": "USDT", "f": "901.00000000", "l": "99.00000000"}],
    }


def test_trade_reports_and_execution_ids_increase(env: Env) -> None:
    alice = env.account(USDT="100000")
    recorder = env.record(alice)
    env.market(alice, "BUY", "20")
    reports = recorder.reports()
    assert [r["I"] for r in reports] == sorted({r["I"] for r in reports})
    trade = reports[1]
    assert (trade["x"], trade["l"], trade["L"], trade["Y"], trade["n"], trade["N"], trade["t"]) == (
        "TRADE",
        "9.99900000",
        "100.01000000",
        "999.99999000",
        "0.00999900",
        "SOL",
        1,
    )
    assert (trade["w"], trade["m"], trade["M"]) == (False, False, True)
    assert recorder.user[-1]["B"] == [
        {"a": "SOL", "f": "19.98000000", "l": "0.00000000"},
        {"a": "USDT", "f": "97999.69999000", "l": "0.00000000"},
    ]


def test_fund_emits_balance_update_then_position(env: Env) -> None:
    alice = env.account()
    recorder = env.record(alice)
    env.ex.fund(alice, "USDT", D("250.5"))
    now = env.clock.now_ms()
    assert recorder.user == [
        {"e": "balanceUpdate", "E": now, "a": "USDT", "d": "250.50000000", "T": now},
        {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "B": [{"a": "USDT", "f": "250.50000000", "l": "0.00000000"}],
        },
    ]
    raises(
        -2010,
        "Account has insufficient balance for requested action.",
        lambda: env.ex.fund(alice, "USDT", D("-300")),
    )
    env.ex.fund(alice, "USDT", D("-50.5"))
    assert env.balance(alice, "USDT") == ("200.00000000", "0.00000000")
    env.conserved()


def test_listener_failures_are_contained(env: Env) -> None:
    alice = env.account(USDT="1000")

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    env.ex.add_user_listener(alice, broken)
    recorder = env.record(alice)
    assert env.limit(alice, "BUY", "1", "99")["status"] == "NEW"
    assert recorder.types() == ["executionReport", "outboundAccountPosition"]
