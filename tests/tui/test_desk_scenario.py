"""The scripted session (`tui.scenario`) speaks exactly what a real engine sends: the same keys in
its snapshot, events and dry run, so the screenshots and snapshot tests cannot drift from the
engine they picture."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desk_testkit import World
from engine_testkit import submit

from engine.core import events as core_events
from engine.service import events as service_events
from engine.service.api import CommandName
from tui import scenario, scenario_answers


def keys_missing(script: Any, real: Any, where: str = "snapshot") -> list[str]:
    """Where the script has a key the engine does not send, or lacks one the engine sends."""
    if isinstance(script, Mapping) and isinstance(real, Mapping):
        problems = [f"{where}.{key}: not sent by the engine" for key in script if key not in real]
        problems += [f"{where}.{key}: missing in the script" for key in real if key not in script]
        for key in script.keys() & real.keys():
            problems += keys_missing(script[key], real[key], f"{where}.{key}")
        return problems
    if isinstance(script, list) and isinstance(real, list) and script and real:
        return keys_missing(script[0], real[0], f"{where}[0]")
    return []


async def test_the_script_has_the_engine_s_shapes(desk_world: World) -> None:
    engine = desk_world.engine
    await submit(engine, symbol="BTCUSDT", side="BUY", type="limit", quantity="0.01", price="90000")
    protected = await engine.command(
        CommandName.SET_PROTECTION,
        {"symbol": "BTCUSDT", "stop_loss": "90000", "take_profit": "100000"},
    )
    assert protected.ok, protected.message
    real = await engine.snapshot()
    real.pop("housekeeping")  # memory figures the desk does not show
    real["marks"] = real["marks"] or [{"symbol": "", "bid": 0, "ask": 0, "last": 0, "age_s": 0}]
    # The engine's risk section also carries its day counters and limits; the desk reads gauges.
    script = scenario.normal()
    script_risk, real_risk = script.pop("risk"), real.pop("risk")
    assert keys_missing(script, real) == []
    assert keys_missing(script_risk["gauges"], real_risk["gauges"], "risk.gauges") == []
    assert keys_missing(script_risk["trading"], real_risk["trading"], "risk.trading") == []
    preview = await engine.command(
        CommandName.SUBMIT_ORDER,
        {**scenario_answers.TICKET_ORDER, "quantity": "1", "dry_run": True},
    )
    scripted = scenario_answers.ticket_preview()
    data, real_data = dict(scripted.data), dict(preview.data)
    assert [c["rule"] for c in data["risk"]["checks"]] == [
        c["rule"] for c in real_data["risk"]["checks"]
    ]
    assert keys_missing(data, real_data, "dry run") == []
    assert scripted.message.startswith("refused by risk: ORDER_VALUE: ")


def test_the_script_s_events_are_engine_events() -> None:
    """Each scripted event names an engine event class, with its alarm flag."""
    for event in scenario.halted_events():
        kind = getattr(core_events, event["event"], None) or getattr(
            service_events, event["event"], None
        )
        assert kind is not None, event["event"]
        assert event["alarm"] is kind.is_alarm, event["event"]
