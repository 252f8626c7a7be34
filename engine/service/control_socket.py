"""The control socket's file: bound private (0600), stale files from dead engines removed safely.

Only a process that owns the engine's journal binds here, so two engines never race over the
file; a client that merely probes never removes anything.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import socket
import stat

from engine.service.control_errors import ControlError, EngineAlreadyRunning

SOCKET_FILE_MODE = 0o600
# sun_path holds 108 bytes on Linux, the last one a NUL.
MAX_SOCKET_PATH_BYTES = 107
_PROBE_TIMEOUT_S = 1.0


def check_socket_path(path: pathlib.Path) -> None:
    """Refuse a path the kernel cannot bind, with a hint instead of a bare OSError."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        raise ControlError(
            f"the control socket path {path} is {size} bytes long; Unix sockets allow "
            f"{MAX_SOCKET_PATH_BYTES}. Set SPOTDESK_DATA_DIR to a shorter directory."
        )


def socket_answers(path: pathlib.Path) -> bool:
    """Whether something accepts connections on `path` (a blocking probe of at most a second).

    Only a refused connection or a missing file count as silence: a listener that is busy
    (full backlog, slow accept) still counts as alive, so its file is never taken away.
    """
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(_PROBE_TIMEOUT_S)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError as error:
        # EAGAIN, a timeout, ...: someone is there but busy
        return error.errno not in (errno.ENOTSOCK, errno.ENOENT, errno.ECONNREFUSED)
    finally:
        probe.close()
    return True


def remove_stale_socket(path: pathlib.Path) -> None:
    """Remove a socket file left by a dead engine; refuse if it answers or is not a socket."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlError(f"{path} exists and is not a socket; remove it by hand if it is junk")
    if info.st_uid != os.getuid():
        raise ControlError(f"{path} belongs to uid {info.st_uid}, not to this user")
    if socket_answers(path):
        raise EngineAlreadyRunning(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def bind_private_socket(path: pathlib.Path) -> tuple[socket.socket, int]:
    """A listening, non-blocking Unix socket at `path` with mode 0600, and its file's inode.

    The directory is already private (0700), so the moment between bind and chmod exposes
    nothing; the inode lets the owner remove only its own file when it stops.
    """
    check_socket_path(path)
    remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(os.fspath(path))
        os.chmod(path, SOCKET_FILE_MODE)
        sock.listen(128)
        sock.setblocking(False)
        inode = path.lstat().st_ino
    except BaseException:
        sock.close()
        raise
    return sock, inode


def unlink_own_socket(path: pathlib.Path, inode: int) -> None:
    """Remove `path` only if it is still the file this process bound."""
    try:
        if path.lstat().st_ino == inode:
            path.unlink()
    except FileNotFoundError:
        pass
