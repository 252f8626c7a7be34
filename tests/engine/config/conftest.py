"""Fixtures for the configuration, modes, permissions and preflight tests.

`tests/engine/service` goes on sys.path for its `engine_testkit`. Every test runs in its own
private working directory with no SPOTDESK_* variable inherited, and as a non-root user as far
as spotdesk can tell (CI containers often run as root, which LIVE refuses; tests about root
say so themselves).
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import AsyncIterator

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "service"))

from engine.security import permissions
from engine.sim.runner import SimServer


@pytest.fixture(autouse=True)
def workdir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A private, empty working directory (where `.env` is looked for), a clean environment."""
    for name in list(os.environ):
        if name.upper().startswith("SPOTDESK_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir(mode=0o700)
    monkeypatch.chdir(work)
    monkeypatch.setattr(permissions, "running_as_root", lambda: False)
    return work


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """The embedded exchange on the real clock (the clock check measures the true offset)."""
    async with SimServer(port=0, seed=7, frozen_market=True) as server:
        yield server
