"""The knobs of the embedded exchange's core that tests and the admin API turn."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class ExchangeConfig:
    """Fees, synthetic book shape, price path and query lag; read live, so changes apply at once.

    The synthetic book around the mid has `book_levels` levels per side: the best bid/ask sit
    `spread_ticks` ticks from the mid, deeper levels `level_gap_bps` basis points of the mid apart
    (at least one tick); level k holds `level_notional * (1 + k * level_growth)` of quote value.
    `replay` maps a symbol to a price series (see market.parse_price_csv) replayed one row per
    step instead of the seeded random walk.
    """

    fee_rate: Decimal = Decimal("0.001")
    bnb_fee_rate: Decimal = Decimal("0.00075")
    book_levels: int = 20
    spread_ticks: int = 1
    level_gap_bps: Decimal = Decimal("0.5")
    level_notional: Decimal = Decimal(20_000)
    level_growth: Decimal = Decimal("0.5")
    volatility: float = 0.0001  # standard deviation of the log return per step
    step_ms: int = 1000
    visibility_lag_ms: int = 0
    max_catchup_steps: int = 3600  # advance_to skips older time beyond this many steps
    replay: dict[str, list[Decimal]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, Decimal):
                data[name] = str(value)
        data["replay"] = {s: [str(p) for p in ps] for s, ps in self.replay.items()}
        return data

    def updated(self, changes: dict[str, Any]) -> ExchangeConfig:
        """A copy with `changes` (JSON values: decimals as strings or numbers) applied;
        ValueError names the first unknown or invalid knob."""
        data = self.to_dict()
        for name, value in changes.items():
            if name not in data:
                raise ValueError(f"unknown setting {name!r}")
            data[name] = value
        try:
            config = ExchangeConfig.from_dict(
                {
                    k: str(v)
                    if isinstance(v, float | int)
                    and not isinstance(v, bool)
                    and k in _DECIMAL_KNOBS
                    else v
                    for k, v in data.items()
                }
            )
        except (ArithmeticError, TypeError, AttributeError) as error:
            raise ValueError(f"invalid setting: {error}") from None
        config.validate()
        return config

    def validate(self) -> None:
        checks = {
            "fee_rate": 0 <= self.fee_rate < 1,
            "bnb_fee_rate": 0 <= self.bnb_fee_rate < 1,
            "book_levels": isinstance(self.book_levels, int) and 1 <= self.book_levels <= 1000,
            "spread_ticks": isinstance(self.spread_ticks, int) and self.spread_ticks >= 1,
            "level_gap_bps": self.level_gap_bps >= 0,
            "level_notional": self.level_notional > 0,
            "level_growth": self.level_growth >= 0,
            "volatility": isinstance(self.volatility, float | int) and 0 <= self.volatility < 1,
            "step_ms": isinstance(self.step_ms, int) and self.step_ms >= 1,
            "visibility_lag_ms": isinstance(self.visibility_lag_ms, int)
            and self.visibility_lag_ms >= 0,
            "max_catchup_steps": isinstance(self.max_catchup_steps, int)
            and self.max_catchup_steps >= 0,
            "replay": all(series and all(x > 0 for x in series) for series in self.replay.values()),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid setting {bad[0]!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExchangeConfig:
        config = cls()
        for name, default in asdict(config).items():
            if name not in data:
                continue
            value = data[name]
            if isinstance(default, Decimal):
                value = Decimal(value)
            elif name == "volatility":
                value = float(value)
            elif name == "replay":
                value = {s: [Decimal(p) for p in ps] for s, ps in value.items()}
            setattr(config, name, value)
        return config


_DECIMAL_KNOBS = frozenset(
    name for name, value in asdict(ExchangeConfig()).items() if isinstance(value, Decimal)
)
