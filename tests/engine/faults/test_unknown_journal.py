"""A journal that cannot write (D11, R1): the intent is not recorded, so the order is not sent,
and the engine halts with a clear message; the halt holds until a restart."""

from __future__ import annotations

import pathlib

from engine_testkit import new_account, started, submit, until
from invariants import assert_matches_oracle
from unknown_testkit import BTC, breakable_engine, exchange_orders, journal_events

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

LIMIT = {"symbol": BTC, "side": "buy", "type": "limit", "quantity": "0.01", "price": "90000"}


async def test_d11_an_intent_that_cannot_be_journaled_is_never_sent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    engine, journals = breakable_engine(sim, account, tmp_path)
    async with started(engine):
        placed = await submit(engine, **LIMIT)
        assert placed.outcome is Outcome.OK, placed.message
        (journal,) = journals

        async def quiet() -> bool:  # the stream's account update of that order is in
            return engine.parts.ledger.balances.get("USDT").locked == 900  # type: ignore[union-attr]

        await until(engine, quiet)
        await journal.flush()
        await journal.fail_writes()  # as a full disk would, from the next write on

        refused = await submit(engine, **LIMIT)
        assert refused.outcome is Outcome.REFUSED
        assert refused.message.startswith(
            "the intent could not be journaled, so nothing was sent: journal write not "
            "committed: OperationalError: attempt to write a readonly database"
        )
        assert len(await exchange_orders(sim, account)) == 1  # only the first
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "HALTED"
        assert snapshot["halt_reason"] == refused.message
        assert snapshot["health"]["journal"]["state"] == "FAILED"

        # Nothing more goes out, whatever the operator tries; the reason says what to do.
        again = await submit(engine, **LIMIT)
        assert again.outcome is Outcome.REFUSED
        assert again.message.startswith("the journal cannot write (")
        assert again.message.endswith("); restart the engine")
        await engine.command(CommandName.ARM, {})  # cannot lift the journal's lock
        assert (await submit(engine, **LIMIT)).message == again.message
        assert len(await exchange_orders(sim, account)) == 1
        reconciled = await engine.command(CommandName.RECONCILE, {})
        assert reconciled.outcome is Outcome.VENUE
        assert "journal:" in reconciled.message

    # A restart on a healthy disk: the order that went out is there, the refused one is not.
    engine, _ = breakable_engine(sim, account, tmp_path)
    async with started(engine):
        snapshot = await engine.snapshot()
        assert [o["client_order_id"] for o in snapshot["orders"]["open"]] == [
            placed.data["client_order_id"]
        ]
        # The halt was never journaled (nothing could be), so it does not outlive the restart.
        assert [e["state"] for e in await journal_events(engine, "TradingStateChanged")] == []
        await assert_matches_oracle(engine, sim, account)
