"""Where one engine instance keeps its socket and log: `data_dir/<mode>-<account>/`."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from engine.journal.files import prepare_directory

SOCKET_NAME = "engine.sock"
LOG_NAME = "engine.log"


@dataclass(frozen=True)
class InstancePaths:
    """The private (0700) directory of one engine, one per mode and account."""

    directory: pathlib.Path

    @classmethod
    def of(cls, data_dir: pathlib.Path, mode: str, account: str) -> InstancePaths:
        return cls(data_dir / f"{mode}-{account}")

    @property
    def socket(self) -> pathlib.Path:
        """The control socket (mode 0600)."""
        return self.directory / SOCKET_NAME

    @property
    def log(self) -> pathlib.Path:
        """Where a detached engine's stdout and stderr go."""
        return self.directory / LOG_NAME

    def prepare(self) -> None:
        """Create the directory as 0700, or refuse one that group or others can write."""
        prepare_directory(self.directory)
