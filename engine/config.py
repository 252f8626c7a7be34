"""spotdesk settings: SPOTDESK_* environment variables, a .env file, nested sections with `__`."""

from __future__ import annotations

import os
import pathlib
from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.protection.settings import ProtectionSettings
from engine.risk import RiskLimits


class Mode(StrEnum):
    """Where orders go. SIM is the default; LIVE trades real money."""

    SIM = "sim"
    TESTNET = "testnet"
    LIVE = "live"


def default_data_dir() -> pathlib.Path:
    """The user's data directory for spotdesk (XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(pathlib.Path.home() / ".local" / "share")
    return pathlib.Path(base) / "spotdesk"


class SimSettings(BaseModel):
    """The embedded exchange the engine starts in SIM mode when no SPOTDESK_SIM_URL is set."""

    port: int = Field(8765, description="Port of the embedded exchange started by the engine.")
    seed: int = Field(1, description="Seed of the embedded exchange's price paths.")


class Settings(BaseSettings):
    """Every setting, read from SPOTDESK_* variables and an optional .env file."""

    model_config = SettingsConfigDict(
        env_prefix="SPOTDESK_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
    )

    mode: Mode = Field(Mode.SIM, description="sim (default), testnet or live.")
    data_dir: pathlib.Path = Field(
        default_factory=default_data_dir,
        description="Journal, logs and control socket live here, one subfolder per mode/account.",
    )
    sim_url: str | None = Field(
        None,
        description="An embedded exchange already running (http://127.0.0.1:PORT); unset: the "
        "engine starts its own.",
    )
    api_key: SecretStr | None = Field(None, description="Binance API key.")
    api_secret: SecretStr | None = Field(None, description="HMAC secret of the API key.")
    private_key_file: pathlib.Path | None = Field(
        None, description="Ed25519 private key (PEM) used instead of an HMAC secret."
    )
    sim: SimSettings = SimSettings()
    risk: RiskLimits = RiskLimits()
    protection: ProtectionSettings = ProtectionSettings()
