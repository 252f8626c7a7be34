"""The admin API under /_sim/ (loopback clients only): prices, funds, keys, limits, faults, oracle.

Routes (JSON in and out):

- GET  /_sim/oracle[?account=N]   every order, trade and balance as the exchange knows them
- POST /_sim/price {"symbol", "price"}           move a market (resting orders may fill)
- POST /_sim/step {"steps"}                      advance the price path by whole steps
- POST /_sim/fund {"account"|"apiKey", "asset", "amount"}   credit (or debit) a balance
- POST /_sim/accounts {"balances": {asset: amount}, "name"}  -> {"accountId"}
- POST /_sim/keys {"account", "apiKey"?, "secret"? | "ed25519PublicKey"?, "permissions"?}
       -> {"apiKey", "secret"?}: an HMAC key (secret generated when none is given) or an
       Ed25519 key (public key PEM)
- POST /_sim/key_permissions {"apiKey", "permissions"}  change a key's apiRestrictions flags,
       as its owner does on Binance's site -> the key's apiRestrictions
- POST /_sim/bnb_burn {"account", "enabled"}     pay fees in BNB
- POST /_sim/symbol_status {"symbol", "status", "expire_open"?}  a maintenance: a symbol not
       TRADING refuses new orders ("Market is closed.") and its price stands still; with
       expire_open its open orders are expired -> {"symbol", "status", "expired"}
- GET/POST /_sim/config                          the core's knobs (fee rates, visibility lag...)
- GET/POST /_sim/clock {"skew_ms"}               shift the exchange clock (-1021 rehearsals)
- GET/POST/DELETE /_sim/limits                   weight and order-count limits; DELETE forgets
       every counter and ban
- GET/POST/DELETE /_sim/faults                   REST fault rules (see faults.py)
- GET/POST/DELETE /_sim/stream                   stream faults (see `stream_fault`)
- POST /_sim/reset                               a fresh exchange (demo account and key kept)
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from engine.sim.core.config import ExchangeConfig
from engine.sim.core.errors import SimError
from engine.sim.server.auth import key_format_ok
from engine.sim.server.context import SimContext
from engine.sim.server.faults import parse_fault
from engine.sim.server.markets import shutdown_frame as market_shutdown_frame
from engine.sim.server.rest import json_response
from engine.sim.server.wsapi import WsApi
from engine.sim.server.wsapi import shutdown_frame as ws_api_shutdown_frame

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminError(Exception):
    """A bad admin request: answered 400 with {"error": message}."""


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this machine (the admin API refuses everyone else)."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def generate_key() -> str:
    """A 64-character alphanumeric string, the shape of Binance API keys and HMAC secrets."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(64))


def _decimal(body: dict[str, Any], name: str) -> Decimal:
    raw = body.get(name)
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise AdminError(f"{name} must be a decimal string")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise AdminError(f"{name} must be a decimal string") from None
    if not value.is_finite():
        raise AdminError(f"{name} must be a decimal string")
    return value


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    raw = body.get(name, default)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise AdminError(f"{name} must be an integer")
    return raw


def _str(body: dict[str, Any], name: str) -> str:
    raw = body.get(name)
    if not isinstance(raw, str) or not raw:
        raise AdminError(f"{name} must be a non-empty string")
    return raw


def _config_changes(config: ExchangeConfig, body: dict[str, Any]) -> dict[str, Any]:
    """Typed values for the ExchangeConfig fields named in `body` (ValueError as AdminError)."""
    current = config.to_dict()
    unknown = sorted(set(body) - set(current))
    if unknown:
        raise AdminError(f"unknown config field(s): {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        default = getattr(config, name)
        if isinstance(default, Decimal):
            changes[name] = _decimal(body, name)
        elif isinstance(default, bool):
            raise AdminError(f"{name} cannot be changed here")
        elif isinstance(default, int):
            changes[name] = _int(body, name)
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AdminError(f"{name} must be a number")
            changes[name] = float(value)
        else:  # replay: {symbol: [price, ...]}
            if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
                raise AdminError(f"{name} must map symbols to lists of prices")
            changes[name] = {str(s): [_decimal({"p": x}, "p") for x in v] for s, v in value.items()}
    return changes


class AdminApi:
    """Handlers of /_sim/*; `reset` is supplied by the runner that owns the exchange's life."""

    def __init__(self, ctx: SimContext, ws_api: WsApi, reset: Callable[[], None]) -> None:
        self._ctx = ctx
        self._ws_api = ws_api
        self._reset = reset

    def routes(self) -> list[web.RouteDef]:
        wrap = self._guard
        return [
            web.get("/_sim/oracle", wrap(self.oracle)),
            web.post("/_sim/price", wrap(self.price)),
            web.post("/_sim/step", wrap(self.step)),
            web.post("/_sim/fund", wrap(self.fund)),
            web.post("/_sim/accounts", wrap(self.accounts)),
            web.post("/_sim/keys", wrap(self.keys)),
            web.post("/_sim/key_permissions", wrap(self.key_permissions)),
            web.post("/_sim/bnb_burn", wrap(self.bnb_burn)),
            web.post("/_sim/symbol_status", wrap(self.symbol_status)),
            web.get("/_sim/config", wrap(self.config)),
            web.post("/_sim/config", wrap(self.config)),
            web.get("/_sim/clock", wrap(self.clock)),
            web.post("/_sim/clock", wrap(self.clock)),
            web.get("/_sim/limits", wrap(self.limits)),
            web.post("/_sim/limits", wrap(self.limits)),
            web.delete("/_sim/limits", wrap(self.limits)),
            web.get("/_sim/faults", wrap(self.faults)),
            web.post("/_sim/faults", wrap(self.faults)),
            web.delete("/_sim/faults", wrap(self.faults)),
            web.get("/_sim/stream", wrap(self.stream)),
            web.post("/_sim/stream", wrap(self.stream)),
            web.delete("/_sim/stream", wrap(self.stream)),
            web.post("/_sim/reset", wrap(self.reset)),
        ]

    def _guard(self, handler: Callable[[dict[str, Any], web.Request], Any]) -> Handler:
        """Loopback only; JSON body in, JSON out; admin and core errors become 400s."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if not is_loopback(request.remote):
                return json_response(403, {"error": "the admin API answers loopback clients only"})
            body: dict[str, Any] = {}
            if request.method != "GET" and request.can_read_body:
                try:
                    loaded = json.loads(await request.text() or "{}")
                except ValueError:
                    return json_response(400, {"error": "the body must be a JSON object"})
                if not isinstance(loaded, dict):
                    return json_response(400, {"error": "the body must be a JSON object"})
                body = loaded
            try:
                result = handler(body, request)
            except (AdminError, ValueError) as error:  # the core refuses bad input with ValueError
                return json_response(400, {"error": str(error)})
            except SimError as error:
                return json_response(error.http_status, error.body())
            finally:
                if request.method != "GET":
                    self._ctx.mark_dirty()
            return json_response(200, result)

        return guarded

    def _account(self, body: dict[str, Any]) -> int:
        if "apiKey" in body:
            record = self._ctx.exchange.key(_str(body, "apiKey"))
            if record is None:
                raise AdminError("no such API key")
            return record.account_id
        return _int(body, "account")

    # handlers ------------------------------------------------------------------------------

    def oracle(self, body: dict[str, Any], request: web.Request) -> Any:
        raw = request.query.get("account")
        if raw is not None and not raw.isdigit():
            raise AdminError("account must be an integer")
        return self._ctx.exchange.oracle(int(raw) if raw is not None else None)

    def price(self, body: dict[str, Any], request: web.Request) -> Any:
        self._ctx.exchange.set_price(_str(body, "symbol"), _decimal(body, "price"))
        return {}

    def step(self, body: dict[str, Any], request: web.Request) -> Any:
        steps = _int(body, "steps", 1)
        if steps < 1:
            raise AdminError("steps must be at least 1")
        self._ctx.exchange.step_market(steps)
        return {}

    def fund(self, body: dict[str, Any], request: web.Request) -> Any:
        self._ctx.exchange.fund(self._account(body), _str(body, "asset"), _decimal(body, "amount"))
        return {}

    def accounts(self, body: dict[str, Any], request: web.Request) -> Any:
        raw = body.get("balances", {})
        if not isinstance(raw, dict):
            raise AdminError("balances must map assets to decimal strings")
        balances = {str(asset): _decimal(raw, asset) for asset in raw}
        name = body.get("name", "")
        account_id = self._ctx.exchange.create_account(balances, name=str(name))
        return {"accountId": account_id}

    def keys(self, body: dict[str, Any], request: web.Request) -> Any:
        account_id = _int(body, "account")  # here "apiKey" names the new key
        api_key = body.get("apiKey") or generate_key()
        if not isinstance(api_key, str) or not key_format_ok(api_key):
            raise AdminError("apiKey must be 1-256 letters and digits")
        permissions = body.get("permissions")
        if permissions is not None and not isinstance(permissions, dict):
            raise AdminError("permissions must be an object of booleans")
        public_pem = body.get("ed25519PublicKey")
        if public_pem is not None:
            if not isinstance(public_pem, str):
                raise AdminError("ed25519PublicKey must be a PEM string")
            self._ctx.exchange.register_key(
                account_id, api_key, ed25519_public_key_pem=public_pem, permissions=permissions
            )
            return {"apiKey": api_key}
        secret = body.get("secret") or generate_key()
        if not isinstance(secret, str):
            raise AdminError("secret must be a string")
        self._ctx.exchange.register_key(
            account_id, api_key, hmac_secret=secret, permissions=permissions
        )
        return {"apiKey": api_key, "secret": secret}

    def key_permissions(self, body: dict[str, Any], request: web.Request) -> Any:
        record = self._ctx.exchange.key(_str(body, "apiKey"))
        if record is None:
            raise AdminError("no such API key")
        permissions = body.get("permissions")
        if not isinstance(permissions, dict) or not all(
            isinstance(value, bool) for value in permissions.values()
        ):
            raise AdminError("permissions must be an object of booleans")
        unknown = sorted(set(permissions) - set(record.permissions))
        if unknown:
            raise AdminError(f"unknown permissions: {unknown}")
        record.permissions.update(permissions)
        return record.restrictions()

    def bnb_burn(self, body: dict[str, Any], request: web.Request) -> Any:
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise AdminError("enabled must be true or false")
        self._ctx.exchange.set_bnb_burn(self._account(body), enabled)
        return {}

    def symbol_status(self, body: dict[str, Any], request: web.Request) -> Any:
        symbol, status = _str(body, "symbol"), _str(body, "status")
        expire_open = body.get("expire_open", False)
        if not isinstance(expire_open, bool):
            raise AdminError("expire_open must be true or false")
        expired = self._ctx.exchange.set_symbol_status(symbol, status, expire_open=expire_open)
        return {"symbol": symbol, "status": status, "expired": expired}

    def config(self, body: dict[str, Any], request: web.Request) -> Any:
        config = self._ctx.exchange.config
        if request.method == "POST":
            for name, value in _config_changes(config, body).items():
                setattr(config, name, value)
        return config.to_dict()

    def clock(self, body: dict[str, Any], request: web.Request) -> Any:
        if request.method == "POST":
            self._ctx.clock.offset_ms = _int(body, "skew_ms")
        return {"skew_ms": self._ctx.clock.offset_ms, "serverTime": self._ctx.clock.now_ms()}

    def limits(self, body: dict[str, Any], request: web.Request) -> Any:
        limiter = self._ctx.limiter
        if request.method == "POST":
            try:
                limiter.config = limiter.config.updated(body)
            except ValueError as error:
                raise AdminError(str(error)) from None
        elif request.method == "DELETE":
            limiter.reset()
        return limiter.config.to_json()

    def faults(self, body: dict[str, Any], request: web.Request) -> Any:
        book = self._ctx.faults
        if request.method == "POST":
            rules = body.get("rules", [body])
            if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
                raise AdminError("rules must be a list of objects")
            try:
                parsed = [parse_fault(rule) for rule in rules]
            except ValueError as error:
                raise AdminError(str(error)) from None
            for rule in parsed:
                book.add(rule)
        elif request.method == "DELETE":
            book.clear()
        return {"rules": book.to_json()}

    def stream(self, body: dict[str, Any], request: web.Request) -> Any:
        if request.method == "POST":
            self.stream_fault(body)
        elif request.method == "DELETE":
            self._ctx.users.clear_faults()
            for conn in self._ws_api.connections(None) | set(self._ctx.markets.connections()):
                conn.resume()
        stalled = [c.name for c in self._ws_api.connections(None) if c.stalled]
        stalled += [c.name for c in self._ctx.markets.connections() if c.stalled]
        return {"stalled": sorted(stalled), "userEventFaults": self._ctx.users.faults_json()}

    def stream_fault(self, body: dict[str, Any]) -> None:
        """Apply one stream fault.

        `{"action": "stall"|"resume"|"drop"|"server_shutdown", "target": "user"|"market",
        "account": N}`: act on the WebSocket API connections subscribed to account N (every
        WebSocket API connection without an account), or on every market stream connection.
        `{"action": "duplicate"|"reorder", "count": N, "account": N}`: send each of the next N
        user events twice / hold the next N user events and send them in reverse order.
        """
        action = body.get("action")
        target = body.get("target", "user")
        if target not in ("user", "market"):
            raise AdminError("target must be 'user' or 'market'")
        account = self._account(body) if "account" in body or "apiKey" in body else None
        if action in ("duplicate", "reorder"):
            if target != "user":
                raise AdminError(f"{action} applies to user streams")
            count = _int(body, "count", 1)
            if count < 1:
                raise AdminError("count must be at least 1")
            if action == "duplicate":
                self._ctx.users.duplicate(account, count)
            else:
                self._ctx.users.reorder(account, count)
            return
        if action not in ("stall", "resume", "drop", "server_shutdown"):
            raise AdminError(
                "action must be stall, resume, drop, server_shutdown, duplicate or reorder"
            )
        if target == "market":
            connections = self._ctx.markets.connections()
        else:
            connections = list(self._ws_api.connections(account))
        now = self._ctx.clock.now_ms()
        for conn in connections:
            if action == "stall":
                conn.stall()
            elif action == "resume":
                conn.resume()
            elif action == "drop":
                conn.drop()
            else:
                frame = (
                    market_shutdown_frame(now, self._ctx.markets.is_combined(conn))
                    if target == "market"
                    else ws_api_shutdown_frame(now)
                )
                conn.shutdown(frame)

    def reset(self, body: dict[str, Any], request: web.Request) -> Any:
        self._reset()
        self._ctx.faults.clear()
        self._ctx.limiter.reset()
        self._ctx.users.clear_faults()
        return {}
