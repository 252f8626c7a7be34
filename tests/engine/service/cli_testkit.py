"""Running the engine's subcommands in a subprocess, as an operator or a script would."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from dataclasses import dataclass

from engine_testkit import WIDE_RISK_ENV


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def cli_env(data_dir: pathlib.Path, **extra: str) -> dict[str, str]:
    """This environment without any SPOTDESK_* variable, plus the data dir, wide risk limits
    (tests about risk pass their own) and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTDESK_")}
    env["SPOTDESK_DATA_DIR"] = str(data_dir)
    env.update(WIDE_RISK_ENV)
    env.update(extra)
    return env


async def run_cli(
    *args: str, env: dict[str, str], cwd: pathlib.Path, stdin: bytes | None = None
) -> Ran:
    """`python -m engine.cli ARGS` with no terminal; stdin is empty unless given."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    out, err = await process.communicate(stdin or b"")
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
