"""Property: random order flows conserve every asset and never drive a balance negative."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simcore_helpers import SCENARIO_SYMBOLS, apply_op, check_conservation, scenario_exchange

OPS = st.tuples(
    st.sampled_from(["limit", "limit", "market", "stop", "oco", "cancel", "step", "advance"]),
    st.integers(0, 1),
    st.sampled_from(SCENARIO_SYMBOLS),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(1, 400),
    st.integers(-40, 40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=40))
def test_random_flows_conserve_assets(ops: list[tuple[object, ...]]) -> None:
    exchange, clock, accounts = scenario_exchange()
    for op in ops:
        apply_op(exchange, clock, accounts, op)
        check_conservation(exchange)
    oracle = exchange.oracle()
    for order in oracle["orders"]:
        assert order["status"] in {
            "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH",
        }  # fmt: skip
    # what is locked is exactly what the open orders hold
    open_orders = exchange.open_orders(accounts[0], {}) + exchange.open_orders(accounts[1], {})
    if not open_orders:
        for balances in oracle["balances"].values():
            assert all(b["locked"] == "0.00000000" for b in balances.values())
