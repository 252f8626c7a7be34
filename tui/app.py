"""`DeskApp`: wires the engine client, the feed and the screens together; nothing else lives here.

`run_desk(settings)` is the `spotdesk desk` entry point (see `tui.launch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from rich.segment import Segments
from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from engine.security.redact import redacted_traceback
from engine.service.api import CommandName, EngineClient
from tui.commands import CommandSender
from tui.feed import EngineFeed, FeedTiming
from tui.launch import run_desk
from tui.screens.desk import DeskScreen
from tui.screens.emergency import EmergencyScreen
from tui.screens.quit import QuitScreen
from tui.state import DeskState

__all__ = ["DeskApp", "run_desk"]

# S13: no screen dumps from the palette; Quit and Keys are offered as the desk's own (with keys).
HIDDEN_SYSTEM_COMMANDS = frozenset({"Screenshot", "Quit", "Keys"})
PALETTE_BINDINGS = ("app.", "desk.")  # the desk's own actions, offered in the command palette


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeskApp(App[int]):
    """The desk over one engine client; `client_factory` builds it (socket or in-process)."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "spotdesk"
    # Textual declares it ClassVar | None on App; a list literal is what it reads.
    # narrow: one column of panes; wide: two columns; full: the footer fits on one line.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (150, "-full")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+k",
            "emergency_stop",
            "EMERGENCY STOP",
            id="app.emergency_stop",
            priority=True,
            tooltip="Halt, cancel every order and verify (asks first)",
        ),
        Binding(
            "f1",
            "toggle_keys",
            "Keys",
            id="app.keys",
            tooltip="Show or hide every key of this screen",
        ),
        Binding(
            "q",
            "quit",
            "Quit",
            id="app.quit",
            tooltip="Leave the desk; asks whether the engine keeps running",
        ),
    ]

    class StateChanged(Message):
        """A new view model from the feed; a newer one replaces one not yet handled."""

        def __init__(self, state: DeskState) -> None:
            super().__init__()
            self.state = state

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DeskApp.StateChanged)

    def __init__(
        self,
        client_factory: Callable[[], EngineClient],
        *,
        clock: Callable[[], datetime] = utc_now,
        timing: FeedTiming | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        """`after_first_frame` runs once, after the first state from the engine is drawn: the
        desk's own process settles its heap there (`tui.launch`), never a shared one."""
        super().__init__()
        self._client = client_factory()
        self._clock = clock
        self._after_first_frame = after_first_frame
        self.sender = CommandSender(self._client)
        self.feed = EngineFeed(self._client, self._post_state, clock=clock, timing=timing)
        self.desk_state = DeskState()

    def get_default_screen(self) -> Screen[None]:
        return DeskScreen(self.sender, self._clock)

    def on_mount(self) -> None:
        self.run_worker(self.feed.run(), name="engine-feed", group="feed", exit_on_error=True)

    async def on_unmount(self) -> None:
        await self._client.close()

    def _post_state(self, state: DeskState) -> None:
        self.post_message(self.StateChanged(state))

    def on_desk_app_state_changed(self, message: StateChanged) -> None:
        """Attributes down: every screen that shows state gets the new one."""
        self.desk_state = message.state
        if self._after_first_frame is not None and message.state.snapshot is not None:
            self.call_after_refresh(self._after_first_frame)
            self._after_first_frame = None
        for screen in self.screen_stack:
            show = getattr(screen, "show_state", None)
            if show is not None:
                show(message.state)

    # -- actions that work from every screen ---------------------------------------------------

    def action_emergency_stop(self) -> None:
        if any(isinstance(screen, EmergencyScreen) for screen in self.screen_stack):
            return  # already asked or running: a second press does nothing more
        self.push_screen(EmergencyScreen(self.sender, self.desk_state))

    async def action_quit(self) -> None:
        self._ask_quit()

    @work(group="quit", exclusive=True)
    async def _ask_quit(self) -> None:
        if any(isinstance(screen, QuitScreen) for screen in self.screen_stack):
            return
        choice = await self.push_screen_wait(QuitScreen(len(self.desk_state.open_orders)))
        if choice is None:
            return
        if choice == "stop":
            result = await self.sender.send(CommandName.STOP_ENGINE, {})
            if not result.ok:
                self.notify(
                    result.message, title="Engine not stopped", severity="error", markup=False
                )
                return
        self.exit(0)

    def action_toggle_keys(self) -> None:
        # Imported here, as the crash printer below: the keys panel pulls in a Markdown parser,
        # and both would only slow the desk's start.
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # -- safety --------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every desk action the screen allows now (by its key), then Textual's own commands."""
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not (binding.id or "").startswith(PALETTE_BINDINGS):
                continue
            yield SystemCommand(
                f"{binding.description} ({self.get_key_display(binding)})",
                binding.tooltip or binding.description,
                partial(self.run_action, binding.action, active.node),
            )
        for command in super().get_system_commands(screen):
            if command.title not in HIDDEN_SYSTEM_COMMANDS:
                yield command

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error  # rendered by _fatal_error, redacted
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """Textual's own handler shows local variables (S12); this one never does, and masks
        every secret it knows of in what it prints."""
        from rich.traceback import Traceback

        self.bell()
        crash = getattr(self, "_crash", None)
        shown: RenderableType = (
            Traceback(show_locals=False, width=None, suppress=[])
            if crash is None
            else Text(redacted_traceback(crash))
        )
        self._exit_renderables.append(Segments(self.console.render(shown, self.console.options)))
        self._close_messages_no_wait()
