"""Durability across SIGKILL: whatever a killed process saw committed is there after a restart.

kill -9 cannot reveal what a power loss would (RELIABILITY.md R11: the OS still flushes its page
cache); it proves that a commit the writer reported is in the file, that transactions are atomic,
and that the OS releases the owner lock of a dead engine.
"""

from __future__ import annotations

import asyncio
import pathlib
import signal
import sys
import textwrap

import pytest

from engine.journal import Journal, JournalLocked

ROOT = pathlib.Path(__file__).resolve().parents[3]

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from engine.journal import Journal

    async def main():
        journal = await Journal.open(sys.argv[1], mode="sim", account="crash")
        print("ready", flush=True)
        written = 0
        while True:
            numbers = range(written, written + 25)
            batch = [
                journal.record_intent(f"c-{n}", symbol="BTCUSDT", payload={"n": n})
                for n in numbers
            ]
            batch += [journal.append_event("IntentRecorded", {"n": n}) for n in numbers]
            await asyncio.gather(*batch)
            written += 25
            print(f"committed {written}", flush=True)

    asyncio.run(main())
    """
)


async def _line(stream: asyncio.StreamReader) -> str:
    raw = await asyncio.wait_for(stream.readline(), timeout=60)
    if not raw:
        raise AssertionError("the writer process ended early")
    return raw.decode().strip()


async def test_commits_survive_sigkill_and_the_lock_dies_with_the_process(
    journal_path: pathlib.Path,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(journal_path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        assert await _line(process.stdout) == "ready"
        with pytest.raises(JournalLocked) as refused:
            await Journal.open(journal_path, mode="sim", account="crash")
        assert refused.value.pid == process.pid
        assert f"in use by process {process.pid}" in str(refused.value)

        committed = 0
        while committed < 1000:
            line = await _line(process.stdout)
            assert line.startswith("committed ")
            committed = int(line.removeprefix("committed "))
        process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(process.wait(), timeout=60) == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    async with await Journal.open(journal_path, mode="sim", account="crash") as journal:
        assert journal.instance == 2
        snapshot = await journal.load()
        intents = [intent.client_order_id for intent in snapshot.unsettled_intents]
        recorded = len(intents)
        # Everything reported committed is there, nothing has a hole, nothing is half-written:
        # each burst of 25 intents and 25 events shared one transaction.
        assert recorded >= committed
        assert recorded % 25 == 0
        assert intents == [f"c-{n}" for n in range(recorded)]
        events = await journal.events_since(0, limit=recorded + 1)
        assert [event.seq for event in events] == list(range(1, recorded + 1))
        assert [event.payload["n"] for event in events] == list(range(recorded))
        assert await journal.append_event("Restarted", {}) == recorded + 1
