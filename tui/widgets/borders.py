"""`show_borders`: a pane's border title and subtitle, set only when their text changes.

Textual repaints a widget, with every child inside it, on each assignment to `border_title` or
`border_subtitle`, equal or not; set every frame, they made each pane redraw its whole table
four times a second even when no cell had moved.
"""

from __future__ import annotations

from textual.widget import Widget


def show_borders(widget: Widget, *, title: str | None = None, subtitle: str | None = None) -> None:
    """Set what is given and differs from what is shown (None: leave it as it is)."""
    if title is not None and widget.border_title != title:
        widget.border_title = title
    if subtitle is not None and widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle
