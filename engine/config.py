"""spotdesk settings: SPOTDESK_* environment variables, a .env file, nested sections with `__`.

The `.env` file is read from the working directory; variables in the environment win over it.
Errors name the setting and what is wrong with it, never the value given (it may be a secret).
"""

from __future__ import annotations

import os
import pathlib
from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from engine.preflight.settings import PreflightSettings
from engine.protection.settings import ProtectionSettings
from engine.risk import RiskLimits
from engine.service.settings import BreakerSettings, HousekeepingSettings


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
    account: str = Field(
        "default",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description="Name of the account's data: each mode and account has its own directory "
        "and journal (lower-case letters, digits, - and _).",
    )
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
    preflight: PreflightSettings = PreflightSettings()
    breaker: BreakerSettings = BreakerSettings()
    housekeeping: HousekeepingSettings = HousekeepingSettings()


def settings_error_lines(error: Exception) -> list[str]:
    """What is wrong with the configuration, one line per problem, without the values given.

    pydantic's own messages never contain the input once `include_input` is off, but a custom
    validator's message may quote it, so any input found in a message is masked as well."""
    if isinstance(error, ValidationError):
        lines = []
        for problem in error.errors(include_url=False, include_context=False):
            where = "__".join(str(part) for part in problem["loc"]).upper()
            message = str(problem["msg"])
            given = problem.get("input")
            if isinstance(given, str | int | float) and len(str(given)) >= 3:
                message = message.replace(str(given), "***")
            lines.append(f"SPOTDESK_{where}: {message}")
        return lines
    if isinstance(error, SettingsError):
        # "error parsing value for field "risk" from source "EnvSettingsSource"": names only.
        return [f"{error}; a section set as one variable must be valid JSON"]
    return [f"{type(error).__name__}"]


def load_settings() -> Settings:
    """The settings from the environment and `./.env`; raises ConfigError with safe lines."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as error:
        raise ConfigError(settings_error_lines(error)) from None


class ConfigError(ValueError):
    """The configuration is invalid; `lines` say where and why, never with the values."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines
