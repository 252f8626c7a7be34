"""The embedded exchange an engine in SIM mode needs: found on its port, or started detached.

The exchange runs as its own process (`spotdesk sim`) and outlives the engine, so a killed
engine restarts against the same exchange state. Its demo key and secret are generated once and
kept in `data_dir/sim/credentials.json` (0600), so every engine start uses the same account;
the exchange started here reads them from that file, never from its command line (which other
users can read in `ps`), and its banner in `sim.log` does not repeat them.
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from engine.config import Mode, Settings
from engine.journal.files import prepare_directory
from engine.service.control_errors import ControlError
from engine.service.control_spawn import python_module_argv, spawn_detached, wait_until_ready
from engine.venue.binance import BinanceVenue
from engine.venue.endpoints import Credentials, endpoints_for
from engine.venue.errors import AuthError
from engine.venue.timing import SystemClock

SIM_DIR_NAME = "sim"
CREDENTIALS_NAME = "credentials.json"
STATE_NAME = "exchange.sqlite"
LOG_NAME = "sim.log"
_START_TIMEOUT_S = 30.0
_PING_TIMEOUT_S = 1.0


def sim_directory(data_dir: pathlib.Path) -> pathlib.Path:
    return data_dir / SIM_DIR_NAME


def load_or_create_credentials(directory: pathlib.Path) -> tuple[str, SecretStr]:
    """The demo account's API key and HMAC secret, generated on the first call and kept 0600."""
    # The sim's own file format and key shape, loaded only here.
    from engine.sim.runner import SimStartError, read_credentials_file
    from engine.sim.server.admin import generate_key

    prepare_directory(directory)
    path = directory / CREDENTIALS_NAME
    if path.exists():
        try:
            api_key, api_secret = read_credentials_file(path)
        except SimStartError as error:
            raise ControlError(str(error)) from None
        return api_key, SecretStr(api_secret)
    body = json.dumps({"api_key": generate_key(), "api_secret": generate_key()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(body)
    return load_or_create_credentials(directory)


async def exchange_answers(url: str) -> bool:
    """Whether something answers Binance's ping at `url` (http://127.0.0.1:PORT)."""
    timeout = aiohttp.ClientTimeout(total=_PING_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"{url}/api/v3/ping") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


@dataclass(frozen=True)
class EmbeddedExchange:
    """Settings that point at the embedded exchange, and its pid if this call started it."""

    settings: Settings
    started_pid: int | None


async def ensure_embedded_exchange(settings: Settings) -> EmbeddedExchange:
    """Settings pointing at the embedded exchange on `settings.sim.port`, started if needed.

    Only for SIM mode without `sim_url`; the returned settings carry the exchange's URL and the
    demo key, so the engine never needs to know how the exchange was found.
    """
    directory = sim_directory(settings.data_dir)
    api_key, api_secret = load_or_create_credentials(directory)
    url = f"http://127.0.0.1:{settings.sim.port}"
    started_pid = None
    if not await exchange_answers(url):
        argv = python_module_argv(
            "engine.cli",
            "sim",
            "--port",
            str(settings.sim.port),
            "--seed",
            str(settings.sim.seed),
            "--state",
            str(directory / STATE_NAME),
            "--credentials",
            str(directory / CREDENTIALS_NAME),
        )
        child = spawn_detached(argv, directory / LOG_NAME)
        started_pid = child.pid
        try:
            status = await wait_until_ready(
                child, lambda: exchange_answers(url), timeout_s=_START_TIMEOUT_S
            )
        except TimeoutError:
            raise ControlError(
                f"the embedded exchange (pid {child.pid}) did not answer on {url} within "
                f"{_START_TIMEOUT_S:g} s; see {child.log}"
            ) from None
        # Another engine may have started one on the same port at the same time: fine if so.
        if status is not None and not await exchange_answers(url):
            raise ControlError(
                f"the embedded exchange could not start on port {settings.sim.port} "
                f"(exit {status}); see {child.log}"
            )
    elif not await _key_is_known(url, api_key, api_secret):
        # Someone else's exchange (a standalone `spotdesk sim`) holds this port: it does not
        # know this data directory's demo key, and the engine would fail later with -2015.
        raise ControlError(
            f"an embedded exchange that this data directory did not start is already running "
            f"on port {settings.sim.port}, and it does not know this desk's demo key. Stop it, "
            f"or use it: set SPOTDESK_SIM_URL={url} with SPOTDESK_API_KEY and "
            "SPOTDESK_API_SECRET to the key and secret it printed at start, or pick another "
            "port with SPOTDESK_SIM__PORT."
        )
    pointed = settings.model_copy(
        update={"sim_url": url, "api_key": SecretStr(api_key), "api_secret": api_secret}
    )
    return EmbeddedExchange(pointed, started_pid)


async def _key_is_known(url: str, api_key: str, api_secret: SecretStr) -> bool:
    """Whether the exchange at `url` accepts this key (one signed account request)."""
    venue = BinanceVenue(
        endpoints_for(Mode.SIM, url),
        Credentials(SecretStr(api_key), api_secret=api_secret),
        clock=SystemClock(),
    )
    try:
        await venue.start()
        await venue.account()
    except AuthError:
        return False
    finally:
        await venue.close()
    return True
