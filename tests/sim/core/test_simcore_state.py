"""Determinism and persistence: same seed, same history; a restored exchange carries on exactly."""

from __future__ import annotations

import json
import random

from simcore_helpers import SEED, apply_op, random_ops, scenario_exchange

from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange


def run(seed: int, ops_seed: int, count: int) -> tuple[Exchange, list[object]]:
    exchange, clock, accounts = scenario_exchange(seed)
    ops = random_ops(random.Random(ops_seed), count)
    return exchange, [apply_op(exchange, clock, accounts, op) for op in ops]


def test_same_seed_same_trades_and_responses() -> None:
    first, first_results = run(SEED, 1, 150)
    second, second_results = run(SEED, 1, 150)
    assert first_results == second_results
    assert first.oracle() == second.oracle()
    trades = first.oracle()["trades"]
    assert len(trades) > 20
    other, _ = run(SEED + 1, 1, 150)
    assert [t["price"] for t in other.oracle()["trades"]] != [t["price"] for t in trades]


def test_a_restored_exchange_continues_exactly_like_the_original() -> None:
    ops = random_ops(random.Random(2), 240)
    original, clock, accounts = scenario_exchange()
    for op in ops[:120]:
        apply_op(original, clock, accounts, op)
    state = json.loads(json.dumps(original.to_state()))
    assert len(json.dumps(state)) < 200_000
    restored_clock = ManualClock(clock.now_ms())
    restored = Exchange.from_state(state, clock=restored_clock)
    assert restored.oracle() == original.oracle()
    assert json.loads(json.dumps(restored.to_state())) == state
    original_results = [apply_op(original, clock, accounts, op) for op in ops[120:]]
    restored_results = [apply_op(restored, restored_clock, accounts, op) for op in ops[120:]]
    assert restored_results == original_results
    assert restored.oracle() == original.oracle()
    assert restored.to_state() == original.to_state()
    assert restored.open_order_lists(accounts[0], {}) == original.open_order_lists(accounts[0], {})


def test_state_keeps_keys_config_and_listeners_start_empty() -> None:
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=SEED)
    account = exchange.create_account({})
    exchange.register_key(account, "k", hmac_secret="s")
    exchange.configure({"visibility_lag_ms": 250})
    exchange.add_user_listener(account, lambda event: None)
    restored = Exchange.from_state(json.loads(json.dumps(exchange.to_state())), clock=clock)
    key = restored.key("k")
    assert key is not None and (key.account_id, key.hmac_secret) == (account, "s")
    assert restored.config.visibility_lag_ms == 250
    assert restored.to_state()["version"] == 1
