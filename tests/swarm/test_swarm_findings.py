"""What the swarm found, each as the smallest scenario that shows it, written out with the swarm's
own venue so that it runs in virtual time like a seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarm_faults import FaultProfile
from swarm_port import SimPort
from swarm_run import SwarmRun, run_seed

from engine.service.api import CommandName
from engine.venue.errors import NotSent
from engine.venue.parse import OrderResponse

CALM = FaultProfile()


async def _fill_missed_then_a_later_trade_booked(run: SwarmRun) -> None:
    """Another program's market buy fills while the user stream is stalled (its trade event is
    lost); then the desk's own market buy fills and is booked from the REST reply, with a
    higher trade id. The stream comes back with a gap and reconciliation runs."""
    assert run.port is not None and run.port.user is not None
    run.port.user.stall()
    external = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quoteOrderQty": "50",
        "newClientOrderId": "ext-1",
        "newOrderRespType": "FULL",
    }
    run.core.new_order(run.account_id, external)
    run.command(
        CommandName.SUBMIT_ORDER,
        {"symbol": "ETHUSDT", "side": "buy", "type": "market", "quote_quantity": "100"},
    )
    await run.drain()


def test_a_trade_missed_before_a_booked_one_is_still_journaled() -> None:
    """Seeds 36, 47, 59, 107 (60 actions): reconciliation reads trades after the highest
    journaled trade id, so a lower one never journaled (the missed external fill) is never
    read: I3 fails with ("ETHUSDT", 1) at the exchange and not in the journal."""
    result = run_seed(0, 0, script=_fill_missed_then_a_later_trade_booked, profile=CALM)
    assert result.failure is None, "\n".join([result.failure or "", *result.log])


async def _fill_of_an_order_not_visible_yet(run: SwarmRun) -> None:
    """The user stream drops; another program's market buy fills; reconciliation (the gap's,
    and one the operator asks for) reads the trade while queries do not show its order yet
    (Binance's visibility lag, R4)."""
    assert run.port is not None and run.port.user is not None
    run.port.user.disconnect()
    external = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quoteOrderQty": "50",
        "newClientOrderId": "ext-1",
        "newOrderRespType": "FULL",
    }
    run.core.new_order(run.account_id, external)
    run.command(CommandName.RECONCILE, {})
    await run.drain()


def test_a_trade_whose_order_is_not_visible_yet_is_journaled_later() -> None:
    """Seeds 180, 476, 592: reconciliation folds myTrades rows after the cursor; a row whose
    order allOrders does not show yet cannot be attributed (ReportUnmatched), is not booked,
    and the cursor moves past it, so no later run reads it again: I3 fails."""
    lagging = FaultProfile(visibility_lag_ms=1000)
    result = run_seed(0, 0, script=_fill_of_an_order_not_visible_yet, profile=lagging)
    assert result.failure is None, "\n".join([result.failure or "", *result.log])


async def _disk_fills_between_a_fill_and_its_order_row(run: SwarmRun) -> None:
    """A market buy fills; the journal's disk fills up; the next market buy's intent still fits
    and it is sent and fills, its events and fill commit, its order row does not; the engine
    halts (journal failed) and the operator restarts it with space freed."""
    buy = {"symbol": "BTCUSDT", "side": "buy", "type": "market", "quote_quantity": "100"}
    run.command(CommandName.SUBMIT_ORDER, buy)
    await run.drain()
    run.disk.fill()
    for _ in range(2):
        run.command(CommandName.SUBMIT_ORDER, buy)
        await run.drain()
    await run.restart()
    engine = run.engine
    assert engine is not None
    run.note(f"after the restart: {engine.parts.gate.state.value} {engine.parts.gate.reason}")


def test_a_restart_after_a_failed_order_row_write_trades_again() -> None:
    """Found with the disk-full fault: the restart restored the order from its stale row
    (nothing executed), marked it UNKNOWN (I5: executed quantity falls from 0.00105 to 0),
    settled it FILLED again, booked its already journaled fill a second time in memory and
    halted ("a fill already journaled was booked again in memory; restart the engine"), and
    every restart did the same: the desk could not trade again. Fixed in pipeline.py and
    writer.py (an order's row commits in one transaction with its fills and events) and in
    restore.py (a row behind its journaled fills is moved forward to them)."""
    result = run_seed(1, 0, script=_disk_fills_between_a_fill_and_its_order_row, profile=CALM)
    assert result.failure is None, "\n".join([result.failure or "", *result.log])
    assert "after the restart: ACTIVE" in "\n".join(result.log)


async def _disk_fills_before_a_reconciliation_reads_trades(run: SwarmRun) -> None:
    """A trade the stream missed, the journal's disk full, then a reconciliation that folds the
    trade in and moves its trade cursor: the cursor's write fails."""
    assert run.port is not None and run.port.user is not None
    run.port.user.stall()
    external = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "50"}
    run.core.new_order(run.account_id, external | {"newClientOrderId": "ext-1"})
    run.disk.fill()
    run.command(CommandName.RECONCILE, {})
    await run.drain()


def test_a_journal_failure_inside_a_reconciliation_is_a_problem_not_a_crash() -> None:
    """Seed 2088 (100 actions): the failed write raises JournalWriteError out of the run (only
    VenueError is caught), and the scheduler logs "reconciliation crashed" with a traceback;
    expected: the run reports the journal problem like any other and the engine stays up."""
    result = run_seed(0, 0, script=_disk_fills_before_a_reconciliation_reads_trades, profile=CALM)
    assert result.failure is None, "\n".join([result.failure or "", *result.log])


class _RefusedOnceWhileHalting(SimPort):
    """The first create fails before leaving (NotSent) and, meanwhile, the engine halts itself
    (as a failed journal write or the circuit breaker makes it)."""

    halt: Callable[[str], None] | None = None

    async def create_order(self, **kwargs: Any) -> OrderResponse:
        halt, self.halt = self.halt, None
        if halt is not None:
            halt("the journal failed meanwhile")
            raise NotSent("ClientConnectorError: connection refused")
        return await super().create_order(**kwargs)


async def _buy_while_the_engine_halts(run: SwarmRun) -> None:
    assert isinstance(run.port, _RefusedOnceWhileHalting) and run.engine is not None
    run.port.halt = run.engine.parts.halt
    run.command(
        CommandName.SUBMIT_ORDER,
        {"symbol": "BTCUSDT", "side": "buy", "type": "market", "quote_quantity": "100"},
    )
    await run.drain()


def test_a_create_not_sent_is_not_retried_once_trading_halted() -> None:
    """Seed 10376 (100 actions), I6: the first attempt was NotSent, the journal failed and
    trading halted, and the retry with the same id went out anyway. Fixed in orders.py: the
    retry is made only while new orders may go out; otherwise the order is rejected unsent."""
    result = run_seed(
        0, 0, script=_buy_while_the_engine_halts, profile=CALM, port_class=_RefusedOnceWhileHalting
    )
    assert result.failure is None, "\n".join([result.failure or "", *result.log])
    refused = "-> venue: sd-tb9me01-1 could not be sent: NotSent: ClientConnectorError"
    assert refused in result.log[-1]
    assert result.orders == 0  # nothing reached the exchange
