"""The file permission gate (OpenSSH style): secrets and the data directory are this user's only.

`.env` (in the working directory), the private key file, the data directory and the engine's own
directory and journal must belong to the user running spotdesk and be closed to group and others;
the directory holding a secret file must not be writable by them either. Anything else refuses to
start the engine and names the exact `chmod` that fixes it. LIVE also refuses to run as root
(SIM and TESTNET only warn: rehearsal boxes and CI containers often run as root).
"""

from __future__ import annotations

import os
import pathlib
import shlex
import stat
from dataclasses import dataclass

from engine.config import Mode, Settings
from engine.service.profile import journal_path

ENV_FILE_NAME = ".env"
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class FileProblem:
    """One unsafe file or directory: what it is, what is wrong, and the command that fixes it."""

    what: str
    path: pathlib.Path | None
    problem: str
    fix: str | None

    def describe(self) -> str:
        text = (
            f"{self.what} {self.problem}"
            if self.path is None
            else (f"{self.what} {self.path} {self.problem}")
        )
        return f"{text}; run: {self.fix}" if self.fix else text


ROOT_PROBLEM = FileProblem(
    "spotdesk", None, "runs as root, which LIVE refuses: run it as its own unprivileged user", None
)


def running_as_root() -> bool:
    return os.geteuid() == 0


class UnsafePermissions(Exception):
    """Files holding secrets or trading state are open to other users (or spotdesk runs as
    root); the message names each one and the command that fixes it."""

    def __init__(self, problems: list[FileProblem]) -> None:
        lines = [problem.describe() for problem in problems]
        super().__init__("refusing to start: " + "; ".join(lines))
        self.problems = problems


def use_private_umask() -> None:
    """Everything this process creates from now on is readable by its user only (S8)."""
    os.umask(PRIVATE_UMASK)


@dataclass(frozen=True)
class _Guarded:
    what: str
    path: pathlib.Path
    directory: bool
    secret: bool  # its parent must not be writable by others either (they could swap it)


def guarded_paths(settings: Settings, *, cwd: pathlib.Path) -> list[_Guarded]:
    """Every path the gate checks for these settings (missing ones are skipped, except a
    configured key file)."""
    journal = journal_path(settings, settings.account)
    found = [
        _Guarded("the .env file", cwd / ENV_FILE_NAME, directory=False, secret=True),
        _Guarded("the data directory", settings.data_dir, directory=True, secret=False),
        _Guarded("the engine's directory", journal.parent, directory=True, secret=False),
        _Guarded("the journal", journal, directory=False, secret=False),
    ]
    if settings.private_key_file is not None:
        key = settings.private_key_file
        found.insert(1, _Guarded("the private key file", key, directory=False, secret=True))
    return found


def find_problems(
    settings: Settings, *, cwd: pathlib.Path, uid: int | None = None
) -> list[FileProblem]:
    """What is unsafe about the files of `settings`, in the order they are checked."""
    user = os.geteuid() if uid is None else uid
    problems: list[FileProblem] = []
    if settings.mode is Mode.LIVE and running_as_root():
        problems.append(ROOT_PROBLEM)
    for guarded in guarded_paths(settings, cwd=cwd):
        problem = _check(guarded, user)
        if problem is not None:
            problems.append(problem)
    return problems


def require_private_files(settings: Settings, *, cwd: pathlib.Path | None = None) -> None:
    """Raise UnsafePermissions unless every guarded path is private (blocking: a few stats)."""
    problems = find_problems(settings, cwd=cwd or pathlib.Path.cwd())
    if problems:
        raise UnsafePermissions(problems)


def _check(guarded: _Guarded, uid: int) -> FileProblem | None:
    path = guarded.path.absolute()
    quoted = shlex.quote(str(path))
    try:
        info = path.stat()
    except FileNotFoundError:
        if guarded.what == "the private key file":
            return FileProblem(guarded.what, path, "does not exist", None)
        return None
    if guarded.directory != stat.S_ISDIR(info.st_mode):
        kind = "a directory" if guarded.directory else "a file"
        return FileProblem(guarded.what, path, f"is not {kind}", None)
    if info.st_uid != uid:
        return FileProblem(
            guarded.what,
            path,
            f"belongs to uid {info.st_uid}, not to uid {uid}",
            f"chown {uid} {quoted}",
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        wanted = "700" if guarded.directory else "600"
        return FileProblem(
            guarded.what,
            path,
            f"is open to group or others (mode {mode:o})",
            f"chmod {wanted} {quoted}",
        )
    if guarded.secret:
        parent = path.parent
        parent_mode = stat.S_IMODE(parent.stat().st_mode)
        if parent_mode & 0o022 and not parent_mode & stat.S_ISVTX:
            return FileProblem(
                f"the directory of {guarded.what}",
                parent,
                f"is writable by group or others (mode {parent_mode:o})",
                f"chmod go-w {shlex.quote(str(parent))}",
            )
    return None
