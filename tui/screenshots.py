"""Generate the desk's screenshots from a deterministic rehearsal: `python -m tui.screenshots`.

An embedded exchange with a frozen market and a fixed seed, one account with fixed balances, a
real engine on it, a resting and a filled order, and the desk on a frozen clock; each view is
saved as SVG at 80x24 and 160x50 into `screenshots/`. This is a developer tool that runs its
own engine, so it builds one the way the tests do (imported here only, never by the desk).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from engine.config import Mode, Settings
from engine.service.api import CommandName, EngineClient
from tui.app import DeskApp
from tui.feed import FeedTiming

SIZES = ((80, 24), (160, 50))
FROZEN_NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
BALANCES = {"USDT": "10000", "BTC": "0.015", "ETH": "0.5"}
SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
FEED = FeedTiming(frame_s=0.02, refresh_s=0.2)
SETTLE_S = 0.6


def frozen_clock() -> datetime:
    return FROZEN_NOW


@asynccontextmanager
async def rehearsal(data_dir: pathlib.Path) -> AsyncIterator[EngineClient]:
    """A started engine over a fresh embedded exchange, with two orders placed."""
    from engine.service.engine import make_engine
    from engine.sim.runner import SimServer

    async with SimServer(port=0, seed=7, frozen_market=True) as sim:
        account = await sim.admin.create_account(dict(BALANCES), name="screenshots")
        key = await sim.admin.register_key(account)
        settings = Settings(
            _env_file=None,
            mode=Mode.SIM,
            data_dir=data_dir,
            sim_url=sim.url,
            api_key=SecretStr(key["apiKey"]),
            api_secret=SecretStr(key["secret"]),
        )
        engine = make_engine(settings, seed=3, symbols=SYMBOLS, reconcile_interval_s=None)
        await engine.start()
        try:
            client = engine.client
            for order in (
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "limit",
                    "quantity": "0.005",
                    "price": "90000",
                },
                {"symbol": "ETHUSDT", "side": "SELL", "type": "market", "quantity": "0.2"},
            ):
                result = await client.command(CommandName.SUBMIT_ORDER, order)
                if not result.ok:
                    raise RuntimeError(f"rehearsal order refused: {result.message}")
            yield client
        finally:
            await engine.stop()


Stage = Callable[[DeskApp, Any], Awaitable[None]]


async def _main_view(app: DeskApp, pilot: Any) -> None:
    return None


async def _emergency_view(app: DeskApp, pilot: Any) -> None:
    await pilot.press("ctrl+k")


async def _ticket_view(app: DeskApp, pilot: Any) -> None:
    await pilot.press("n", *"BTCUSDT")
    app.set_focus(app.screen.query_one("#quantity"))
    await pilot.press(*"0.0012345", "enter")


STAGES: dict[str, Stage] = {
    "desk": _main_view,
    "emergency": _emergency_view,
    "ticket": _ticket_view,
}


async def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    with tempfile.TemporaryDirectory() as data:
        async with rehearsal(pathlib.Path(data)) as client:
            for name, stage in STAGES.items():
                for width, height in SIZES:
                    app = DeskApp(lambda: client, clock=frozen_clock, timing=FEED)
                    async with app.run_test(size=(width, height)) as pilot:
                        await pilot.pause(SETTLE_S)
                        await stage(app, pilot)
                        await pilot.pause(SETTLE_S)
                        filename = f"{name}-{width}x{height}.svg"
                        app.save_screenshot(filename, path=str(out_dir))
                        written.append(out_dir / filename)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("screenshots"))
    for path in asyncio.run(generate(parser.parse_args().out)):
        print(path)


if __name__ == "__main__":
    main()
