"""The engine's journal: durable intents, orders, fills, balances, events and audit, on SQLite.

One owner per file (flock), WAL with synchronous=FULL, group commit through one writer task;
every write returns a future resolved after a durable commit. No secrets: see `journal.py`.
"""

from engine.journal.errors import (
    DuplicateIntent,
    JournalClosed,
    JournalCorrupt,
    JournalError,
    JournalLocked,
    JournalMismatch,
    JournalUnsafe,
    JournalWriteError,
)
from engine.journal.journal import MODES, Journal
from engine.journal.rows import (
    BalanceRow,
    EventRow,
    FillRow,
    IntentRow,
    JournalSnapshot,
    JournalStats,
    OperatorActionRow,
    OrderRow,
)

__all__ = [
    "MODES",
    "BalanceRow",
    "DuplicateIntent",
    "EventRow",
    "FillRow",
    "IntentRow",
    "Journal",
    "JournalClosed",
    "JournalCorrupt",
    "JournalError",
    "JournalLocked",
    "JournalMismatch",
    "JournalSnapshot",
    "JournalStats",
    "JournalUnsafe",
    "JournalWriteError",
    "OperatorActionRow",
    "OrderRow",
]
