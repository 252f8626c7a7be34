"""The embedded exchange an engine in SIM mode starts: detached, with kept credentials, reused."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import socket
import stat
from collections.abc import Iterator

import pytest
from control_testkit import short_directory

from engine.config import Settings, SimSettings
from engine.service.control_errors import ControlError
from engine.service.control_sim import ensure_embedded_exchange, exchange_answers
from engine.service.control_spawn import pid_alive
from engine.sim.runner import SimServer
from engine.sim.server.admin_client import AdminClient


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def data_dir() -> Iterator[pathlib.Path]:
    with short_directory() as base:
        yield base / "data"


async def test_starts_once_keeps_its_key_and_outlives_the_caller(data_dir: pathlib.Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, sim=SimSettings(port=_free_port(), seed=3)
    )
    first = await ensure_embedded_exchange(settings)
    pid = first.started_pid
    assert pid is not None
    try:
        url = f"http://127.0.0.1:{settings.sim.port}"
        assert first.settings.sim_url == url
        assert await exchange_answers(url)
        credentials = data_dir / "sim" / "credentials.json"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        stored = json.loads(credentials.read_text())
        assert first.settings.api_key is not None and first.settings.api_secret is not None
        assert first.settings.api_key.get_secret_value() == stored["api_key"]
        assert first.settings.api_secret.get_secret_value() == stored["api_secret"]
        assert (data_dir / "sim" / "exchange.sqlite").exists()

        second = await ensure_embedded_exchange(settings)
        assert second.started_pid is None  # one answers already: reused, not started again
        assert second.settings == first.settings
        async with AdminClient(url) as admin:
            oracle = await admin.oracle()
        assert len(oracle["balances"]) == 1  # the demo account, made with the kept key
        assert pid_alive(pid)
    finally:
        os.kill(pid, signal.SIGTERM)
        await _reap(pid)


async def _reap(pid: int) -> None:
    """Wait (bounded) for our child to end, so it does not linger as a zombie."""
    await asyncio.wait_for(asyncio.to_thread(os.waitpid, pid, 0), timeout=20)


async def test_nothing_answers_on_a_closed_port() -> None:
    assert await exchange_answers(f"http://127.0.0.1:{_free_port()}") is False


async def test_a_foreign_exchange_on_the_port_is_refused_with_what_to_do(
    data_dir: pathlib.Path,
) -> None:
    """A standalone `spotdesk sim` with its own keys holds the port: say so, start nothing."""
    async with SimServer(port=0, seed=3, frozen_market=True) as foreign:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=data_dir, sim=SimSettings(port=foreign.port, seed=3)
        )
        with pytest.raises(ControlError) as refused:
            await ensure_embedded_exchange(settings)
        message = str(refused.value)
        assert f"already running on port {foreign.port}" in message
        assert f"SPOTDESK_SIM_URL=http://127.0.0.1:{foreign.port}" in message
        assert foreign.api_secret not in message
        async with AdminClient(foreign.url) as admin:
            oracle = await admin.oracle()
        assert len(oracle["orders"]) == 0
