"""Fixtures for the records tests: the process-wide crash hooks are put back after each test."""

from __future__ import annotations

import sys
import threading

import pytest


@pytest.fixture(autouse=True)
def keep_crash_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """`spotdesk`'s command line installs its crash hooks for the process; a test that runs it
    in-process must not leave them to the rest of the suite."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
