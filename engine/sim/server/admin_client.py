"""A small async client of the admin API (/_sim/*), for tests, benchmarks and scripts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp


class AdminError(Exception):
    """The admin API refused a request; `status` and `body` say why."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """Calls the admin API of a sim at `base_url` (http://127.0.0.1:PORT) over HTTP.

    Amounts are passed as Decimal or str and sent as strings. Close with `close()` or use
    `async with`.
    """

    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AdminClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One admin request; raises AdminError on a non-2xx answer."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method, f"{self._base}/_sim/{path}", json=body
        ) as response:
            found = await response.json()
            if response.status >= 300:
                raise AdminError(response.status, found)
            return found

    async def oracle(self, account: int | None = None) -> Any:
        suffix = "" if account is None else f"?account={account}"
        return await self.call("GET", f"oracle{suffix}")

    async def set_price(self, symbol: str, price: Decimal | str) -> None:
        await self.call("POST", "price", {"symbol": symbol, "price": str(price)})

    async def step(self, steps: int = 1) -> None:
        await self.call("POST", "step", {"steps": steps})

    async def fund(self, account: int, asset: str, amount: Decimal | str) -> None:
        await self.call("POST", "fund", {"account": account, "asset": asset, "amount": str(amount)})

    async def create_account(self, balances: dict[str, Decimal | str], name: str = "") -> int:
        body = {"balances": {a: str(v) for a, v in balances.items()}, "name": name}
        found = await self.call("POST", "accounts", body)
        return int(found["accountId"])

    async def register_key(
        self,
        account: int,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        ed25519_public_key_pem: str | None = None,
        permissions: dict[str, bool] | None = None,
    ) -> dict[str, str]:
        """Register an HMAC key (secret generated unless given) or an Ed25519 public key."""
        body: dict[str, Any] = {"account": account}
        if api_key is not None:
            body["apiKey"] = api_key
        if secret is not None:
            body["secret"] = secret
        if ed25519_public_key_pem is not None:
            body["ed25519PublicKey"] = ed25519_public_key_pem
        if permissions is not None:
            body["permissions"] = permissions
        found: dict[str, str] = await self.call("POST", "keys", body)
        return found

    async def bnb_burn(self, account: int, enabled: bool) -> None:
        await self.call("POST", "bnb_burn", {"account": account, "enabled": enabled})

    async def symbol_status(self, symbol: str, status: str, *, expire_open: bool = False) -> Any:
        """Put a symbol in maintenance (BREAK, HALT, ...) or back to TRADING; with
        `expire_open` the exchange expires its open orders. Returns how many expired."""
        body = {"symbol": symbol, "status": status, "expire_open": expire_open}
        return await self.call("POST", "symbol_status", body)

    async def config(self, **changes: Any) -> Any:
        """Change core knobs (e.g. visibility_lag_ms=3000, fee_rate="0.001"); returns all."""
        body = {k: str(v) if isinstance(v, Decimal) else v for k, v in changes.items()}
        return await self.call("POST" if body else "GET", "config", body or None)

    async def skew_clock(self, skew_ms: int) -> Any:
        return await self.call("POST", "clock", {"skew_ms": skew_ms})

    async def limits(self, **changes: int) -> Any:
        return await self.call("POST" if changes else "GET", "limits", changes or None)

    async def reset_limits(self) -> Any:
        """Forget every weight and order counter and every ban."""
        return await self.call("DELETE", "limits")

    async def add_fault(self, kind: str, **rule: Any) -> Any:
        """Add a REST fault rule, e.g. add_fault("lose_response", method="POST",
        path="/api/v3/order", count=1); see engine/sim/server/faults.py."""
        return await self.call("POST", "faults", {"kind": kind, **rule})

    async def clear_faults(self) -> Any:
        return await self.call("DELETE", "faults")

    async def faults(self) -> Any:
        return await self.call("GET", "faults")

    async def stream_fault(
        self,
        action: str,
        *,
        account: int | None = None,
        target: str = "user",
        count: int | None = None,
    ) -> Any:
        """stall / resume / drop / server_shutdown / duplicate / reorder (see admin.py)."""
        body: dict[str, Any] = {"action": action, "target": target}
        if account is not None:
            body["account"] = account
        if count is not None:
            body["count"] = count
        return await self.call("POST", "stream", body)

    async def clear_stream_faults(self) -> Any:
        return await self.call("DELETE", "stream")

    async def reset(self) -> None:
        await self.call("POST", "reset", {})
