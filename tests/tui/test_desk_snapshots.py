"""Snapshot tests: the desk drawn from the scripted session (`tui.scenario`) must match the frames
committed in `tests/tui/snapshots/`, byte for byte, at 80x24, 120x40 and 160x50: the normal desk,
the emergency stop dialog, the desk HALTED by the circuit breaker, and the order ticket with a
refused preview. Every value on screen comes from the script and a frozen clock.

After a deliberate change to the desk's looks, redraw the references with
`python -m tui.screenshots --snapshots` and review the `.txt` diffs before committing.
"""

from __future__ import annotations

import difflib
import pathlib

import pytest

from tui.screenshots import SNAPSHOT_SIZES, VIEWS, draw, frame_name

SNAPSHOTS = pathlib.Path(__file__).with_name("snapshots")
UPDATE = "python -m tui.screenshots --snapshots"


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
async def test_the_desk_looks_as_committed(view: str, size: tuple[int, int]) -> None:
    name = frame_name(view, size)
    frame = await draw(view, size)
    expected_text = (SNAPSHOTS / f"{name}.txt").read_text(encoding="utf-8")
    if frame.text != expected_text:
        diff = difflib.unified_diff(
            expected_text.splitlines(),
            frame.text.splitlines(),
            f"committed {name}.txt",
            "drawn now",
            lineterm="",
        )
        pytest.fail(f"{name} changed (if on purpose: {UPDATE}):\n" + "\n".join(diff))
    expected_svg = (SNAPSHOTS / f"{name}.svg").read_text(encoding="utf-8")
    assert frame.svg == expected_svg, f"{name}: same text, other colours or styles ({UPDATE})"
