"""Logging for every entry point (desk, engine, command line, sim): one private rotating file,
warnings on stderr, secrets redacted on every handler, crashes reported without locals.

Files live in a `logs/` folder of the instance directory (`<data_dir>/<mode>-<account>/logs/`,
the sim's: next to its state file), one per role (`engine.log`, `desk.log`, `cli.log`,
`sim.log`), created 0600 and rotated at `MAX_LOG_BYTES`. `--debug` lowers the level to DEBUG.
`start_logging` returns a `LogSession` whose `close()` undoes what it set up, so a test that
calls the command line in-process leaves logging as it found it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import logging.handlers
import os
import pathlib
import sys
import threading
import time
from collections.abc import Iterable
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import SecretStr

from engine.journal.errors import JournalError
from engine.security.redact import RedactingFilter, Redactor, redacted_traceback

if TYPE_CHECKING:
    from engine.config import Settings

LOG_DIR_NAME = "logs"
MAX_LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FILE_MODE = 0o600
PROG = "spotdesk"
# Chatty libraries stay at INFO under --debug: aiosqlite logs every statement, websockets every
# frame, python-binance every message. Their warnings and errors still come through.
QUIET_UNDER_DEBUG = ("aiosqlite", "asyncio", "binance", "websockets")


class Role(StrEnum):
    """Which program is logging; it names the file and tags every line."""

    DESK = "desk"
    ENGINE = "engine"
    CLI = "cli"
    SIM = "sim"


def log_file(directory: pathlib.Path, role: Role) -> pathlib.Path:
    """Where `role` logs under `directory` (an instance directory or the sim's)."""
    return directory / LOG_DIR_NAME / f"{role.value}.log"


def _open_private(path: pathlib.Path) -> int:
    """Open `path` for appending, creating it 0600 and its directory 0700 on the first write
    (a run that logs nothing creates nothing); an existing file is made 0600."""
    from engine.journal.files import prepare_directory  # refuses a directory others can write

    prepare_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE)
    os.fchmod(fd, LOG_FILE_MODE)
    return fd


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file opened at the first record, created 0600, that follows a rotation
    done by another process (several command-line runs may share `cli.log`): a renamed file is
    reopened before the next write. A file that cannot be opened is given up, said once."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(
            path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True
        )
        self.unusable: str | None = None

    def _open(self) -> Any:
        fd = _open_private(pathlib.Path(self.baseFilename))
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        if self.unusable is not None:
            return
        stream = self.stream
        if stream is not None and self._rotated_away(stream.fileno()):
            stream.close()
            self.stream = None  # reopened by the next write
        if self.stream is None:
            try:
                self.stream = self._open()
            except (OSError, JournalError) as error:
                self.unusable = str(error)
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.write(f"{PROG}: no log file: {error}\n")
                return
        super().emit(record)

    def _rotated_away(self, fileno: int) -> bool:
        try:
            current = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        mine = os.fstat(fileno)
        return (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino)


class _UtcFormatter(logging.Formatter):
    """ISO-8601 UTC times with milliseconds: log lines from several processes sort as text."""

    converter = staticmethod(time.gmtime)
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class _BriefFormatter(logging.Formatter):
    """stderr's format: the message, and a traceback only when no log file keeps it."""

    def __init__(self, file: pathlib.Path | None) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._file = file

    def format(self, record: logging.LogRecord) -> str:
        if self._file is None or not (record.exc_info or record.exc_text):
            return super().format(record)
        return f"{record.levelname} {record.name}: {record.getMessage()} (details in {self._file})"


class CrashReporter:
    """Reports an exception nobody handled: one redacted line on stderr, the redacted traceback
    (never local variables) appended to the log file, or on stderr when there is none."""

    def __init__(self, redactor: Redactor, file: pathlib.Path | None, stderr: TextIO | None):
        self.redactor = redactor
        self.file = file
        self._stderr = stderr

    def report(self, error: BaseException, *, what: str = "internal error") -> None:
        details = redacted_traceback(error, self.redactor)
        line = self.redactor.redact(f"{type(error).__name__}: {error}")
        written = self.file is not None and _append_private(self.file, f"{what}\n{details}")
        stderr = self._stderr if self._stderr is not None else sys.stderr
        with contextlib.suppress(OSError, ValueError):  # a closed or broken terminal
            if written:
                stderr.write(f"{PROG}: {what}: {line}\n{PROG}: details (redacted) in {self.file}\n")
            else:
                stderr.write(f"{PROG}: {what}: {line}\n{details}")
            stderr.flush()

    def excepthook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        """For `sys.excepthook`."""
        if issubclass(kind, KeyboardInterrupt):
            with contextlib.suppress(OSError, ValueError):
                (self._stderr or sys.stderr).write(f"\n{PROG}: interrupted\n")
            return
        self.report(error.with_traceback(tb), what="crashed")

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """For `threading.excepthook`."""
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "?"
            self.report(args.exc_value, what=f"thread {name} crashed")


def _append_private(file: pathlib.Path, text: str) -> bool:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        with os.fdopen(_open_private(file), "a", encoding="utf-8") as out:
            out.write(f"{stamp} [{os.getpid()}] CRITICAL {text.rstrip()}\n")
    except (OSError, JournalError):
        return False
    return True


def install_crash_hooks(reporter: CrashReporter) -> None:
    """Uncaught exceptions of this process (main thread and others) go to `reporter`.

    Deliberately process-wide and left in place: a crash after the program's own cleanup
    must still be reported redacted."""
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook


class LogSession:
    """The logging of one run: its file, redactor and crash reporter; `close()` undoes it."""

    def __init__(
        self,
        *,
        role: Role,
        redactor: Redactor,
        file: pathlib.Path | None,
        stderr: TextIO | None,
        level: int,
        debug: bool,
    ) -> None:
        self.role = role
        self.redactor = redactor
        self.file = file
        self.reporter = CrashReporter(redactor, file, stderr)
        self._filter = RedactingFilter(redactor)
        self._root = logging.getLogger()
        self._saved_levels: dict[str, int] = {"": self._root.level}
        self._added: list[logging.Handler] = []
        self._filtered: list[logging.Handler] = []
        if file is not None:
            handler = PrivateRotatingFileHandler(file)
            handler.setFormatter(
                _UtcFormatter(
                    f"%(asctime)s {role.value}[%(process)d] %(levelname)s %(name)s: %(message)s"
                )
            )
            self._add(handler)
        if stderr is not None:
            console = logging.StreamHandler(stderr)
            console.setLevel(logging.WARNING)
            console.setFormatter(_BriefFormatter(file))
            self._add(console)
        self._protect_every_handler()
        self._root.setLevel(level)
        if debug:
            for name in QUIET_UNDER_DEBUG:
                quiet = logging.getLogger(name)
                self._saved_levels[name] = quiet.level
                quiet.setLevel(logging.INFO)

    def _add(self, handler: logging.Handler) -> None:
        self._root.addHandler(handler)
        self._added.append(handler)

    def _protect_every_handler(self) -> None:
        """The filter goes on every handler there is: root's, ours, and any a library added to
        its own logger (records do not pass the root's handlers' filters on their way there)."""
        loggers: list[logging.Logger] = [self._root]
        loggers += [
            found
            for found in logging.Logger.manager.loggerDict.values()
            if isinstance(found, logging.Logger)
        ]
        for logger in loggers:
            for handler in logger.handlers:
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(self._filter)
                    self._filtered.append(handler)

    def crashed(self, error: BaseException) -> None:
        """Report an exception the command did not handle (see `CrashReporter`)."""
        self.reporter.report(error)

    def close(self) -> None:
        """Remove and close our handlers, take our filter off the others, restore levels."""
        for handler in self._added:
            self._root.removeHandler(handler)
            handler.close()
        for handler in self._filtered:
            handler.removeFilter(self._filter)
        for name, level in self._saved_levels.items():
            logging.getLogger(name or None).setLevel(level)
        self._added.clear()
        self._filtered.clear()


def start_logging(
    role: Role,
    *,
    directory: pathlib.Path | None,
    debug: bool = False,
    secrets: Iterable[str | SecretStr] = (),
    stderr: TextIO | None = None,
) -> LogSession:
    """Set up logging for one run of `role`: a file under `directory` (None: no file; created
    with the first record), stderr (None: none, as in the desk, whose terminal belongs to
    Textual), and a redactor that knows `secrets`."""
    return LogSession(
        role=role,
        redactor=Redactor(secrets),
        file=None if directory is None else log_file(directory, role),
        stderr=stderr,
        level=logging.DEBUG if debug else logging.INFO,
        debug=debug,
    )


def settings_secrets(settings: Settings) -> list[SecretStr]:
    """The secrets `settings` configure: API key, HMAC secret, the Ed25519 PEM (read from its
    file when readable; a missing file is the permission gate's to report)."""
    found = [value for value in (settings.api_key, settings.api_secret) if value is not None]
    if settings.private_key_file is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            pem = settings.private_key_file.read_text(encoding="ascii")[:16_384]
            found.append(SecretStr(pem))
    return found


def instance_directory(settings: Settings, role: Role) -> pathlib.Path | None:
    """Where `role` logs for these settings: the engine instance's directory (the engine and
    the desk create it with their first log line). A one-shot command logs only where an
    engine has been (None otherwise), so `spotdesk status` on a fresh machine creates nothing."""
    from engine.service.process import instance_paths

    directory = instance_paths(settings).directory
    if role in (Role.ENGINE, Role.DESK) or directory.is_dir():
        return directory
    return None


def start_command_logging(args: argparse.Namespace) -> LogSession:
    """Logging for one run of the `spotdesk` command line, from its parsed arguments: the role
    from the command, the directory from the settings (or the sim's state file), `--debug`, and
    the crash hooks. Never fails: settings that do not load leave it without a file (the
    command itself then says what is wrong with them)."""
    from engine.config import ConfigError, default_data_dir, load_settings

    command = getattr(args, "command", None)
    debug = bool(getattr(args, "debug", False))
    secrets: list[str | SecretStr] = []
    if command == "sim":
        state: pathlib.Path | None = args.state
        directory: pathlib.Path | None = state.parent if state is not None else default_data_dir()
        role = Role.SIM
        secrets += [args.api_key, args.api_secret]  # None when not given: dropped below
        if args.credentials is not None:
            from engine.sim.runner import SimStartError, read_credentials_file  # the sim's

            with contextlib.suppress(SimStartError):  # `spotdesk sim` itself reports it
                secrets += [SecretStr(value) for value in read_credentials_file(args.credentials)]
    else:
        role = {"desk": Role.DESK, "engine": Role.ENGINE}.get(command or "", Role.CLI)
        if role is Role.ENGINE and getattr(args, "engine_action", None) != "run":
            role = Role.CLI  # `engine start|stop|status` are one-shots; the engine logs itself
        try:
            settings: Settings | None = load_settings()
        except (ConfigError, OSError, ValueError):  # the command says what, without the values
            settings = None
        directory = None if settings is None else instance_directory(settings, role)
        secrets += [] if settings is None else settings_secrets(settings)
    session = start_logging(
        role,
        directory=directory,
        debug=debug,
        secrets=[s for s in secrets if s],
        stderr=None if role is Role.DESK else sys.stderr,
    )
    install_crash_hooks(session.reporter)
    return session
