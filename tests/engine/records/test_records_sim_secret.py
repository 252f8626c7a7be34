"""The embedded exchange an engine starts gets its demo key from a private file: the key and
secret appear neither on its command line (readable by every user in `ps`) nor in its log."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket

from engine.config import Settings, SimSettings
from engine.service.control_sim import ensure_embedded_exchange


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _read(path: pathlib.Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _cmdline(pid: int) -> list[str]:
    raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode() for part in raw.split(b"\0") if part]


async def test_no_demo_secret_on_the_command_line_or_in_the_log(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data, sim=SimSettings(port=_free_port()))  # type: ignore[call-arg]
    exchange = await ensure_embedded_exchange(settings)
    pid = exchange.started_pid
    assert pid is not None
    try:
        key = exchange.settings.api_key
        secret = exchange.settings.api_secret
        assert key is not None and secret is not None
        values = [key.get_secret_value(), secret.get_secret_value()]
        log = data / "sim" / "sim.log"
        for _ in range(200):  # the banner follows the first answer by a moment
            if "Press Ctrl-C" in await asyncio.to_thread(_read, log):
                break
            await asyncio.sleep(0.02)
        text = await asyncio.to_thread(_read, log)
        argv = await asyncio.to_thread(_cmdline, pid)
        assert f"  API key and secret in {data / 'sim' / 'credentials.json'}" in text
        assert argv[argv.index("--credentials") + 1] == str(data / "sim" / "credentials.json")
        assert [value in text or any(value in word for word in argv) for value in values] == [
            False,
            False,
        ]
    finally:
        os.kill(pid, signal.SIGTERM)
        await asyncio.to_thread(os.waitpid, pid, 0)
