"""Accounts with free/locked Decimal balances, and API keys with Binance's permission flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.sim.core.errors import MSG_INSUFFICIENT_BALANCE, order_rejected
from engine.sim.core.params import ZERO

# The apiRestrictions flags and their defaults for a new key: read and spot-trade only.
DEFAULT_PERMISSIONS: dict[str, bool] = {
    "ipRestrict": False,
    "enableReading": True,
    "enableSpotAndMarginTrading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enablePortfolioMarginTrading": False,
}

# Facade methods (Binance security type TRADE) that need enableSpotAndMarginTrading, and those
# (USER_DATA) that need enableReading; see Exchange.authorize.
TRADE_METHODS = frozenset(
    {
        "new_order",
        "cancel_order",
        "cancel_open_orders",
        "new_oco",
        "cancel_order_list",
        "cancel_replace",
    }
)
USER_DATA_METHODS = frozenset(
    {
        "get_order",
        "open_orders",
        "all_orders",
        "my_trades",
        "account",
        "get_order_list",
        "open_order_lists",
        "api_restrictions",
    }
)


@dataclass
class ApiKey:
    """A registered key: HMAC secret or Ed25519 public key (PEM), and its permissions."""

    api_key: str
    account_id: int
    hmac_secret: str | None
    ed25519_public_key_pem: str | None
    permissions: dict[str, bool]
    create_time: int

    def restrictions(self) -> dict[str, Any]:
        """GET /sapi/v1/account/apiRestrictions for this key."""
        return {
            "ipRestrict": self.permissions["ipRestrict"],
            "createTime": self.create_time,
            **{k: v for k, v in self.permissions.items() if k != "ipRestrict"},
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "account_id": self.account_id,
            "hmac_secret": self.hmac_secret,
            "ed25519_public_key_pem": self.ed25519_public_key_pem,
            "permissions": dict(self.permissions),
            "create_time": self.create_time,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ApiKey:
        return cls(**data)


class Balance:
    """One asset's free and locked amounts."""

    __slots__ = ("free", "locked")

    def __init__(self, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        self.free = free
        self.locked = locked


@dataclass
class Account:
    """An account's balances; every mutation marks the asset dirty for outboundAccountPosition."""

    account_id: int
    name: str
    balances: dict[str, Balance] = field(default_factory=dict)
    bnb_burn: bool = False
    update_time: int = 0
    dirty: set[str] = field(default_factory=set)

    def balance(self, asset: str) -> Balance:
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance()
        return found

    def free(self, asset: str) -> Decimal:
        found = self.balances.get(asset)
        return found.free if found is not None else ZERO

    def _touch(self, asset: str, now_ms: int) -> None:
        self.dirty.add(asset)
        self.update_time = now_ms

    def credit(self, asset: str, amount: Decimal, now_ms: int) -> None:
        self.balance(asset).free += amount
        self._touch(asset, now_ms)

    def debit(self, asset: str, amount: Decimal, now_ms: int) -> None:
        """Take from free; the caller checked it is there (balances never go negative)."""
        bal = self.balance(asset)
        if bal.free < amount:
            raise order_rejected(MSG_INSUFFICIENT_BALANCE)
        bal.free -= amount
        self._touch(asset, now_ms)

    def lock(self, asset: str, amount: Decimal, now_ms: int) -> None:
        bal = self.balance(asset)
        if bal.free < amount:
            raise order_rejected(MSG_INSUFFICIENT_BALANCE)
        bal.free -= amount
        bal.locked += amount
        self._touch(asset, now_ms)

    def unlock(self, asset: str, amount: Decimal, now_ms: int) -> None:
        if amount == 0:
            return
        bal = self.balance(asset)
        bal.locked -= amount
        bal.free += amount
        self._touch(asset, now_ms)

    def spend_locked(self, asset: str, amount: Decimal, now_ms: int) -> None:
        self.balance(asset).locked -= amount
        self._touch(asset, now_ms)

    def to_state(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "balances": {a: [str(b.free), str(b.locked)] for a, b in self.balances.items()},
            "bnb_burn": self.bnb_burn,
            "update_time": self.update_time,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Account:
        return cls(
            account_id=data["account_id"],
            name=data["name"],
            balances={
                a: Balance(Decimal(f), Decimal(lk)) for a, (f, lk) in data["balances"].items()
            },
            bnb_burn=data["bnb_burn"],
            update_time=data["update_time"],
        )
