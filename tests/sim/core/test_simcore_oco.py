"""OCO order lists: placement rules, one shared lock, one leg working ends the other."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from typing import Any

import pytest
from simcore_helpers import Env, raises, small_book_config

from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange
from engine.sim.core.symbols import default_symbols

SELL_OCO = {
    "symbol": "SOLUSDT",
    "side": "SELL",
    "quantity": "5",
    "aboveType": "LIMIT_MAKER",
    "abovePrice": "102.00",
    "aboveClientOrderId": "take-profit",
    "belowType": "STOP_LOSS_LIMIT",
    "belowStopPrice": "98.00",
    "belowPrice": "97.90",
    "belowTimeInForce": "GTC",
    "belowClientOrderId": "stop-loss",
    "listClientOrderId": "my-oco",
}


def test_sell_oco_response_and_a_single_lock(env: Env) -> None:
    alice = env.account(SOL="10")
    recorder = env.record(alice)
    response = env.ex.new_oco(alice, SELL_OCO)
    now = env.clock.now_ms()
    assert {k: v for k, v in response.items() if k != "orderReports"} == {
        "orderListId": 1,
        "contingencyType": "OCO",
        "listStatusType": "EXEC_STARTED",
        "listOrderStatus": "EXECUTING",
        "listClientOrderId": "my-oco",
        "transactionTime": now,
        "symbol": "SOLUSDT",
        "orders": [
            {"symbol": "SOLUSDT", "orderId": 1, "clientOrderId": "stop-loss"},
            {"symbol": "SOLUSDT", "orderId": 2, "clientOrderId": "take-profit"},
        ],
    }
    stop_report, limit_report = response["orderReports"]
    assert (stop_report["type"], stop_report["stopPrice"], stop_report["workingTime"]) == (
        "STOP_LOSS_LIMIT",
        "98.00000000",
        -1,
    )
    assert (limit_report["type"], limit_report["price"], limit_report["workingTime"]) == (
        "LIMIT_MAKER",
        "102.00000000",
        now,
    )
    assert {r["orderListId"] for r in response["orderReports"]} == {1}
    assert env.balance(alice, "SOL") == ("5.00000000", "5.00000000")
    assert recorder.types() == [
        "executionReport",
        "executionReport",
        "listStatus",
        "outboundAccountPosition",
    ]
    status = recorder.user[2]
    assert (status["l"], status["L"], status["C"], status["g"]) == (
        "EXEC_STARTED",
        "EXECUTING",
        "my-oco",
        1,
    )
    assert [o["orderListId"] for o in env.ex.open_order_lists(alice, {})] == [1]
    assert env.ex.get_order_list(alice, {"origClientOrderId": "my-oco"})["orderListId"] == 1


def test_limit_leg_fills_and_the_stop_leg_expires(env: Env) -> None:
    alice = env.account(SOL="10")
    env.ex.new_oco(alice, SELL_OCO)
    recorder = env.record(alice)
    env.ex.set_price("SOLUSDT", D("102.50"))
    assert [(r["i"], r["x"], r["X"], r.get("eR")) for r in recorder.reports()] == [
        (1, "EXPIRED", "EXPIRED", "OCO_TRIGGER"),
        (2, "TRADE", "FILLED", None),
    ]
    assert recorder.types()[-2:] == ["listStatus", "outboundAccountPosition"]
    assert (recorder.user[-2]["l"], recorder.user[-2]["L"]) == ("ALL_DONE", "ALL_DONE")
    assert env.balance(alice, "SOL") == ("5.00000000", "0.00000000")
    assert env.balance(alice, "USDT") == ("509.49000000", "0.00000000")  # 510 less 0.1%
    assert env.ex.open_order_lists(alice, {}) == []
    assert env.ex.get_order_list(alice, {"orderListId": "1"})["listOrderStatus"] == "ALL_DONE"
    env.conserved()


def test_stop_leg_triggers_and_the_limit_leg_expires(env: Env) -> None:
    alice = env.account(SOL="10")
    env.ex.new_oco(alice, SELL_OCO)
    env.ex.set_price("SOLUSDT", D("97.50"))
    assert env.status(alice, 2) == "EXPIRED"
    stop_leg = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": "1"})
    assert (stop_leg["status"], stop_leg["isWorking"]) == ("NEW", True)  # resting at 97.90
    assert env.balance(alice, "SOL") == ("5.00000000", "5.00000000")
    env.ex.set_price("SOLUSDT", D("98.50"))
    assert env.status(alice, 1) == "FILLED"
    assert env.balance(alice, "SOL") == ("5.00000000", "0.00000000")
    env.conserved()


def test_buy_oco_locks_the_larger_leg_once(env: Env) -> None:
    alice = env.account(USDT="1000")
    response = env.ex.new_oco(
        alice,
        {
            "symbol": "SOLUSDT", "side": "BUY", "quantity": "5", "aboveType": "STOP_LOSS",
            "aboveStopPrice": "102", "belowType": "LIMIT_MAKER", "belowPrice": "98",
        },
    )  # fmt: skip
    assert [r["type"] for r in response["orderReports"]] == ["LIMIT_MAKER", "STOP_LOSS"]
    assert env.balance(alice, "USDT") == ("490.00000000", "510.00000000")  # 5 x 102
    env.ex.set_price("SOLUSDT", D("97.00"))  # the limit leg fills at 98: 490 spent
    assert env.balance(alice, "USDT") == ("510.00000000", "0.00000000")
    assert env.balance(alice, "SOL") == ("4.99500000", "0.00000000")
    env.conserved()


def test_cancelling_one_leg_cancels_the_list(env: Env) -> None:
    alice = env.account(SOL="10")
    env.ex.new_oco(alice, SELL_OCO)
    recorder = env.record(alice)
    response = env.ex.cancel_order(
        alice, {"symbol": "SOLUSDT", "origClientOrderId": "take-profit", "newClientOrderId": "x1"}
    )
    assert (response["listStatusType"], response["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert [(r["orderId"], r["status"], r["clientOrderId"], r["origClientOrderId"])
            for r in response["orderReports"]] == [
        (1, "CANCELED", "x1", "stop-loss"),
        (2, "CANCELED", "x1", "take-profit"),
    ]  # fmt: skip
    assert [(r["x"], r["c"], r["C"]) for r in recorder.reports()] == [
        ("CANCELED", "x1", "stop-loss"),
        ("CANCELED", "x1", "take-profit"),
    ]
    assert env.balance(alice, "SOL") == ("10.00000000", "0.00000000")


def test_cancel_order_list_and_its_errors(env: Env) -> None:
    alice = env.account(SOL="10")
    env.ex.new_oco(alice, SELL_OCO)
    raises(
        -1102,
        "Param 'listClientOrderId' or 'orderListId' must be sent, but both were empty/null!",
        lambda: env.ex.cancel_order_list(alice, {"symbol": "SOLUSDT"}),
    )
    raises(
        -2011,
        "Order list does not exist.",
        lambda: env.ex.cancel_order_list(alice, {"symbol": "SOLUSDT", "orderListId": "9"}),
    )
    response = env.ex.cancel_order_list(alice, {"symbol": "SOLUSDT", "listClientOrderId": "my-oco"})
    assert [r["status"] for r in response["orderReports"]] == ["CANCELED", "CANCELED"]
    raises(
        -2011,
        "Unknown order sent.",
        lambda: env.ex.cancel_order_list(alice, {"symbol": "SOLUSDT", "orderListId": "1"}),
    )
    raises(
        -2013,
        "Order list does not exist.",
        lambda: env.ex.get_order_list(alice, {"orderListId": "9"}),
    )


@pytest.mark.parametrize(
    ("changes", "code", "msg"),
    [
        ({"abovePrice": "99.00"}, -2010,
         "The relationship of the prices for the orders is not correct."),
        ({"belowStopPrice": "100.50", "belowPrice": "100.40"}, -2010,
         "The relationship of the prices for the orders is not correct."),
        ({"aboveType": "STOP_LOSS", "abovePrice": "", "aboveStopPrice": "102"}, -1197,
         "A stop loss order in a sell OCO must be below."),
        ({"belowType": "TAKE_PROFIT", "belowPrice": "", "belowTimeInForce": ""}, -1199,
         "A take profit order in a sell OCO must be above."),
        ({"aboveType": "LIMIT"}, -1158, "Order type not supported in OCO."),
        ({"belowTimeInForce": ""}, -1102,
         "Mandatory parameter 'belowTimeInForce' was not sent, was empty/null, or malformed."),
        ({"quantity": "0.01"}, -1013, "Filter failure: NOTIONAL"),
        ({"quantity": "20"}, -2010, "Account has insufficient balance for requested action."),
        ({"aboveClientOrderId": "stop-loss"}, -2010, "Duplicate order sent."),
    ],
)  # fmt: skip
def test_oco_rejections(env: Env, changes: dict[str, Any], code: int, msg: str) -> None:
    alice = env.account(SOL="10")
    raises(code, msg, lambda: env.ex.new_oco(alice, {**SELL_OCO, **changes}))
    assert env.balance(alice, "SOL") == ("10.00000000", "0.00000000")
    assert env.ex.oracle(alice)["orders"] == []


def test_buy_oco_leg_placement_errors(env: Env) -> None:
    alice = env.account(USDT="1000")
    base = {"symbol": "SOLUSDT", "side": "BUY", "quantity": "1"}
    raises(
        -1165,
        "A limit order in a buy OCO must be below.",
        lambda: env.ex.new_oco(alice, {**base, "aboveType": "LIMIT_MAKER", "abovePrice": "102",
                                       "belowType": "STOP_LOSS", "belowStopPrice": "98"}),
    )  # fmt: skip
    raises(
        -1196,
        "A stop loss order in a buy OCO must be above.",
        lambda: env.ex.new_oco(alice, {**base, "aboveType": "STOP_LOSS", "aboveStopPrice": "102",
                                       "belowType": "STOP_LOSS", "belowStopPrice": "98"}),
    )  # fmt: skip


def test_open_order_lists_are_capped_by_max_num_order_lists(clock: ManualClock) -> None:
    """MAX_NUM_ORDER_LISTS counts the lists still open, not every list the account ever had."""
    specs = [
        dataclasses.replace(s, max_num_order_lists=2, max_num_algo_orders=10)
        for s in default_symbols()
    ]
    env = Env(clock, Exchange(clock=clock, seed=7, symbols=specs, config=small_book_config()))
    alice = env.account(SOL="100")

    def oco(n: int) -> dict[str, Any]:
        return env.ex.new_oco(alice, {
            **SELL_OCO, "quantity": "1", "listClientOrderId": f"list-{n}",
            "aboveClientOrderId": f"tp-{n}", "belowClientOrderId": f"sl-{n}",
        })  # fmt: skip

    first = oco(1)
    oco(2)
    raises(-1013, "Filter failure: MAX_NUM_ORDER_LISTS", lambda: oco(3))
    env.ex.cancel_order_list(alice, {"symbol": "SOLUSDT", "orderListId": str(first["orderListId"])})
    oco(3)  # a closed list no longer counts
    raises(-1013, "Filter failure: MAX_NUM_ORDER_LISTS", lambda: oco(4))
