"""The risk limits as a settings section: defaults, env vars, validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.risk import RiskLimits


class DemoSettings(BaseSettings):
    """Nests the limits the way the project's Settings does."""

    model_config = SettingsConfigDict(
        env_prefix="SPOTDESK_", env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True
    )
    risk: RiskLimits = RiskLimits()


def test_defaults_suit_a_demo_account_of_ten_thousand_usdt() -> None:
    limits = RiskLimits()
    assert limits.quote_asset == "USDT"
    assert (limits.daily_loss_limit, limits.warning_ratio) == (Decimal(300), Decimal("0.8"))
    assert (limits.max_order_value, limits.max_position_value) == (Decimal(2000), Decimal(2500))
    assert (limits.max_orders_per_minute, limits.trading_day_rollover_hour) == (10, 0)
    assert limits.symbol_allowed("BTCUSDT")
    for name, field in RiskLimits.model_fields.items():
        assert field.description, name


def test_limits_come_from_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTDESK_RISK__DAILY_LOSS_LIMIT", "150.5")
    monkeypatch.setenv("SPOTDESK_RISK__ALLOWED_SYMBOLS", "btcusdt, ethusdt")
    monkeypatch.setenv("SPOTDESK_RISK__DENIED_SYMBOLS", '["ETHUSDT"]')
    monkeypatch.setenv("SPOTDESK_RISK__TRADING_DAY_ROLLOVER_HOUR", "22")
    limits = DemoSettings().risk
    assert limits.daily_loss_limit == Decimal("150.5")
    assert limits.allowed_symbols == ["BTCUSDT", "ETHUSDT"]
    assert limits.denied_symbols == ["ETHUSDT"]
    assert limits.trading_day_rollover_hour == 22
    assert limits.symbol_allowed("BTCUSDT")
    assert not limits.symbol_allowed("ETHUSDT")  # the deny list wins
    assert not limits.symbol_allowed("SOLUSDT")  # not on the allow list


def test_a_misspelt_limit_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTDESK_RISK__DAILY_LOSS_LIMT", "1")
    with pytest.raises(ValidationError, match="daily_loss_limt"):
        DemoSettings()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_order_value": 3000}, "min_order_value is above max_order_value"),
        ({"min_position_value": 3000}, "min_position_value is above max_position_value"),
        ({"daily_loss_limit": 0}, "greater than 0"),
        ({"warning_ratio": "1.5"}, "less than or equal to 1"),
        ({"trading_day_rollover_hour": 24}, "less than or equal to 23"),
        ({"quote_asset": " "}, "quote_asset must not be empty"),
        ({"allowed_symbols": 5}, "Input should be a valid list"),
        ({"denied_symbols": "[oops"}, "Expecting value"),
    ],
)
def test_inconsistent_limits_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RiskLimits(**changes)


def test_limits_are_frozen_and_the_quote_asset_is_upper_case() -> None:
    limits = RiskLimits(quote_asset="usdc", allowed_symbols=["ethusdc", "ETHUSDC"])
    assert (limits.quote_asset, limits.allowed_symbols) == ("USDC", ["ETHUSDC"])
    with pytest.raises(ValidationError):
        limits.daily_loss_limit = Decimal(1)
