"""How the engine process sets up Python's garbage collector once it has started.

The engine allocates a few dozen short-lived containers per stream event (reports, events,
payloads, journal futures) that live until their group commit, a few milliseconds. With the
default thresholds (a young collection every 700 net allocations) nearly all of them are
still alive at each young collection, so they are promoted and later traversed again by full
collections that also walk every module, class and setting loaded at start; that cost about
a fifth of the event pipeline's CPU time. Freezing the start-up heap takes it out of every later
collection, and a larger young generation lets the in-flight objects die before they are
looked at.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
"""Net allocations between young collections (CPython's default is 700)."""


def settle_heap() -> None:
    """Collect once, move every surviving object to the permanent generation (never scanned
    again), and widen the young generation. Called once the engine has started, by `engine
    run` (the engine's own process), and by the desk's own process after its first frame
    (`tui.launch`): it changes process-wide state, so never from library code or from a
    process that runs other things too (a test session)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
