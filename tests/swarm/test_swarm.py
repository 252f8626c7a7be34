"""The swarm in CI: a few hundred seeds must keep every invariant, a seed must replay to the same
event log (I8) in this process and in another one, and the oracles must catch a planted fault.

More seeds: `python -m tests.swarm --seeds N --start S` (see __main__.py).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from swarm_port import SimPort
from swarm_run import SeedResult, replay_command, run_seed

from engine.venue.parse import OrderResponse

SEEDS = 300  # about 20 s in one process on this machine without coverage (see the report)
CHUNK = 50
ACTIONS = 60
REPLAYED_SEED = 17  # faults of seven kinds, stalls, clock jumps and three restarts
EMERGENCY_SEED = 18  # an emergency stop cancelling on several symbols at once
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _failures(results: list[SeedResult]) -> str:
    return "\n".join(
        f"seed {r.seed} ({r.profile}): {r.failure}\n  replay: {replay_command(r.seed, r.actions)}"
        for r in results
        if r.failure is not None
    )


@pytest.mark.parametrize("start", range(0, SEEDS, CHUNK))
def test_seeded_runs_keep_every_invariant(start: int) -> None:
    results = [run_seed(seed, ACTIONS) for seed in range(start, start + CHUNK)]
    if _failures(results):
        pytest.fail(_failures(results), pytrace=False)
    # The runs did trade, restart and meet faults: not a suite of refusals.
    assert sum(r.trades for r in results) > 5 * CHUNK
    assert sum(r.restarts for r in results) > CHUNK // 2
    assert sum(sum(r.fault_counts.values()) for r in results) > 5 * CHUNK


def test_a_seed_replays_to_the_same_event_log() -> None:
    first = run_seed(REPLAYED_SEED, ACTIONS)
    second = run_seed(REPLAYED_SEED, ACTIONS)
    assert first.failure is None, first.failure
    assert first.profile != "calm" and first.restarts >= 2  # the seed still exercises faults
    assert second.log == first.log
    assert second.digest == first.digest
    assert run_seed(REPLAYED_SEED + 1, ACTIONS).digest != first.digest


def _digest_in_process(seed: int, hash_seed: str) -> str:
    """The seed's digest from `python -m tests.swarm` under another PYTHONHASHSEED."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.swarm",
            "--seeds",
            "1",
            "--start",
            str(seed),
            "--actions",
            str(ACTIONS),
            "--digest",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return next(line.split()[-1] for line in done.stdout.splitlines() if " digest " in line)


def test_a_seed_replays_identically_in_another_process() -> None:
    """Replaying a printed seed works whatever order the process iterates sets in (string
    hashing, hence set order, changes with PYTHONHASHSEED)."""
    here = run_seed(EMERGENCY_SEED, ACTIONS)
    assert any("EmergencyStop" in line for line in here.log)  # the seed still has one
    assert _digest_in_process(EMERGENCY_SEED, "1") == _digest_in_process(EMERGENCY_SEED, "2")


class _EchoingPort(SimPort):
    """A venue that, behind the engine's back, places every filled market order a second time
    under the same client order id (Binance accepts that once the first is FILLED, R3)."""

    async def create_order(self, **kwargs: Any) -> OrderResponse:
        response = await super().create_order(**kwargs)
        if kwargs["order_type"] == "MARKET" and response.status.state.value == "FILLED":
            params = {
                "symbol": kwargs["symbol"],
                "side": kwargs["side"],
                "type": "MARKET",
                "newClientOrderId": kwargs["client_order_id"],
            }
            for key, name in (("quantity", "quantity"), ("quote_quantity", "quoteOrderQty")):
                value: Decimal | None = kwargs.get(key)
                if value is not None:
                    params[name] = format(value, "f")
            self._core.new_order(self._account, params)
        return response


def test_the_oracles_catch_an_order_executed_twice() -> None:
    result = run_seed(5, 20, port_class=_EchoingPort)
    assert result.failure is not None
    assert "I2: orders placed more than once" in result.failure
