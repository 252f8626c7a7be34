"""The journal's files on disk: a private directory, a 0600 database and the single-owner lock.

These are short blocking system calls; `Journal.open` runs them in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import stat

from engine.journal.errors import JournalLocked, JournalUnsafe

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def lock_path_for(journal_path: pathlib.Path) -> pathlib.Path:
    """`<journal>.lock`, next to the journal."""
    return journal_path.with_name(journal_path.name + ".lock")


def prepare_directory(directory: pathlib.Path) -> None:
    """Create the journal's directory as 0700, or check that an existing one is not shared."""
    if not directory.exists():
        # Every directory created on the way is private too (the data directory's root
        # included): mkdir(parents=True) would give the parents the umask's 0755.
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        for created in reversed(missing):
            try:
                created.mkdir(mode=PRIVATE_DIR_MODE)
            except FileExistsError:
                continue  # already there, or made by another process just now
            os.chmod(created, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
        return
    info = directory.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise JournalUnsafe(f"{directory} is not a directory")
    if info.st_mode & 0o022:
        raise JournalUnsafe(
            f"directory {directory} is writable by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 700 {directory}"
        )


def check_private_file(path: pathlib.Path) -> None:
    """Refuse a file that other users could read or that another user owns (OpenSSH style)."""
    info = path.stat()
    if info.st_uid != os.getuid():
        raise JournalUnsafe(f"{path} belongs to uid {info.st_uid}, not to this user")
    if info.st_mode & 0o077:
        raise JournalUnsafe(
            f"{path} is readable or writable by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
        )


def create_private_file(path: pathlib.Path) -> bool:
    """Create `path` as an empty 0600 file unless it exists; True when it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        check_private_file(path)
        return False
    os.close(fd)
    sync_directory(path.parent)  # the new directory entry must survive a power loss too
    return True


def sync_directory(directory: pathlib.Path) -> None:
    """fsync a directory so that entries created in it are durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OwnerLock:
    """An exclusive flock on `<journal>.lock`, holding the owner's pid; the OS drops it on crash."""

    def __init__(self, journal_path: pathlib.Path, fd: int) -> None:
        self.journal_path = journal_path
        self.path = lock_path_for(journal_path)
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, journal_path: pathlib.Path) -> OwnerLock:
        """Take the lock at once or raise `JournalLocked` naming the holder's pid."""
        lock_path = lock_path_for(journal_path)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise JournalLocked(journal_path, lock_path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        # Only the holder ever writes the file, so the pid read by a refused opener is the owner's.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(journal_path, fd)

    def release(self) -> None:
        """Drop the lock (idempotent). The file stays: removing it would race a new owner."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    """The pid written in a lock file, or None if it is not there (yet)."""
    try:
        raw = os.pread(fd, 32, 0)
        return int(raw.decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
