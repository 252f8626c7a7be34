"""What keeps a frame cheap: the event log's view refilled without a layout pass, border texts
set only when they change, and the heap settled once after the first frame with data."""

from __future__ import annotations

from typing import Any

from desk_testkit import QUICK_FEED, frozen_clock, shown, until
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region, Size

from tui import scenario
from tui.app import DeskApp
from tui.scripted import ScriptedClient
from tui.state import DeskState, LogLine
from tui.widgets.borders import show_borders
from tui.widgets.eventlog import SHOWN_LINES, EventLog
from tui.widgets.loglines import LogLines


class _SpiedLines(LogLines):
    """Records every refresh that asks for a layout pass."""

    def __init__(self, max_lines: int) -> None:
        super().__init__(max_lines)
        self.layouts = 0

    def refresh(self, *regions: Region, **options: Any) -> Any:
        self.layouts += bool(options.get("layout"))
        return super().refresh(*regions, **options)


class _LinesApp(App[None]):
    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.view = _SpiedLines(max_lines)

    def compose(self) -> ComposeResult:
        yield self.view


async def test_refilling_the_log_with_as_many_lines_costs_no_layout() -> None:
    app = _LinesApp(max_lines=5)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view
        view.set_lines([f"line {n}" for n in range(8)])
        await pilot.pause()
        assert view.lines == ("line 3", "line 4", "line 5", "line 6", "line 7")
        assert view.virtual_size == Size(6, 5)
        before = view.layouts
        view.set_lines([f"next {n}" for n in range(5)])  # same count, same width
        view.set_lines(["a", "b", "c", "d", "e"])  # narrower: the width stays
        await pilot.pause()
        assert view.layouts == before
        assert view.lines == ("a", "b", "c", "d", "e")
        assert view.virtual_size == Size(6, 5)
        view.set_lines(["only one"])  # fewer lines (a new filter): the size follows
        await pilot.pause()
        assert view.virtual_size == Size(8, 1)
        assert view.layouts == before + 1


async def test_control_characters_never_reach_the_terminal() -> None:
    app = _LinesApp(max_lines=5)
    async with app.run_test(size=(40, 10)) as pilot:
        app.view.set_lines(["\x1b[31mred\x07 bell\ttab", "c1 \x9b2J csi"])
        await pilot.pause()
        assert app.view.lines == ("\ufffd[31mred\ufffd bell\ufffdtab", "c1 \ufffd2J csi")


async def test_appended_lines_are_made_safe_and_bounded_and_widen_the_view() -> None:
    app = _LinesApp(max_lines=4)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view
        view.set_lines(["a", "b"])
        view.append_lines(["c\x1b[2J", "d"])
        view.append_lines([])  # nothing new: nothing changes
        await pilot.pause()
        assert view.lines == ("a", "b", "c\ufffd[2J", "d")
        assert view.virtual_size == Size(5, 4)
        view.append_lines([f"new {n}" for n in range(6)])  # more than the view holds at once
        await pilot.pause()
        assert view.lines == ("new 2", "new 3", "new 4", "new 5")
        assert view.virtual_size == Size(5, 4)
        view.append_lines(["a wider line"])
        await pilot.pause()
        assert view.lines == ("new 3", "new 4", "new 5", "a wider line")
        assert view.virtual_size == Size(12, 4)


async def test_the_log_follows_its_end_until_scrolled_away() -> None:
    app = _LinesApp(max_lines=100)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view
        view.set_lines([f"line {n}" for n in range(50)])
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y > 0
        view.scroll_to(y=0, animate=False, immediate=True)
        view.set_lines([f"line {n}" for n in range(60)])
        await pilot.pause()
        assert view.scroll_y == 0  # the operator is reading back: left where it was


class _PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Vertical(id="pane")


async def test_border_texts_are_set_only_when_they_change() -> None:
    app = _PaneApp()
    async with app.run_test(size=(40, 10)) as pilot:
        pane = app.query_one("#pane")
        refreshes: list[object] = []
        original = pane.refresh

        def spy(*regions: Region, **options: Any) -> Any:
            refreshes.append(options)
            return original(*regions, **options)

        pane.refresh = spy  # type: ignore[method-assign]
        show_borders(pane, title="Orders (2)", subtitle="STALE")
        show_borders(pane, title="Orders (2)", subtitle="STALE")
        show_borders(pane, subtitle="")
        await pilot.pause()
        assert (pane.border_title, pane.border_subtitle) == ("Orders (2)", "")
        assert len(refreshes) == 3  # title, subtitle, then the subtitle cleared


class _LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog()


def _lines(count: int) -> tuple[LogLine, ...]:
    return tuple(
        LogLine(n, "2026-01-05T11:00:00+00:00", "OrderUpdated", "info", "BTCUSDT", f"event {n}")
        for n in range(1, count + 1)
    )


async def test_a_flood_keeps_the_last_lines_and_a_stale_log_says_so_at_every_level() -> None:
    app = _LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)
        log.show_state(DeskState(log=_lines(10), event_seq=10, stale_reason=None))
        log.show_state(DeskState(log=_lines(SHOWN_LINES + 50), event_seq=SHOWN_LINES + 50))
        await pilot.pause()
        lines = app.query_one(LogLines).lines
        assert len(lines) == SHOWN_LINES
        assert (lines[0], lines[-1]) == ("11:00:00    event 51", "11:00:00    event 350")
        log.show_state(DeskState(log=_lines(3), event_seq=3, stale_reason="engine not answering"))
        log.next_level()
        assert log.border_subtitle == "STALE  level warning+"


class _CountingClient(ScriptedClient):
    snapshots = 0

    async def snapshot(self) -> dict[str, Any]:
        self.snapshots += 1
        return await super().snapshot()


async def test_the_heap_is_settled_once_after_the_first_frame_with_data() -> None:
    client = _CountingClient(scenario.normal(), scenario.events())
    settled: list[DeskState] = []
    app: DeskApp = DeskApp(
        lambda: client,
        clock=frozen_clock,
        timing=QUICK_FEED,
        after_first_frame=lambda: settled.append(app.desk_state),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot, app, client)
        await until(pilot, lambda: settled != [], "the first frame")
        snapshots = client.snapshots
        await until(pilot, lambda: client.snapshots > snapshots + 1, "two more frames")
        assert len(settled) == 1
        assert settled[0].snapshot is not None
