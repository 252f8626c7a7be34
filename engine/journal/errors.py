"""The journal's errors: each names what went wrong and what the operator can do about it."""

from __future__ import annotations

import pathlib


class JournalError(Exception):
    """Anything the journal refuses or fails to do."""


class JournalLocked(JournalError):
    """Another process (or another open in this one) already owns the journal."""

    def __init__(self, journal_path: pathlib.Path, lock_path: pathlib.Path, pid: int | None):
        holder = f"process {pid}" if pid is not None else "another process (pid not yet written)"
        super().__init__(
            f"journal {journal_path} is already in use by {holder}; lock file {lock_path}. "
            "Only one engine may own a journal: stop the other engine or attach to it."
        )
        self.journal_path = journal_path
        self.lock_path = lock_path
        self.pid = pid


class JournalMismatch(JournalError):
    """The journal belongs to another mode or account than the one asked for."""


class JournalUnsafe(JournalError):
    """The journal cannot give its promises here: permissions, WAL or sync settings, SQLite."""


class JournalCorrupt(JournalError):
    """The file failed its integrity check, or its schema is newer than this program knows."""


class JournalWriteError(JournalError):
    """A write was not committed (or not known to be); the journal now refuses further writes.

    Whatever waited on such a write must be treated as never recorded: an intent that failed here
    is never sent. The engine halts and tells the operator the reason in this message.
    """


class JournalClosed(JournalError):
    """A write was asked of a journal that is closing or closed."""


class DuplicateIntent(JournalError):
    """An intent with this client order id is already recorded; ids are unique forever."""

    def __init__(self, client_order_id: str):
        super().__init__(f"client order id {client_order_id!r} was already used by an intent")
        self.client_order_id = client_order_id
