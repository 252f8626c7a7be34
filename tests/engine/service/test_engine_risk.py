"""The risk choke point through the engine: refusals with their numbers, previews that send
nothing, soft confirmation, trading states, and today's counters across restarts."""

from __future__ import annotations

import pathlib
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine_testkit import WIDE_LIMITS, engine_for, new_account, started, submit

from engine.service.api import CommandName, Outcome
from engine.sim.runner import SimServer

BTC = "BTCUSDT"
RULES = [
    "TRADING_STATE", "SYMBOL", "EXCHANGE_FILTERS", "ORDER_RATE", "BALANCE", "NO_SHORT",
    "DAILY_LOSS", "DAILY_TRADES", "OPEN_POSITIONS", "ORDER_VALUE", "POSITION_VALUE",
    "POSITION_SHARE", "TOTAL_EXPOSURE", "LONG_EXPOSURE", "SOFT_NOTIONAL",
]  # fmt: skip


class ShiftedClock:
    """The real clock moved by `shift` (the engine's reports and counters; signing uses its
    own synced time)."""

    def __init__(self, shift: timedelta = timedelta(0)) -> None:
        self.shift = shift

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


async def _orders_at_exchange(sim: SimServer, account_id: int) -> list[dict[str, Any]]:
    return list((await sim.admin.oracle(account_id))["orders"])


def _check(data: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(c for c in data["risk"]["checks"] if c["rule"] == rule)


async def test_a_refusal_names_the_rule_and_its_numbers_and_nothing_is_sent(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    limits = WIDE_LIMITS.model_copy(update={"max_order_value": Decimal(500)})
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        refused = await submit(
            engine, symbol=BTC, side="buy", type="limit", quantity="0.01", price="90000"
        )
        assert refused.outcome is Outcome.REFUSED
        assert refused.message == (
            "refused by risk: ORDER_VALUE: order value 900 USDT is above the maximum 500 USDT"
        )
        assert [c["rule"] for c in refused.data["risk"]["checks"]] == RULES
        assert refused.data["risk"]["allowed"] is False
        assert _check(refused.data, "ORDER_VALUE")["values"]["value"] == "900"
        assert _check(refused.data, "BALANCE")["passed"] is True
        assert (await engine.snapshot())["orders"]["open"] == []
    assert await _orders_at_exchange(sim, account.account_id) == []


async def test_position_and_exposure_limits_refuse_end_to_end(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "BTC": "0.02"})
    limits = WIDE_LIMITS.model_copy(
        update={"max_position_value": Decimal(2500), "max_open_positions": 1}
    )
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        more_btc = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert more_btc.outcome is Outcome.REFUSED
        assert more_btc.message.startswith("refused by risk: POSITION_VALUE: the BTCUSDT position")
        eth = await submit(engine, symbol="ETHUSDT", side="buy", type="market", quantity="0.01")
        assert eth.outcome is Outcome.REFUSED
        assert eth.message.startswith("refused by risk: OPEN_POSITIONS:"), eth.message
        sell = await submit(engine, symbol=BTC, side="sell", type="market", quantity="0.01")
        assert sell.outcome is Outcome.OK, sell.message
    assert len(await _orders_at_exchange(sim, account.account_id)) == 1


async def test_a_dry_run_previews_every_check_and_sends_nothing(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        preview = await submit(
            engine,
            symbol=BTC,
            side="buy",
            type="limit",
            quantity="0.012345",
            price="90000.005",
            dry_run=True,
        )
        assert preview.outcome is Outcome.OK, preview.message
        assert preview.message == "preview: every check passes; nothing was sent"
        assert preview.data["dry_run"] is True
        assert (preview.data["quantity"], preview.data["price"]) == ("0.01234", "90000.00")
        assert preview.data["risk"]["order"]["qty"] == "0.01234"
        assert [c["rule"] for c in preview.data["risk"]["checks"]] == RULES
        assert "client_order_id" not in preview.data
        snapshot = await engine.snapshot()
        assert snapshot["orders"]["open"] == []
        assert snapshot["risk"]["day"]["orders"] == 0
        bad = await submit(engine, symbol=BTC, side="buy", quantity="1", dry_run="yes")
        assert (bad.outcome, bad.message) == (Outcome.USAGE, "dry_run must be true or false")
    assert await _orders_at_exchange(sim, account.account_id) == []


async def test_above_the_soft_limit_an_order_needs_confirmation(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    limits = WIDE_LIMITS.model_copy(update={"soft_notional_limit": Decimal(500)})
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        order = {"symbol": BTC, "side": "buy", "type": "limit", "quantity": "0.01"}
        unconfirmed = await submit(engine, **order, price="90000")
        assert unconfirmed.outcome is Outcome.REFUSED
        assert unconfirmed.message == (
            "needs confirmation: order value 900 USDT is above the soft limit 500 USDT: it needs "
            "an explicit confirmation; resend with confirmed: true (the CLI's --yes)"
        )
        assert unconfirmed.data["risk"]["needs_confirmation"] is True
        assert await _orders_at_exchange(sim, account.account_id) == []
        small = await submit(engine, **order, price="40000")
        assert small.outcome is Outcome.OK, small.message
        confirmed = await submit(engine, **order, price="90000", confirmed=True)
        assert confirmed.outcome is Outcome.OK, confirmed.message
        assert _check(confirmed.data, "SOFT_NOTIONAL")["values"]["confirmed"] == "True"
    assert len(await _orders_at_exchange(sim, account.account_id)) == 2


async def test_reducing_allows_only_sells_halted_none_and_arming_needs_a_reason(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "BTC": "0.05"})
    async with started(engine_for(sim, account, tmp_path)) as engine:
        reduced = await engine.command(CommandName.REDUCE, {"reason": "too hot"})
        assert (reduced.outcome, reduced.message) == (Outcome.OK, "trading REDUCING: too hot")
        buy = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert buy.outcome is Outcome.REFUSED
        assert buy.message == (
            "refused by risk: TRADING_STATE: trading is REDUCING (too hot): only sells, which "
            "reduce positions, may be placed"
        )
        sell = await submit(engine, symbol=BTC, side="sell", type="market", quantity="0.001")
        assert sell.outcome is Outcome.OK, sell.message
        halted = await engine.command(CommandName.HALT, {"reason": "stop"})
        assert halted.outcome is Outcome.OK
        again = await submit(engine, symbol=BTC, side="sell", type="market", quantity="0.001")
        assert (again.outcome, again.message) == (Outcome.REFUSED, "trading is HALTED: stop")
        preview = await submit(
            engine, symbol=BTC, side="sell", type="market", quantity="0.001", dry_run=True
        )
        assert (preview.outcome, preview.message) == (Outcome.REFUSED, "trading is HALTED: stop")
        assert preview.data["risk"]["checks"][0]["passed"] is False
        no_way = await engine.command(CommandName.REDUCE, {"reason": "softer"})
        assert no_way.outcome is Outcome.REFUSED
        assert no_way.message == "trading is HALTED (stop); only arming with a reason leaves it"
        for args in ({}, {"reason": "  "}):
            unarmed = await engine.command(CommandName.ARM, args)
            assert unarmed.outcome is Outcome.USAGE
        snapshot = await engine.snapshot()
        assert (snapshot["trading_state"], snapshot["halt_reason"]) == ("HALTED", "stop")
        assert snapshot["risk"]["trading"]["reason"] == "stop"
    async with started(engine_for(sim, account, tmp_path)) as engine:
        snapshot = await engine.snapshot()
        assert (snapshot["trading_state"], snapshot["halt_reason"]) == ("HALTED", "stop")
        armed = await engine.command(CommandName.ARM, {"reason": "calm again"})
        assert (armed.outcome, armed.message) == (Outcome.OK, "trading ACTIVE: calm again")
        buy = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert buy.outcome is Outcome.OK, buy.message
    assert len(await _orders_at_exchange(sim, account.account_id)) == 2


async def test_a_daily_loss_breach_moves_to_reducing_with_the_numbers(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000"})
    limits = WIDE_LIMITS.model_copy(update={"daily_loss_limit": Decimal(50)})
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        bought = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.01")
        assert bought.outcome is Outcome.OK, bought.message
        await sim.admin.set_price(BTC, "85000")
        more = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert more.outcome is Outcome.REFUSED
        assert more.message.startswith("refused by risk: DAILY_LOSS:"), more.message
        snapshot = await engine.snapshot()
        assert snapshot["trading_state"] == "REDUCING"
        reason = snapshot["risk"]["trading"]["reason"]
        assert reason.startswith("daily loss ") and reason.endswith(" reached the limit 50 USDT")
        assert Decimal(reason.split()[2]) > 50
        sell = await submit(engine, symbol=BTC, side="sell", type="market", quantity="0.005")
        assert sell.outcome is Outcome.OK, sell.message
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        assert (await engine.snapshot())["trading_state"] == "REDUCING"


async def test_counters_survive_a_restart_and_roll_over_with_the_day(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "10000", "BTC": "0.01"})
    clock = ShiftedClock()
    limits = WIDE_LIMITS.model_copy(update={"max_trades_per_day": 2})
    async with started(engine_for(sim, account, tmp_path, risk=limits, clock=clock)) as engine:
        for side in ("buy", "sell", "buy"):
            placed = await submit(engine, symbol=BTC, side=side, type="market", quantity="0.001")
            assert placed.outcome is Outcome.OK, placed.message
        day = (await engine.snapshot())["risk"]["day"]
        assert (day["trades"], day["orders"]) == (2, 3)
    async with started(engine_for(sim, account, tmp_path, risk=limits, clock=clock)) as engine:
        snapshot = await engine.snapshot()
        assert (snapshot["risk"]["day"]["trades"], snapshot["risk"]["day"]["orders"]) == (2, 3)
        trades = next(g for g in snapshot["risk"]["gauges"] if g["name"] == "trades")
        assert (trades["value"], trades["limit"], trades["level"]) == ("2", "2", "breach")
        third = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert third.outcome is Outcome.REFUSED
        assert third.message.startswith("refused by risk: DAILY_TRADES:"), third.message
        today = snapshot["risk"]["day"]["day"]
    clock.shift = timedelta(days=1)
    async with started(engine_for(sim, account, tmp_path, risk=limits, clock=clock)) as engine:
        day = (await engine.snapshot())["risk"]["day"]
        assert day["day"] == (datetime.fromisoformat(today) + timedelta(days=1)).date().isoformat()
        assert (day["trades"], day["orders"]) == (0, 0)
        placed = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert placed.outcome is Outcome.OK, placed.message


async def test_the_order_rate_window_survives_a_restart(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    """The last minute's order times come back from the journaled intents, so a restart does
    not reopen the per-minute limit."""
    account = await new_account(sim, {"USDT": "10000"})
    limits = WIDE_LIMITS.model_copy(update={"max_orders_per_minute": 2})
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        for _ in range(2):
            placed = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
            assert placed.outcome is Outcome.OK, placed.message
    async with started(engine_for(sim, account, tmp_path, risk=limits)) as engine:
        third = await submit(engine, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert third.outcome is Outcome.REFUSED
        assert third.message.startswith(
            "refused by risk: ORDER_RATE: 2 orders sent in the last 60 s"
        ), third.message
        assert _check(third.data, "ORDER_RATE")["values"]["sent"] == "2"


async def _ticker_requests_during(sim: SimServer, engine: Any, previews: int) -> int:
    """How many all-symbol price requests `previews` dry runs make (a zero-second delay rule
    on the path counts them down)."""
    await sim.admin.add_fault(
        "delay", method="GET", path="/api/v3/ticker/price", seconds=0, count=1000
    )
    for _ in range(previews):
        preview = await submit(
            engine, symbol=BTC, side="buy", type="market", quantity="0.001", dry_run=True
        )
        assert preview.outcome is Outcome.OK, preview.message
    (rule,) = (await sim.admin.faults())["rules"]
    await sim.admin.clear_faults()
    return 1000 - int(rule["remaining"])


async def test_prices_read_over_rest_serve_orders_while_as_fresh_as_a_mark(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    """Without streamed marks each order reads its own symbol's price (one request each) and
    risk needs every held asset's (ETH): one all-symbol lookup serves the decisions that follow
    for as long as a streamed mark would be trusted, and no longer."""
    account = await new_account(sim, {"USDT": "10000", "ETH": "1"})
    async with started(engine_for(sim, account, tmp_path, mark_max_age_s=3600.0)) as engine:
        assert await _ticker_requests_during(sim, engine, 3) == 3 + 1
    async with started(engine_for(sim, account, tmp_path / "b", mark_max_age_s=0.0)) as engine:
        assert await _ticker_requests_during(sim, engine, 3) == 3 + 3
