"""Helpers shared by the journal tests (imported by name: tests here are not a package)."""

from __future__ import annotations

import pathlib
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class TickingClock:
    """Starts at START and moves 1 ms forward at every reading: distinct, ordered timestamps."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        moment = START + timedelta(milliseconds=self.readings)
        self.readings += 1
        return moment


# Plain file operations, kept out of async test bodies (ruff's ASYNC rules apply to tests too).


def file_mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def chmod(path: pathlib.Path, mode: int) -> None:
    path.chmod(mode)


def read_text(path: pathlib.Path) -> str:
    return path.read_text()


def write_private(path: pathlib.Path, content: bytes) -> None:
    """Write a 0600 file in a 0700 directory, as the journal itself would create them."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(0o600)


def make_private_dir(path: pathlib.Path) -> None:
    path.mkdir(mode=0o700, parents=True)


def inspect(path: pathlib.Path, *statements: str) -> list[object]:
    """Read single values with a plain sqlite3 connection, outside the journal."""
    conn = sqlite3.connect(path)
    try:
        return [conn.execute(statement).fetchone()[0] for statement in statements]
    finally:
        conn.close()


def schema_objects(path: pathlib.Path) -> set[str]:
    """Names of the tables and indexes in a database file."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
        return {row[0] for row in rows if not row[0].startswith("sqlite_")}
    finally:
        conn.close()


def set_user_version(path: pathlib.Path, version: int) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        conn.close()


def break_rowid_order(path: pathlib.Path, table: str, cell: int, rowid: int) -> None:
    """Rewrite the rowid of one cell in a table's (single, leaf) root page, out of order.

    The file still opens and reads; only an integrity check notices. Rowids below 128 are one
    byte after the cell's payload-size byte, which is the case for the small tables used here.
    """
    conn = sqlite3.connect(path)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        root_page = root.fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with path.open("r+b") as raw:
        start = (root_page - 1) * page_size
        raw.seek(start)
        page = raw.read(page_size)
        assert page[0] == 0x0D, "expected a table leaf page"
        pointer = int.from_bytes(page[8 + 2 * cell : 10 + 2 * cell], "big")
        assert page[pointer] < 0x80 and page[pointer + 1] < 0x80, "expected one-byte varints"
        raw.seek(start + pointer + 1)
        raw.write(bytes([rowid]))


def read_directory(directory: pathlib.Path) -> bytes:
    """The bytes of every file in a directory (the journal, its WAL and lock), concatenated."""
    return b"".join(path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file())
