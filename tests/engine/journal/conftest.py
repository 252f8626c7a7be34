"""Fixtures for the journal tests: a deterministic clock and a journal in a private tmp dir."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest
from journal_testing import TickingClock

from engine.journal import Journal


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def journal_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "data" / "sim-default" / "journal.sqlite3"


@pytest.fixture
async def journal(journal_path: pathlib.Path, clock: TickingClock) -> AsyncIterator[Journal]:
    opened = await Journal.open(journal_path, mode="sim", account="default", clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
