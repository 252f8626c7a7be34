"""Reconciliation's trade reading, in the swarm's virtual time: myTrades comes in pages, and every
page is read until a short one, so a gap of many trades is folded in whole, exactly once."""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "swarm"))

from swarm_faults import FaultProfile
from swarm_run import Script, SwarmRun, run_seed

from engine.service.api import CommandName


def _other_programs_buy(count: int) -> Script:
    """While the user stream is silent, another program fills `count` market buys on ETHUSDT;
    then the operator asks for a reconciliation."""

    async def script(run: SwarmRun) -> None:
        assert run.port is not None and run.port.user is not None
        run.port.user.stall()
        for n in range(count):
            params = {
                "symbol": "ETHUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quoteOrderQty": "20",
                "newClientOrderId": f"ext-{n}",
            }
            run.core.new_order(run.account_id, params)
        run.command(CommandName.RECONCILE, {})
        await run.drain()

    return script


def _folded(log: list[str]) -> list[str]:
    return [line.split(", ")[2] for line in log if "Reconcile  -> ok" in line]


def test_trades_across_several_pages_are_all_folded_in() -> None:
    """Five trades, pages of two: pages of 2, 2 and 1, every trade journaled (I1-I5 hold)."""
    result = run_seed(
        0, 0, script=_other_programs_buy(5), profile=FaultProfile(), options={"trade_page": 2}
    )
    assert result.failure is None, result.failure
    assert _folded(result.log) == ["5 trade(s) folded in"]
    assert result.trades == 5


def test_a_gap_ending_on_a_page_boundary_reads_one_empty_page_more() -> None:
    """Four trades, pages of two: the reading goes on after each full page, stops after the
    last, and folds every trade in once."""
    result = run_seed(
        0, 0, script=_other_programs_buy(4), profile=FaultProfile(), options={"trade_page": 2}
    )
    assert result.failure is None, result.failure
    assert _folded(result.log) == ["4 trade(s) folded in"]
