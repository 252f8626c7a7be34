"""Exchange: the facade of the embedded Binance Spot exchange's core (see engine/sim/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.sim.core import lifecycle, persist, queries
from engine.sim.core import params as p
from engine.sim.core.accounts import (
    DEFAULT_PERMISSIONS,
    TRADE_METHODS,
    USER_DATA_METHODS,
    Account,
    ApiKey,
)
from engine.sim.core.clock import Clock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.errors import (
    MSG_INSUFFICIENT_BALANCE,
    MSG_NO_SUCH_ORDER_LIST,
    MSG_REPLACE_FAILED,
    MSG_REPLACE_PARTIAL,
    MSG_UNKNOWN_ORDER,
    SimError,
    bad_key,
    bad_symbol,
    cancel_rejected,
    invalid_param,
    mandatory,
    one_of_required,
    order_rejected,
)
from engine.sim.core.events import balance_update
from engine.sim.core.oco import place_oco
from engine.sim.core.orders import query_shape, response_shape
from engine.sim.core.params import fmt
from engine.sim.core.settlement import close
from engine.sim.core.symbols import SYMBOL_STATUSES, SymbolSpec, default_symbols
from engine.sim.core.validation import check_filters, enum, parse_order, symbol_of
from engine.sim.core.venue import MarketListener, UserListener, Venue

Params = p.Params


class Exchange:
    """Binance Spot in-process: params as received in, Binance response bodies out.

    Deterministic given the seed and the clock; failures raise SimError. Events go to the
    listeners synchronously before each call returns.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int,
        symbols: list[SymbolSpec] | None = None,
        config: ExchangeConfig | None = None,
    ) -> None:
        self._v = Venue(clock, seed, symbols or default_symbols(), config or ExchangeConfig())
        self._tracker = persist.Tracker()
        for market in self._v.markets.values():
            market.start(self._v.config, self._v.now)

    @property
    def config(self) -> ExchangeConfig:
        """Live configuration: changes apply from the next call on."""
        return self._v.config

    def configure(self, changes: dict[str, Any]) -> None:
        """Turn knobs by name (see ExchangeConfig); ValueError leaves everything unchanged.
        Book shape changes show from the next market step."""
        self._v.config = self._v.config.updated(changes)

    def config_json(self) -> dict[str, Any]:
        return self._v.config.to_dict()

    @property
    def symbols(self) -> list[SymbolSpec]:
        return list(self._v.specs.values())

    # -- accounts and keys -------------------------------------------------------------------

    def create_account(self, balances: dict[str, Decimal], *, name: str = "") -> int:
        v = self._v
        negative = sorted(asset for asset, amount in balances.items() if amount < 0)
        if negative:
            raise ValueError(f"negative starting balance for {negative}")
        with v.op():
            account_id = v.take_counter("account")
            account = v.accounts[account_id] = Account(account_id, name)
            for asset, amount in balances.items():
                account.credit(asset, amount, v.now)
                v.add_to(v.funded, asset, amount)
        return account_id

    def register_key(
        self,
        account_id: int,
        api_key: str,
        *,
        hmac_secret: str | None = None,
        ed25519_public_key_pem: str | None = None,
        permissions: dict[str, bool] | None = None,
    ) -> None:
        if account_id not in self._v.accounts:
            raise ValueError(f"no account {account_id}")
        if api_key in self._v.keys:
            raise ValueError("API key already registered")
        if hmac_secret is None and ed25519_public_key_pem is None:
            raise ValueError("a key needs an HMAC secret or an Ed25519 public key")
        unknown = set(permissions or {}) - set(DEFAULT_PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        self._v.keys[api_key] = ApiKey(
            api_key=api_key,
            account_id=account_id,
            hmac_secret=hmac_secret,
            ed25519_public_key_pem=ed25519_public_key_pem,
            permissions={**DEFAULT_PERMISSIONS, **(permissions or {})},
            create_time=self._v.clock.now_ms(),
        )

    def key(self, api_key: str) -> ApiKey | None:
        return self._v.keys.get(api_key)

    def authorize(self, api_key: str, method: str) -> int:
        """The account behind `api_key` if the key may call facade `method`, else -2015:
        trading methods need enableSpotAndMarginTrading, USER_DATA ones enableReading."""
        key = self._v.keys.get(api_key)
        if key is None:
            raise bad_key()
        if method in TRADE_METHODS and not key.permissions["enableSpotAndMarginTrading"]:
            raise bad_key()
        if method in USER_DATA_METHODS and not key.permissions["enableReading"]:
            raise bad_key()
        return key.account_id

    def fund(self, account_id: int, asset: str, delta: Decimal) -> None:
        v = self._v
        account = self._account(account_id)
        with v.op():
            if delta < 0 and account.free(asset) < -delta:
                raise order_rejected(MSG_INSUFFICIENT_BALANCE)
            account.credit(asset, delta, v.now)
            v.add_to(v.funded, asset, delta)
            if v.wants_user_events(account_id):
                v.user_event(account_id, balance_update(asset, delta, v.now))

    def set_bnb_burn(self, account_id: int, enabled: bool) -> None:
        self._account(account_id).bnb_burn = enabled

    def _account(self, account_id: int) -> Account:
        account = self._v.accounts.get(account_id)
        if account is None:
            raise bad_key()
        return account

    # -- market data -------------------------------------------------------------------------

    def _symbols_param(self, params: Params) -> list[str] | None:
        single = p.text(params, "symbol")
        many = p.symbol_list(params, "symbols")
        if single is not None and many is not None:
            raise SimError(-1128, "Combination of optional parameters invalid.")
        chosen = [single] if single is not None else many
        for symbol in chosen or ():
            if symbol not in self._v.specs:
                raise bad_symbol()
        return chosen

    def exchange_info(self, params: Params) -> dict[str, Any]:
        chosen = self._symbols_param(params) or list(self._v.specs)
        return {
            "timezone": "UTC",
            "serverTime": self._v.clock.now_ms(),
            "exchangeFilters": [],
            "symbols": [self._symbol_info(s) for s in chosen],
        }

    def _symbol_info(self, symbol: str) -> dict[str, Any]:
        info = self._v.specs[symbol].info()
        info["status"] = self._v.symbol_status.get(symbol, "TRADING")
        return info

    def set_symbol_status(self, symbol: str, status: str, *, expire_open: bool = False) -> int:
        """A maintenance, as Binance runs one: while a symbol is not TRADING (BREAK, HALT, ...)
        exchangeInfo says so, new orders get -2010 "Market is closed." and its price stands
        still; cancels still work. With `expire_open` the exchange also expires the symbol's
        open orders (every account's), each reported EXPIRED. Returns how many expired."""
        if symbol not in self._v.specs:
            raise bad_symbol()
        if status not in SYMBOL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SYMBOL_STATUSES)}")
        v = self._v
        with v.op():
            if status == "TRADING":
                v.symbol_status.pop(symbol, None)
            else:
                v.symbol_status[symbol] = status
            if not expire_open or status == "TRADING":
                return 0
            expiring = sorted(
                (
                    order
                    for (_account, order_symbol), held in v.open_orders.items()
                    if order_symbol == symbol
                    for order in held.values()
                ),
                key=lambda order: order.order_id,
            )
            for order in expiring:
                if order.is_open:  # an OCO leg may have ended with its sibling
                    close(v, order, "EXPIRED", "EXPIRED")
            return len(expiring)

    def _per_symbol(
        self, params: Params, build: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any] | list[dict[str, Any]]:
        chosen = self._symbols_param(params)
        if p.present(params, "symbol"):
            assert chosen is not None
            return build(chosen[0])
        return [build(s) for s in (chosen or list(self._v.specs))]

    def ticker_price(self, params: Params) -> dict[str, Any] | list[dict[str, Any]]:
        markets = self._v.markets
        return self._per_symbol(params, lambda s: {"symbol": s, "price": fmt(markets[s].last)})

    def book_ticker(self, params: Params) -> dict[str, Any] | list[dict[str, Any]]:
        def build(symbol: str) -> dict[str, Any]:
            top = self._v.top_of_book(symbol)
            return {
                "symbol": symbol,
                "bidPrice": fmt(top.bid),
                "bidQty": fmt(top.bid_qty),
                "askPrice": fmt(top.ask),
                "askQty": fmt(top.ask_qty),
            }

        return self._per_symbol(params, build)

    def avg_price(self, params: Params) -> dict[str, Any]:
        spec = symbol_of(params, self._v.specs)
        market = self._v.markets[spec.symbol]
        now = self._v.clock.now_ms()
        return {
            "mins": spec.avg_price_mins,
            "price": fmt(market.avg_price(now)),
            "closeTime": market.last_time,
        }

    def set_price(self, symbol: str, price: Decimal) -> None:
        if symbol not in self._v.specs:
            raise bad_symbol()
        if price <= 0:
            raise ValueError("price must be positive")
        with self._v.op():
            lifecycle.move_market(self._v, symbol, price)

    def step_market(self, steps: int = 1) -> None:
        """Advance every symbol's path by whole steps, independently of the clock."""
        with self._v.op():
            for _ in range(steps):
                for symbol in self._v.specs:
                    lifecycle.step_symbol(self._v, symbol)

    def advance_to(self, now_ms: int) -> None:
        """Step the paths once per `step_ms` elapsed since the last call; beyond
        `max_catchup_steps` the older time is skipped (prices do not move for it)."""
        v = self._v
        step_ms = v.config.step_ms
        due = (now_ms - v.last_step_ms) // step_ms
        if due <= 0:
            return
        v.last_step_ms += due * step_ms
        with v.op():
            for _ in range(min(due, v.config.max_catchup_steps)):
                for symbol in v.specs:
                    lifecycle.step_symbol(v, symbol)

    # -- trading -----------------------------------------------------------------------------

    def new_order(self, account_id: int, params: Params, *, test: bool = False) -> dict[str, Any]:
        v = self._v
        self._account(account_id)
        with v.op():
            spec = symbol_of(params, v.specs)
            req = parse_order(params, spec)
            avg = v.markets[spec.symbol].avg_price(v.now)
            check_filters(req, spec, avg, v.counts(account_id, spec.symbol))
            if test:
                return {}
            order, execution = lifecycle.place(v, account_id, req)
            return response_shape(order, v.now, req.resp_type, execution)

    def get_order(self, account_id: int, params: Params) -> dict[str, Any]:
        spec = symbol_of(params, self._v.specs)
        with self._v.op():
            return queries.get_order(self._v, account_id, spec.symbol, params)

    def cancel_order(self, account_id: int, params: Params) -> dict[str, Any]:
        v = self._v
        with v.op():
            spec = symbol_of(params, v.specs)
            order = lifecycle.find_order(v, account_id, spec.symbol, params, for_cancel=True)
            restriction = lifecycle.cancel_restriction(params)
            cancel_id = p.client_id(params, "newClientOrderId")
            return lifecycle.cancel(v, order, cancel_id, restriction)

    def open_orders(self, account_id: int, params: Params) -> list[dict[str, Any]]:
        symbol = None
        if p.present(params, "symbol"):
            symbol = symbol_of(params, self._v.specs).symbol
        with self._v.op():
            return queries.open_orders(self._v, account_id, symbol)

    def cancel_open_orders(self, account_id: int, params: Params) -> list[dict[str, Any]]:
        v = self._v
        with v.op():
            spec = symbol_of(params, v.specs)
            open_now = sorted(
                v.open_orders.get((account_id, spec.symbol), {}).values(), key=lambda o: o.order_id
            )
            if not open_now:
                raise cancel_rejected(MSG_UNKNOWN_ORDER)
            cancel_id = p.client_id(params, "newClientOrderId") or v.generate_client_id()
            return [
                lifecycle.cancel(v, order, cancel_id, None) for order in open_now if order.is_open
            ]

    def all_orders(self, account_id: int, params: Params) -> list[dict[str, Any]]:
        spec = symbol_of(params, self._v.specs)
        with self._v.op():
            return queries.all_orders(self._v, account_id, spec.symbol, params)

    def my_trades(self, account_id: int, params: Params) -> list[dict[str, Any]]:
        spec = symbol_of(params, self._v.specs)
        with self._v.op():
            return queries.my_trades(self._v, account_id, spec.symbol, params)

    def account(self, account_id: int, params: Params) -> dict[str, Any]:
        self._account(account_id)
        with self._v.op():
            return queries.account(self._v, account_id, params)

    def new_oco(self, account_id: int, params: Params) -> dict[str, Any]:
        v = self._v
        self._account(account_id)
        with v.op():
            spec = symbol_of(params, v.specs)
            return place_oco(v, account_id, spec, params)

    def get_order_list(self, account_id: int, params: Params) -> dict[str, Any]:
        with self._v.op():
            return queries.get_order_list(self._v, account_id, params)

    def cancel_order_list(self, account_id: int, params: Params) -> dict[str, Any]:
        v = self._v
        with v.op():
            spec = symbol_of(params, v.specs)
            missing = cancel_rejected(MSG_NO_SUCH_ORDER_LIST)
            order_list = queries.find_list(
                v, account_id, params, client_name="listClientOrderId", error=missing
            )
            if order_list.symbol != spec.symbol:
                raise missing
            if not order_list.is_open:
                raise cancel_rejected(MSG_UNKNOWN_ORDER)
            cancel_id = p.client_id(params, "newClientOrderId") or v.generate_client_id()
            return lifecycle.cancel_whole_list(v, order_list, cancel_id)

    def open_order_lists(self, account_id: int, params: Params) -> list[dict[str, Any]]:
        with self._v.op():
            return queries.open_order_lists(self._v, account_id)

    def cancel_replace(self, account_id: int, params: Params) -> dict[str, Any]:
        """Cancel then place; filters are checked first, partial results come back as
        -2021 (HTTP 409) / -2022 (HTTP 400) with `data` in SimError.extra."""
        v = self._v
        self._account(account_id)
        with v.op():
            spec = symbol_of(params, v.specs)
            modes = ("STOP_ON_FAILURE", "ALLOW_FAILURE")
            mode = enum(params, "cancelReplaceMode", modes, invalid_param("cancelReplaceMode"))
            if mode is None:
                raise mandatory("cancelReplaceMode")
            req = parse_order(params, spec)
            avg = v.markets[spec.symbol].avg_price(v.now)
            check_filters(req, spec, avg, v.counts(account_id, spec.symbol), new_orders=0)
            if not (
                p.present(params, "cancelOrderId") or p.present(params, "cancelOrigClientOrderId")
            ):
                raise one_of_required("cancelOrigClientOrderId", "cancelOrderId")
            restriction = lifecycle.cancel_restriction(params)
            cancel_id = p.client_id(params, "cancelNewClientOrderId")
            cancel_ok, cancel_body = self._try(
                lambda: lifecycle.cancel(
                    v,
                    lifecycle.find_order(
                        v,
                        account_id,
                        spec.symbol,
                        params,
                        for_cancel=True,
                        id_name="cancelOrderId",
                        client_name="cancelOrigClientOrderId",
                    ),
                    cancel_id,
                    restriction,
                )
            )
            data: dict[str, Any] = {
                "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
                "newOrderResult": "NOT_ATTEMPTED",
                "cancelResponse": cancel_body,
                "newOrderResponse": None,
            }
            if not cancel_ok and mode == "STOP_ON_FAILURE":
                raise SimError(-2022, MSG_REPLACE_FAILED, 400, extra={"data": data})

            def place() -> dict[str, Any]:
                order, execution = lifecycle.place(v, account_id, req)
                return response_shape(order, v.now, req.resp_type, execution)

            new_ok, new_body = self._try(place)
            data["newOrderResult"] = "SUCCESS" if new_ok else "FAILURE"
            data["newOrderResponse"] = new_body
            if cancel_ok and new_ok:
                return data
            if cancel_ok or new_ok:
                raise SimError(-2021, MSG_REPLACE_PARTIAL, 409, extra={"data": data})
            raise SimError(-2022, MSG_REPLACE_FAILED, 400, extra={"data": data})

    @staticmethod
    def _try(action: Callable[[], dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
        try:
            return True, action()
        except SimError as error:
            return False, {"code": error.code, "msg": error.msg}

    def api_restrictions(self, account_id: int, api_key: str | None = None) -> dict[str, Any]:
        """GET /sapi/v1/account/apiRestrictions for `api_key` (default: the account's first key)."""
        for key in self._v.keys.values():
            if key.account_id == account_id and (api_key is None or key.api_key == api_key):
                return key.restrictions()
        raise bad_key()

    # -- events ------------------------------------------------------------------------------

    def add_user_listener(self, account_id: int, fn: UserListener) -> int:
        token = self._v.next_token
        self._v.next_token += 1
        self._v.user_listeners.setdefault(account_id, {})[token] = fn
        return token

    def remove_user_listener(self, token: int) -> None:
        for listeners in self._v.user_listeners.values():
            listeners.pop(token, None)

    def add_market_listener(self, fn: MarketListener) -> int:
        token = self._v.next_token
        self._v.next_token += 1
        self._v.market_listeners[token] = fn
        return token

    def remove_market_listener(self, token: int) -> None:
        self._v.market_listeners.pop(token, None)

    # -- oracle and persistence --------------------------------------------------------------

    def oracle(self, account_id: int | None = None) -> dict[str, Any]:
        """Every order, trade and balance as the exchange knows them (no visibility lag),
        plus the fees collected, the synthetic book's net flows and the funded totals:
        per asset, balances + fees + house == funded."""
        v = self._v

        def mine(owner: int) -> bool:
            return account_id is None or owner == account_id

        orders = [
            query_shape(o) | {"accountId": o.account_id}
            for o in v.orders.values()
            if mine(o.account_id)
        ]
        trades = [
            t.shape() | {"accountId": t.account_id}
            for batch in v.trades.values()
            for t in batch
            if mine(t.account_id)
        ]
        trades.sort(key=lambda t: (t["time"], t["symbol"], t["id"], t["accountId"]))
        balances = {
            acct.account_id: {
                asset: {"free": fmt(bal.free), "locked": fmt(bal.locked)}
                for asset, bal in sorted(acct.balances.items())
            }
            for acct in v.accounts.values()
            if mine(acct.account_id)
        }
        return {
            "orders": orders,
            "trades": trades,
            "balances": balances,
            "fees": {a: fmt(x) for a, x in sorted(v.fees.items())},
            "house": {a: fmt(x) for a, x in sorted(v.house.items())},
            "funded": {a: fmt(x) for a, x in sorted(v.funded.items())},
        }

    def to_state(self) -> dict[str, Any]:
        """The complete state (costs time in proportion to the history)."""
        return persist.dump(self._v)

    def state_delta(self) -> dict[str, Any]:
        """The small state plus the orders, order lists and trades created or changed since
        the previous call, with "full": True when it is the whole state (the first call, or
        the first after from_state without mark_saved). One consumer: the state store."""
        return self._tracker.delta(self._v)

    def mark_saved(self) -> None:
        """The store holds this exchange as it is now (it was just loaded from there): the
        next state_delta lists only the changes from here on."""
        self._tracker.mark_saved(self._v)

    def has_record_changes(self) -> bool:
        """Whether orders, order lists or trades changed since the last state_delta (e.g.
        resting orders the market filled): such changes deserve a prompt write."""
        return self._tracker.has_changes(self._v)

    @classmethod
    def from_state(
        cls, state: dict[str, Any], *, clock: Clock, symbols: list[SymbolSpec] | None = None
    ) -> Exchange:
        exchange = cls.__new__(cls)
        exchange._v = persist.load(state, clock, symbols)
        exchange._tracker = persist.Tracker()
        return exchange
