"""Where a profile's engine keeps its journal, and the keys it trades with."""

from __future__ import annotations

import pathlib

from engine.config import Settings
from engine.service.control_paths import InstancePaths
from engine.venue.endpoints import Credentials, read_private_key_pem

DEFAULT_ACCOUNT = "default"


def journal_path(settings: Settings, account: str) -> pathlib.Path:
    """`<data_dir>/<mode>-<account>/journal.sqlite`: one journal per mode and account, in the
    same directory as that engine's socket and log."""
    return InstancePaths.of(settings.data_dir, settings.mode.value, account).directory / (
        "journal.sqlite"
    )


def credentials_from(settings: Settings) -> Credentials:
    """The API key with its HMAC secret or Ed25519 key; a clear error when one is missing."""
    if settings.api_key is None:
        raise ValueError("no API key configured: set SPOTDESK_API_KEY")
    if settings.private_key_file is not None:
        pem = read_private_key_pem(settings.private_key_file)
        return Credentials(settings.api_key, private_key_pem=pem)
    if settings.api_secret is None:
        raise ValueError(
            "no API secret configured: set SPOTDESK_API_SECRET or SPOTDESK_PRIVATE_KEY_FILE"
        )
    return Credentials(settings.api_key, api_secret=settings.api_secret)
