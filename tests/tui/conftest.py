"""Fixtures for the desk tests: a started engine over the embedded exchange."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest
from desk_testkit import World, world


@pytest.fixture
async def desk_world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built
