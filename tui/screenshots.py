"""Draw the desk from the scripted session (`tui.scenario`): `python -m tui.screenshots`.

Every value on screen comes from the script and a frozen desk clock, and the cursor does not
blink, so each frame is the same byte for byte on every run. Views: the desk, the emergency stop
dialog, the desk HALTED by the circuit breaker, and the order ticket with a refused preview.

- `python -m tui.screenshots` writes the README's set (80x24 and 160x50, SVG) to `screenshots/`;
- `python -m tui.screenshots --snapshots` rewrites what the snapshot tests compare against
  (every view at 80x24, 120x40 and 160x50, SVG plus a plain-text copy for readable diffs) in
  `tests/tui/snapshots/`. Run it after a deliberate change to the desk's looks, then review the
  text diff before committing.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pathlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input

from tui import scenario, scenario_answers
from tui.app import DeskApp
from tui.feed import FeedTiming
from tui.screens.emergency import EmergencyScreen
from tui.screens.ticket import OrderTicket

README_SIZES = ((80, 24), (160, 50))
SNAPSHOT_SIZES = ((80, 24), (120, 40), (160, 50))
FEED = FeedTiming(frame_s=0.0, refresh_s=0.2)
WAIT_S = 10.0

Stage = Callable[[DeskApp, Pilot[int]], Awaitable[None]]


@dataclass(frozen=True)
class Frame:
    """One drawn screen: as SVG (what the README shows) and as plain text (what a diff reads)."""

    svg: str
    text: str


async def until(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    """Let the desk run until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"the desk did not show {what} within {WAIT_S:g} s")
        await pilot.pause(0.02)


async def _desk(app: DeskApp, pilot: Pilot[int]) -> None:
    return None


async def _emergency(app: DeskApp, pilot: Pilot[int]) -> None:
    await pilot.press("ctrl+k")
    await until(pilot, lambda: isinstance(app.screen, EmergencyScreen), "the emergency dialog")


async def _ticket(app: DeskApp, pilot: Pilot[int]) -> None:
    order = scenario_answers.TICKET_ORDER
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the order ticket")
    ticket = app.screen
    assert isinstance(ticket, OrderTicket)
    ticket.query_one("#symbol", Input).value = order["symbol"]  # as if typed, key by key
    quantity = ticket.query_one("#quantity", Input)
    quantity.value = order["quantity"]
    app.set_focus(quantity)
    await pilot.press("end", "enter")
    await until(pilot, lambda: ticket.preview_shown is not None, "the engine's preview")


VIEWS: dict[str, tuple[bool, Stage]] = {
    # name: (the halted script?, what to do before drawing)
    "desk": (False, _desk),
    "emergency": (False, _emergency),
    "halted": (True, _desk),
    "ticket": (False, _ticket),
}


def _text(app: DeskApp) -> str:
    """The screen as plain text, drawn the way `App.export_screenshot` draws its SVG."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # Textual (pinned) has no public text export; this mirrors its export_screenshot.
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)


async def draw(view: str, size: tuple[int, int]) -> Frame:
    """The desk showing `view` at `size` (columns, rows)."""
    halted, stage = VIEWS[view]
    client = scenario.client(halted_state=halted)
    app = DeskApp(lambda: client, clock=scenario.frozen_clock, timing=FEED)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.desk_state.event_seq == client.last_seq, "the script")
        await stage(app, pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor would make frames differ
        await pilot.pause()
        frame = Frame(app.export_screenshot(title="spotdesk"), _text(app))
    return frame


def frame_name(view: str, size: tuple[int, int]) -> str:
    return f"{view}-{size[0]}x{size[1]}"


async def write(
    out_dir: pathlib.Path, sizes: Iterable[tuple[int, int]], *, text: bool
) -> list[pathlib.Path]:
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    for view in VIEWS:
        for size in sizes:
            frame = await draw(view, size)
            name = frame_name(view, size)
            files = [(out_dir / f"{name}.svg", frame.svg)]
            if text:
                files.append((out_dir / f"{name}.txt", frame.text))
            for path, content in files:
                await asyncio.to_thread(path.write_text, content, encoding="utf-8")
                written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, help="directory (default: see --snapshots)")
    parser.add_argument(
        "--snapshots",
        action="store_true",
        help="every size, SVG and text, into tests/tui/snapshots (the snapshot tests' reference)",
    )
    args = parser.parse_args()
    if args.snapshots:
        out = args.out or pathlib.Path("tests/tui/snapshots")
        written = asyncio.run(write(out, SNAPSHOT_SIZES, text=True))
    else:
        written = asyncio.run(
            write(args.out or pathlib.Path("screenshots"), README_SIZES, text=False)
        )
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
