"""The desk's start does not import python-binance: only the engine and the sim talk to Binance,
and its import (requests, dateparser, its clients) was a tenth of the time to the first frame."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_desk_imports_no_binance_client() -> None:
    probe = (
        "import sys, tui.main, tui.app, tui.launch; "
        "print(sorted(m for m in sys.modules if m == 'binance' or m.startswith('binance.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
