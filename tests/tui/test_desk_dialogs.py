"""Every action and dialog of the desk, driven by keys over the scripted engine (`tui.scenario`),
asserting on what the desk shows and on exactly the commands it sends."""

from __future__ import annotations

import io

from desk_testkit import scripted_desk, sent, shown, until
from rich.console import Console
from textual.command import CommandList
from textual.widgets import HelpPanel, Input
from textual.widgets._footer import FooterKey
from textual.widgets._key_panel import BindingsTable

from engine.service.api import CommandName, CommandResult, Outcome
from tui import scenario
from tui.app import DeskApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.desk import DeskScreen
from tui.screens.live import LiveScreen
from tui.screens.protection import ProtectionScreen
from tui.screens.quit import QuitScreen
from tui.screens.reason import ReasonScreen
from tui.widgets.difftable import DiffTable
from tui.widgets.eventlog import EventLog
from tui.widgets.loglines import LogLines


def text_of(app: DeskApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def answer_with(pilot: object, app: DeskApp, screen_type: type, keys: list[str]) -> None:
    await until(pilot, lambda: isinstance(app.screen, screen_type), screen_type.__name__)  # type: ignore[arg-type]
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await until(pilot, lambda: not isinstance(app.screen, screen_type), "the dialog to close")  # type: ignore[arg-type]


# -- halt, arm, reconcile ----------------------------------------------------------------------


async def test_halt_asks_why_and_sends_one_halt_with_the_reason() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("h")
        await answer_with(pilot, app, ReasonScreen, ["escape"])
        await pilot.press("h")
        await answer_with(pilot, app, ReasonScreen, ["enter"])  # nothing typed: no halt
        assert sent(client) == []
        await pilot.press("h")
        await answer_with(pilot, app, ReasonScreen, [*"lunch break", "enter"])
    assert sent(client) == [(CommandName.HALT, {"reason": "lunch break"})]


async def test_arm_applies_only_when_not_active_and_sends_the_reason() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("a")  # ACTIVE already: arm is greyed out
        await pilot.pause()
        assert not isinstance(app.screen, ReasonScreen)
    assert sent(client) == []
    app, client = scripted_desk(halted=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("h")  # HALTED already: halt is greyed out
        await pilot.pause()
        assert not isinstance(app.screen, ReasonScreen)
        await pilot.press("a")
        await answer_with(pilot, app, ReasonScreen, [*"breaker checked", "enter"])
    assert sent(client) == [(CommandName.ARM, {"reason": "breaker checked"})]


async def test_reconcile_now_sends_one_reconcile() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("r")
        await until(pilot, lambda: sent(client) != [], "the command")
    assert sent(client) == [(CommandName.RECONCILE, {})]


# -- quit ----------------------------------------------------------------------------------------


async def test_quit_asks_and_leaving_the_engine_running_sends_nothing() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("q")
        await answer_with(pilot, app, QuitScreen, ["escape"])  # stay
        assert app.is_running
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        assert app.focused is not None and app.focused.id == "leave"
        await pilot.press("enter")
        await until(pilot, lambda: not app.is_running, "the desk to exit")
    assert app.return_code == 0
    assert sent(client) == []


async def test_quit_stopping_the_engine_sends_one_stop() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        await pilot.press("tab", "enter")  # "Stop engine"
        await until(pilot, lambda: not app.is_running, "the desk to exit")
    assert sent(client) == [(CommandName.STOP_ENGINE, {})]


async def test_a_refused_stop_keeps_the_desk_open() -> None:
    def refuse(name: CommandName, args: object) -> CommandResult:
        return CommandResult(Outcome.REFUSED, "not now")

    app, client = scripted_desk(answer=refuse)
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: sent(client) != [], "the stop")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, DeskScreen)


# -- close position ------------------------------------------------------------------------------


async def test_closing_a_protected_position_clears_its_protection_then_sells() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        app.screen.query_one("#positions-table").focus()  # BTCUSDT, under an OCO
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert text_of(app, ".dialog-body") == (
            "1. Clear its protection (SL 92000 TP 101000): the orders that lock it.\n"
            "2. SELL 0 of 0.02 BTC (BTCUSDT) at market, mark 95000, on SIM."
        )
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")  # focus starts on Cancel
        await pilot.pause()
        assert sent(client) == []
        await pilot.press("x")
        await answer_with(pilot, app, ConfirmScreen, ["y"])
        await until(pilot, lambda: len(sent(client)) == 2, "both commands")
    assert sent(client) == [
        (CommandName.CLEAR_PROTECTION, {"symbol": "BTCUSDT"}),
        (CommandName.CLOSE_POSITION, {"symbol": "BTCUSDT"}),
    ]


async def test_closing_an_unprotected_position_sells_only() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        app.screen.query_one("#positions-table").focus()
        await pilot.press("down", "x")  # ETHUSDT
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert text_of(app, ".dialog-body") == (
            "SELL 0.4 of 0.4 ETH (ETHUSDT) at market, mark 3500, on SIM."
        )
        await answer_with(pilot, app, ConfirmScreen, ["y"])
        await until(pilot, lambda: sent(client) != [], "the close")
    assert sent(client) == [(CommandName.CLOSE_POSITION, {"symbol": "ETHUSDT"})]


async def test_no_close_is_asked_of_a_halted_engine() -> None:
    app, client = scripted_desk(halted=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        app.screen.query_one("#positions-table").focus()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, DeskScreen)
    assert sent(client) == []


# -- protection ----------------------------------------------------------------------------------


async def open_protection(pilot: object, app: DeskApp, row: int = 0) -> ProtectionScreen:
    table = app.screen.query_one("#positions-table", DiffTable)
    table.focus()
    table.move_cursor(row=row)
    await pilot.press("p")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, ProtectionScreen), "the dialog")  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, ProtectionScreen)
    return screen


async def test_changing_sl_tp_asks_then_sends_one_set_protection() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        dialog = await open_protection(pilot, app)
        stop = dialog.query_one("#stop-loss", Input)
        assert (stop.value, dialog.query_one("#take-profit", Input).value) == ("92000", "101000")
        assert app.focused is stop
        stop.value = ""
        await pilot.press(*"96000")
        assert str(dialog.query_one("#protection-plan").render()) == (
            "Not sendable: the stop-loss 96000 must be below the mark 95000"
        )
        await pilot.press("enter")  # refused locally: no question, nothing sent
        await pilot.pause()
        assert app.screen is dialog
        stop.value = ""
        await pilot.press(*"93000", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert text_of(app, ".dialog-body") == (
            "SELL 0.02 BTC (BTCUSDT): a stop-loss at 93000 and a take-profit at 101000 (one "
            "cancels the other). It replaces the current protection."
        )
        await answer_with(pilot, app, ConfirmScreen, ["escape"])  # no: back in the dialog
        assert app.screen is dialog and sent(client) == []
        await pilot.press("enter")
        await answer_with(pilot, app, ConfirmScreen, ["y"])
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
    assert sent(client) == [
        (
            CommandName.SET_PROTECTION,
            {"symbol": "BTCUSDT", "stop_loss": "93000", "take_profit": "101000"},
        )
    ]


async def test_a_trailing_stop_and_clearing_go_through_their_own_commands() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        dialog = await open_protection(pilot, app, row=1)  # ETHUSDT, unprotected
        dialog.query_one("#trailing-percent", Input).focus()
        await pilot.press("2", "enter")
        await answer_with(pilot, app, ConfirmScreen, ["y"])
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
        dialog = await open_protection(pilot, app)  # BTCUSDT
        dialog.query_one("#clear").focus()
        await pilot.press("enter")
        await answer_with(pilot, app, ConfirmScreen, ["y"])
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
        await open_protection(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
    assert sent(client) == [
        (CommandName.SET_PROTECTION, {"symbol": "ETHUSDT", "trailing_percent": "2"}),
        (CommandName.CLEAR_PROTECTION, {"symbol": "BTCUSDT"}),
    ]


# -- keys: footer, keys panel, command palette -----------------------------------------------------

DESK_ACTIONS = {
    "n": "New order",
    "c": "Cancel",
    "C": "Cancel all",
    "x": "Close",
    "p": "SL/TP",
    "h": "Halt",
    "a": "Arm",
    "r": "Reconcile",
    "ctrl+k": "EMERGENCY STOP",
    "f1": "Keys",
    "q": "Quit",
}


async def test_every_action_has_an_id_and_is_in_the_footer_the_keys_panel_and_the_palette() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        active = app.screen.active_bindings
        for key, description in DESK_ACTIONS.items():
            binding = active[key].binding
            assert binding.description == description
            assert binding.id is not None and binding.id.split(".")[0] in ("app", "desk")
            assert binding.tooltip
        await until(pilot, lambda: bool(app.screen.query(FooterKey)), "the footer's keys")
        footer = {(k.key, k.description) for k in app.screen.query(FooterKey)}
        assert set(DESK_ACTIONS.items()) <= footer
        await pilot.press("f1")
        await until(pilot, lambda: bool(app.screen.query(HelpPanel)), "the keys panel")
        table = app.screen.query_one(BindingsTable).render_bindings_table()
        out = io.StringIO()
        Console(file=out, width=200, color_system=None).print(table)
        assert all(description in out.getvalue() for description in DESK_ACTIONS.values())
        await pilot.press("f1")
        await until(pilot, lambda: not app.screen.query(HelpPanel), "the panel to go")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        greyed = "Arm (a)"  # ACTIVE: arming does not apply, so the palette leaves it out
        for key, description in DESK_ACTIONS.items():
            title = f"{description} ({app.get_key_display(active[key].binding)})"
            assert (title in commands) is (title != greyed), title
        await pilot.press("ctrl+p", *"reconcile")
        matches = app.screen.query_one(CommandList)
        await until(pilot, lambda: matches.option_count == 1, "one match")
        await pilot.press("enter")
        await until(pilot, lambda: sent(client) != [], "the palette's command")
    assert sent(client) == [(CommandName.RECONCILE, {})]


# -- panes ---------------------------------------------------------------------------------------


def log_lines(app: DeskApp) -> list[str]:
    return [line.rstrip() for line in app.screen.query_one("#log-lines", LogLines).lines]


async def test_the_event_log_filters_by_level_and_symbol() -> None:
    app, client = scripted_desk(halted=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await shown(pilot, app, client)
        assert len(log_lines(app)) == len(scenario.halted_events())
        await pilot.press("l")  # warning and above
        assert log_lines(app) == [
            "11:59:18 !  OrderStateUnknown BUY 0.1 ETHUSDT LIMIT @ 3450 [UNKNOWN] sd-t8k2p41-10",
            f"11:59:20 !  Trading ACTIVE -> HALTED: {scenario.HALT_REASON}",
            "11:59:20 !! EngineAlarm: breaker trading halted: the exchange stopped answering",
        ]
        assert app.screen.query_one(EventLog).border_subtitle == "level warning+"
        await pilot.press("l", "l")  # alarm, then back to info
        app.screen.query_one("#log-symbol").focus()
        await pilot.press(*"eth")
        assert log_lines(app) == [
            "11:04:00    OrderCanceled SELL 0.1 ETHUSDT LIMIT @ 3600 [CANCELED] sd-t8k2p41-4",
            "11:05:00    OrderAccepted BUY 0.4 ETHUSDT MARKET [FILLED] sd-t8k2p41-5",
            "11:05:00    Fill BUY 0.4 ETHUSDT @ 3412.5 fee 1.365 USDT",
            "11:59:13    OrderSubmitted BUY 0.1 ETHUSDT LIMIT @ 3450 [PENDING_NEW] sd-t8k2p41-10",
            "11:59:18 !  OrderStateUnknown BUY 0.1 ETHUSDT LIMIT @ 3450 [UNKNOWN] sd-t8k2p41-10",
        ]


async def test_the_unresolved_pane_appears_only_when_something_is_unresolved() -> None:
    app, client = scripted_desk()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        assert not app.screen.query_one("#unresolved").display
    app, client = scripted_desk(halted=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        pane = app.screen.query_one("#unresolved")
        assert pane.display and pane.border_title == "Unresolved (1)"
        table = app.screen.query_one("#unresolved-table")
        assert [str(c) for c in table.get_row(scenario.UNKNOWN_ID)] == [  # type: ignore[attr-defined]
            scenario.UNKNOWN_ID,
            "ETHUSDT",
            "UNKNOWN",
            "DESK",
            "2026-01-05 11:59:13",
        ]


async def test_the_header_shows_mode_links_budget_and_breaker() -> None:
    app, client = scripted_desk(halted=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await shown(pilot, app, client)
        segments = {
            w.id: (str(w.render()), w.has_class("bad"))
            for w in app.screen.query(".link")
            if w.display
        }
        assert segments == {
            "link-rest": ("REST DEGRADED 48s", True),
            "link-user": ("user ok 1s", False),
            "link-market": ("market ok 0s", False),
            "breaker": ("BREAKER OPEN", True),
            "clock": ("clock -4ms", False),
            "weight": ("weight 212/6000", False),
        }
        assert text_of(app, "#trading-state").startswith(" HALTED  circuit breaker: 5 venue")
        assert app.screen.query_one("#trading-state").has_class("state-halted")
    live = scenario.normal()
    live["mode"] = "live"
    live["rate_budget"].update(state="BANNED", banned_for_s=42.4)
    app, client = scripted_desk(snapshot=live)
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        assert text_of(app, "#mode") == " LIVE "
        assert app.screen.query_one("#mode").has_class("mode-live")
        assert app.screen.query_one("#header").has_class("mode-live")
        assert text_of(app, "#budget") == "BANNED 42s"
        assert app.screen.query_one("#budget").has_class("bad")


async def test_a_waiting_live_engine_asks_for_the_typed_word_and_sends_what_was_typed() -> None:
    waiting = scenario.normal()
    waiting.update(mode="live", trading_state="HALTED", halt_reason="LIVE: waiting")
    waiting["live"] = {"state": "awaiting_confirmation", "confirm_word": "LIVE"}
    confirm = CommandName("ConfirmLive")

    def gate(name: CommandName, args: dict[str, object]) -> CommandResult:
        if name is confirm and args.get("typed") == "LIVE":
            return CommandResult(Outcome.OK, "LIVE confirmed: the engine is starting")
        return CommandResult(Outcome.REFUSED, "type LIVE exactly")

    app, client = scripted_desk(snapshot=waiting, answer=gate)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, app, client)
        await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the question")
        assert text_of(app, "#live") != ""
        await pilot.press("escape")  # not now: the header says so, L asks again
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
        desk = app.screen
        assert str(desk.query_one("#live").render()) == "LIVE NOT CONFIRMED (L)"
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the question again")
        await pilot.press(*"live", "enter")
        answer = app.screen.query_one("#live-answer")
        await until(pilot, lambda: str(answer.render()) == "type LIVE exactly", "the refusal")
        app.screen.query_one("#typed", Input).value = ""
        await pilot.press(*"LIVE", "enter")
        await until(pilot, lambda: isinstance(app.screen, DeskScreen), "the desk")
    assert sent(client) == [(confirm, {"typed": "live"}), (confirm, {"typed": "LIVE"})]
