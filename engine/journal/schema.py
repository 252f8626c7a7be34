"""The journal's schema as numbered migrations, each applied once, in its own transaction.

The database's `user_version` is the number of the last migration applied. A new step is added
at the end of `MIGRATIONS` and never edited once released: journals in the field went through
the old text. Tables are STRICT so that a value of the wrong type (a float where a decimal string
belongs) is refused by SQLite itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from engine.journal.errors import JournalCorrupt


@dataclass(frozen=True)
class Migration:
    """One schema step: the version it brings the database to, and its statements."""

    version: int
    summary: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "tables: meta, intents, orders, fills, balances, events, operator actions, counters, state",
        (
            """CREATE TABLE meta (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                mode TEXT NOT NULL,
                account TEXT NOT NULL,
                created_at TEXT NOT NULL,
                instance INTEGER NOT NULL CHECK (instance >= 0)
            ) STRICT""",
            """CREATE TABLE intents (
                client_order_id TEXT PRIMARY KEY,
                created_at TEXT NOT NULL,
                symbol TEXT NOT NULL,
                payload TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE orders (
                client_order_id TEXT PRIMARY KEY,
                symbol TEXT NOT NULL,
                state TEXT NOT NULL,
                terminal INTEGER NOT NULL CHECK (terminal IN (0, 1)),
                updated_at TEXT NOT NULL,
                payload TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE fills (
                symbol TEXT NOT NULL,
                trade_id INTEGER NOT NULL,
                client_order_id TEXT NOT NULL,
                ts TEXT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (symbol, trade_id)
            ) STRICT""",
            """CREATE TABLE balances (
                asset TEXT PRIMARY KEY,
                free TEXT NOT NULL,
                locked TEXT NOT NULL,
                updated_at TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE events (
                seq INTEGER PRIMARY KEY CHECK (seq > 0),
                ts TEXT NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE operator_actions (
                id INTEGER PRIMARY KEY,
                ts TEXT NOT NULL,
                os_user TEXT NOT NULL,
                terminal TEXT NOT NULL,
                action TEXT NOT NULL,
                params TEXT NOT NULL,
                confirmed INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
                result TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE counters (
                name TEXT PRIMARY KEY,
                value INTEGER NOT NULL
            ) STRICT""",
            """CREATE TABLE state (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL
            ) STRICT""",
        ),
    ),
    Migration(
        2,
        "indexes for load() and exports: open orders, fills by order, audit by time",
        (
            "CREATE INDEX orders_by_terminal ON orders (terminal, updated_at)",
            "CREATE INDEX fills_by_order ON fills (client_order_id)",
            "CREATE INDEX operator_actions_by_ts ON operator_actions (ts)",
        ),
    ),
    Migration(
        3,
        "audit trail: outcome, message, client and finish time as columns of operator_actions",
        # The engine writes `result` as a JSON object (engine/service/audit.py); these virtual
        # columns read its fields, so `SELECT ts, os_user, action, outcome, message` works in
        # any SQLite shell. A result that is not JSON (written before) is its own outcome.
        tuple(
            f"ALTER TABLE operator_actions ADD COLUMN {column} TEXT GENERATED ALWAYS AS "
            f"(CAST(CASE WHEN json_valid(result) THEN json_extract(result, '$.{column}') "
            f"{fallback} END AS TEXT)) VIRTUAL"
            for column, fallback in (
                ("outcome", "ELSE result"),
                ("message", ""),
                ("client", ""),
                ("finished_at", ""),
            )
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The migration number the database is at (0 for a new file)."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(conn: aiosqlite.Connection, *, target: int = LATEST_VERSION) -> list[int]:
    """Apply the missing steps up to `target`, each atomically; returns the versions applied.

    The connection must be in autocommit mode (isolation_level=None): transactions are explicit.
    """
    current = await schema_version(conn)
    if current > LATEST_VERSION:
        raise JournalCorrupt(
            f"journal schema version {current} is newer than this program knows "
            f"({LATEST_VERSION}); run the newer spotdesk that wrote it"
        )
    applied: list[int] = []
    for step in MIGRATIONS:
        if step.version <= current or step.version > target:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in step.statements:
                await conn.execute(statement)
            # user_version lives in the file header and commits with the transaction.
            await conn.execute(f"PRAGMA user_version = {int(step.version)}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        applied.append(step.version)
    return applied
