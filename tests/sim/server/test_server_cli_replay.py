"""`spotdesk sim --replay SYMBOL=FILE`: a CSV price series drives the market instead of the walk."""

from __future__ import annotations

import asyncio
import pathlib
import signal
import sys
from decimal import Decimal

import aiohttp
import pytest
from test_server_cli import field, run_until_ready

from engine.cli import main


async def test_replayed_series_drives_the_price_and_its_last_row_holds(
    tmp_path: pathlib.Path,
) -> None:
    series = tmp_path / "btc.csv"
    series.write_text("timestamp_ms,price\n1,90000\n2,91000.5\n3,92000\n", encoding="utf-8")
    process, lines = await run_until_ready(
        "sim", "--port", "0", "--state", str(tmp_path / "s.sqlite"),
        "--replay", f"BTCUSDT={series}",
    )  # fmt: skip
    base = field(lines, "REST").removesuffix("/api/v3/")
    seen: list[Decimal] = []
    try:
        async with aiohttp.ClientSession() as session:

            async def price() -> Decimal:
                url = f"{base}/api/v3/ticker/price?symbol=BTCUSDT"
                async with session.get(url) as response:
                    return Decimal((await response.json())["price"])

            async def until_last_row() -> None:
                while not seen or seen[-1] != Decimal("92000"):
                    seen.append(await price())
                    await asyncio.sleep(0.05)  # polling the REST ticker: no event to await

            await asyncio.wait_for(until_last_row(), 30)
            # The series is over: the last price holds.
            await asyncio.sleep(1.2)
            assert await price() == Decimal("92000")
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    replayed = [p for p in seen if p in {Decimal("90000"), Decimal("91000.5"), Decimal("92000")}]
    assert replayed == sorted(replayed)  # rows are replayed in file order
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("BTCUSDT", "expected SYMBOL=FILE"),
        ("BTCUSDT=missing.csv", "cannot read missing.csv"),
        ("BTCUSDT=empty.csv", "no prices in it"),
        ("BTCUSDT=bad.csv", "not a positive price"),
    ],
)
def test_bad_replay_arguments_are_usage_errors(
    argument: str,
    message: str,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.csv").write_text("# nothing\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("100\n-5\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--replay", argument])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


async def test_unknown_replay_symbol_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    series = tmp_path / "x.csv"
    series.write_text("1\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine.cli", "sim", "--port", "0",
        "--state", str(tmp_path / "s.sqlite"),
        "--replay", f"DOGEUSDT={series}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "unknown symbol DOGEUSDT" in err.decode()
