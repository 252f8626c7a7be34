"""Opening a journal: files and settings, ownership, mode/account binding, checks, migrations."""

from __future__ import annotations

import os
import pathlib

import aiosqlite
import pytest
from journal_testing import (
    START,
    TickingClock,
    break_rowid_order,
    chmod,
    file_mode,
    inspect,
    make_private_dir,
    read_text,
    schema_objects,
    set_user_version,
    write_private,
)

from engine.journal import (
    Journal,
    JournalCorrupt,
    JournalLocked,
    JournalMismatch,
    JournalUnsafe,
)
from engine.journal.schema import LATEST_VERSION, MIGRATIONS, migrate


async def test_new_journal_is_private_wal_full_and_at_the_latest_schema(
    journal_path: pathlib.Path, clock: TickingClock
) -> None:
    journal = await Journal.open(journal_path, mode="sim", account="default", clock=clock)
    try:
        assert file_mode(journal_path) == 0o600
        assert file_mode(journal_path.parent) == 0o700
        lock_file = journal_path.with_name("journal.sqlite3.lock")
        assert file_mode(lock_file) == 0o600
        assert read_text(lock_file) == f"{os.getpid()}\n"
        assert journal.instance == 1
        assert (journal.mode, journal.account) == ("sim", "default")
        await journal.append_event("Written", {})
        for suffix in ("-wal", "-shm"):  # SQLite gives its side files the journal's own mode
            assert file_mode(journal_path.with_name(journal_path.name + suffix)) == 0o600
        snapshot = await journal.load()
        assert (snapshot.mode, snapshot.account, snapshot.instance) == ("sim", "default", 1)
        assert snapshot.created_at == START
    finally:
        await journal.close()
    journal_mode, user_version = inspect(journal_path, "PRAGMA journal_mode", "PRAGMA user_version")
    assert (journal_mode, user_version) == ("wal", LATEST_VERSION)
    assert read_text(lock_file) == ""  # released: no stale pid left behind


async def test_connection_settings_are_read_back(journal: Journal) -> None:
    conn = journal._write_conn
    values = []
    for pragma in ("journal_mode", "synchronous", "foreign_keys"):
        async with conn.execute(f"PRAGMA {pragma}") as cursor:
            row = await cursor.fetchone()
            assert row is not None
            values.append(row[0])
    assert values == ["wal", 2, 1]


async def test_each_open_is_a_new_instance(journal_path: pathlib.Path) -> None:
    for expected in (1, 2, 3):
        async with await Journal.open(journal_path, mode="sim", account="default") as journal:
            assert journal.instance == expected
            assert (await journal.load()).instance == expected


async def test_second_owner_is_refused_with_the_holders_pid_and_lock_file(
    journal: Journal, journal_path: pathlib.Path
) -> None:
    with pytest.raises(JournalLocked) as refused:
        await Journal.open(journal_path, mode="sim", account="default")
    lock_file = journal_path.with_name("journal.sqlite3.lock")
    assert refused.value.pid == os.getpid()
    assert refused.value.lock_path == lock_file
    assert str(refused.value) == (
        f"journal {journal_path} is already in use by process {os.getpid()}; "
        f"lock file {lock_file}. Only one engine may own a journal: "
        "stop the other engine or attach to it."
    )
    # The refused opener touched nothing: the owner keeps writing.
    assert await journal.append_event("StillOwner", {}) == 1


async def test_lock_is_released_on_close(journal_path: pathlib.Path) -> None:
    first = await Journal.open(journal_path, mode="sim", account="default")
    await first.close()
    await first.close()  # idempotent
    second = await Journal.open(journal_path, mode="sim", account="default")
    assert second.instance == 2
    await second.close()


@pytest.mark.parametrize(
    ("mode", "account"), [("live", "default"), ("testnet", "default"), ("sim", "other")]
)
async def test_journal_refuses_another_mode_or_account(
    journal_path: pathlib.Path, mode: str, account: str
) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default"):
        pass
    with pytest.raises(JournalMismatch) as refused:
        await Journal.open(journal_path, mode=mode, account=account)
    assert str(refused.value) == (
        f"journal {journal_path} belongs to mode=sim account=default; refusing to open it for "
        f"mode={mode} account={account}. Each mode and account has its own journal: check "
        "SPOTDESK_MODE and the data directory."
    )
    # The refusal released the lock and did not count as an open.
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        assert journal.instance == 2


async def test_unknown_mode_and_odd_accounts_are_refused(journal_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="mode must be one of sim, testnet, live"):
        await Journal.open(journal_path, mode="paper", account="default")
    with pytest.raises(ValueError, match="account must be"):
        await Journal.open(journal_path, mode="sim", account="has space")
    assert not journal_path.parent.exists()


async def test_shared_journal_file_is_refused(journal_path: pathlib.Path) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default"):
        pass
    chmod(journal_path, 0o644)
    with pytest.raises(JournalUnsafe, match="readable or writable by group or others"):
        await Journal.open(journal_path, mode="sim", account="default")


async def test_group_writable_directory_is_refused(tmp_path: pathlib.Path) -> None:
    shared = tmp_path / "shared"
    make_private_dir(shared)
    chmod(shared, 0o777)
    with pytest.raises(JournalUnsafe, match="writable by group or others"):
        await Journal.open(shared / "journal.sqlite3", mode="sim", account="default")
    assert not (shared / "journal.sqlite3").exists()


async def test_damaged_file_is_refused(journal_path: pathlib.Path) -> None:
    write_private(journal_path, b"this is not a journal" * 300)
    with pytest.raises(JournalCorrupt, match="is damaged or not a journal"):
        await Journal.open(journal_path, mode="sim", account="default")


async def test_failed_integrity_check_is_refused(journal_path: pathlib.Path) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        for number in range(10):
            journal.append_event("Small", {"n": number})
        await journal.flush()
    [events_root] = inspect(
        journal_path, "SELECT rootpage FROM sqlite_master WHERE name = 'events'"
    )
    break_rowid_order(journal_path, "events", cell=4, rowid=99)
    with pytest.raises(JournalCorrupt) as refused:
        await Journal.open(journal_path, mode="sim", account="default")
    assert str(refused.value) == (
        f"journal {journal_path} failed its integrity check: *** in database main ***\n"
        f"On tree page {events_root} cell 4: Rowid 99 out of order"
    )


async def test_schema_newer_than_the_program_is_refused(journal_path: pathlib.Path) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default"):
        pass
    set_user_version(journal_path, LATEST_VERSION + 1)
    with pytest.raises(JournalCorrupt, match=f"schema version {LATEST_VERSION + 1} is newer"):
        await Journal.open(journal_path, mode="sim", account="default")


async def test_migration_from_an_older_schema_keeps_the_data(
    journal_path: pathlib.Path, clock: TickingClock
) -> None:
    assert [step.version for step in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    make_private_dir(journal_path.parent)
    async with aiosqlite.connect(journal_path, isolation_level=None) as conn:
        assert await migrate(conn, target=1) == [1]
        await conn.execute(
            "INSERT INTO meta (id, mode, account, created_at, instance)"
            " VALUES (1, 'sim', 'default', '2025-12-31T00:00:00.000000+00:00', 4)"
        )
        await conn.execute(
            "INSERT INTO intents VALUES ('old-1', '2025-12-31T00:00:01.000000+00:00', 'BTCUSDT',"
            ' \'{"qty":"0.5"}\')'
        )
    chmod(journal_path, 0o600)
    assert inspect(journal_path, "PRAGMA user_version") == [1]
    assert "fills_by_order" not in schema_objects(journal_path)

    async with await Journal.open(
        journal_path, mode="sim", account="default", clock=clock
    ) as journal:
        assert journal.instance == 5
        intent = await journal.intent("old-1")
        assert intent is not None
        assert intent.payload == {"qty": "0.5"}
        assert intent.symbol == "BTCUSDT"

    assert inspect(journal_path, "PRAGMA user_version") == [LATEST_VERSION]
    assert {"orders_by_terminal", "fills_by_order", "operator_actions_by_ts"} <= schema_objects(
        journal_path
    )


async def test_migrations_are_applied_once(journal_path: pathlib.Path) -> None:
    make_private_dir(journal_path.parent)
    async with aiosqlite.connect(journal_path, isolation_level=None) as conn:
        assert await migrate(conn) == list(range(1, LATEST_VERSION + 1))
        assert await migrate(conn) == []
