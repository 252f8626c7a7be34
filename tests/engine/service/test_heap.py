"""The engine process's garbage collector set-up: start-up heap frozen, wider young generation."""

from __future__ import annotations

import subprocess
import sys

# In a child process: settle_heap changes process-wide state this test session must keep.
_PROBE = """
import gc
from engine.service.heap import YOUNG_THRESHOLD, settle_heap
before = gc.get_threshold()
settle_heap()
print(YOUNG_THRESHOLD, before[1:] == gc.get_threshold()[1:], gc.get_threshold()[0])
print(gc.get_freeze_count() > 1000, len(gc.get_objects()) < gc.get_freeze_count())
"""


def test_settle_heap_freezes_the_start_up_heap_and_widens_the_young_generation() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.split("\n") == ["20000 True 20000", "True True", ""]
