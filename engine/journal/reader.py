"""Reads of the journal, on a connection of their own that only ever sees committed data.

WAL lets this connection read while the writer commits; it is opened `query_only`. Each call
takes a short lock so that the multi-statement `load()` transaction never interleaves with
another read on the same connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import aiosqlite

from engine.journal.codec import decode, encode, parse_ts
from engine.journal.errors import JournalCorrupt
from engine.journal.rows import (
    BalanceRow,
    EventRow,
    FillRow,
    IntentRow,
    JournalSnapshot,
    OperatorActionRow,
    OrderRow,
)

RowT = TypeVar("RowT")

_ORDER_COLUMNS = "client_order_id, symbol, state, terminal, updated_at, payload"
_FILL_COLUMNS = "symbol, trade_id, client_order_id, ts, payload"
_INTENT_COLUMNS = "client_order_id, created_at, symbol, payload"
_ACTION_COLUMNS = "id, ts, os_user, terminal, action, params, confirmed, result"


def _order(row: Sequence[Any]) -> OrderRow:
    return OrderRow(row[0], row[1], row[2], bool(row[3]), parse_ts(row[4]), decode(row[5]))


def _fill(row: Sequence[Any]) -> FillRow:
    return FillRow(row[0], int(row[1]), row[2], parse_ts(row[3]), decode(row[4]))


def _intent(row: Sequence[Any]) -> IntentRow:
    return IntentRow(row[0], parse_ts(row[1]), row[2], decode(row[3]))


def _event(row: Sequence[Any]) -> EventRow:
    return EventRow(int(row[0]), parse_ts(row[1]), row[2], decode(row[3]))


def _action(row: Sequence[Any]) -> OperatorActionRow:
    return OperatorActionRow(
        int(row[0]), parse_ts(row[1]), row[2], row[3], row[4], decode(row[5]), bool(row[6]), row[7]
    )


def _balance(row: Sequence[Any]) -> BalanceRow:
    return BalanceRow(row[0], Decimal(row[1]), Decimal(row[2]), parse_ts(row[3]))


class JournalReader:
    """The journal's read side: state for a restart, the event stream, lookups and exports."""

    def __init__(self, conn: aiosqlite.Connection, *, page_size: int = 500) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._page_size = page_size

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        async with self._lock:
            return await self._all(sql, params)

    async def load(
        self, *, recent_terminal_orders: int, fill_symbols: Collection[str] | None
    ) -> JournalSnapshot:
        """One consistent read (a single read transaction) of what a restart needs."""
        if recent_terminal_orders < 0:
            raise ValueError("recent_terminal_orders must be >= 0")
        async with self._lock:
            await self._conn.execute("BEGIN")
            try:
                meta = await self._all("SELECT mode, account, created_at, instance FROM meta")
                if not meta:
                    raise JournalCorrupt("journal has no meta row: it was never opened properly")
                open_orders = await self._all(
                    f"SELECT {_ORDER_COLUMNS} FROM orders WHERE terminal = 0 ORDER BY rowid"
                )
                # The newest terminal orders, returned oldest first like everything else.
                terminal_orders = await self._all(
                    f"SELECT {_ORDER_COLUMNS} FROM (SELECT rowid AS r, * FROM orders"
                    " WHERE terminal = 1 ORDER BY updated_at DESC, rowid DESC LIMIT ?)"
                    " ORDER BY updated_at, r",
                    (recent_terminal_orders,),
                )
                intents = await self._all(
                    "SELECT i.client_order_id, i.created_at, i.symbol, i.payload"
                    " FROM intents i LEFT JOIN orders o USING (client_order_id)"
                    " WHERE o.client_order_id IS NULL OR o.terminal = 0 ORDER BY i.rowid"
                )
                if fill_symbols is None:
                    fills = await self._all(f"SELECT {_FILL_COLUMNS} FROM fills ORDER BY rowid")
                else:
                    fills = await self._all(
                        f"SELECT {_FILL_COLUMNS} FROM fills"
                        " WHERE symbol IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                        (encode(sorted(fill_symbols)),),
                    )
                balances = await self._all(
                    "SELECT asset, free, locked, updated_at FROM balances ORDER BY asset"
                )
                counters = await self._all("SELECT name, value FROM counters ORDER BY name")
                state = await self._all("SELECT key, value FROM state ORDER BY key")
                last_seq = await self._all("SELECT coalesce(max(seq), 0) FROM events")
            finally:
                await self._conn.execute("COMMIT")
        mode, account, created_at, instance = meta[0]
        return JournalSnapshot(
            mode=mode,
            account=account,
            created_at=parse_ts(created_at),
            instance=int(instance),
            open_orders=tuple(_order(r) for r in open_orders),
            recent_terminal_orders=tuple(_order(r) for r in terminal_orders),
            unsettled_intents=tuple(_intent(r) for r in intents),
            fills=tuple(_fill(r) for r in fills),
            balances={r[0]: _balance(r) for r in balances},
            counters={r[0]: int(r[1]) for r in counters},
            state={r[0]: decode(r[1]) for r in state},
            last_event_seq=int(last_seq[0][0]),
        )

    async def events_since(self, seq: int, limit: int) -> list[EventRow]:
        """Events with a seq greater than `seq`, oldest first, at most `limit` of them."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        rows = await self._fetch(
            "SELECT seq, ts, type, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [_event(r) for r in rows]

    async def last_event_seq(self) -> int:
        rows = await self._fetch("SELECT coalesce(max(seq), 0) FROM events")
        return int(rows[0][0])

    async def last_trade_id(self, symbol: str) -> int | None:
        rows = await self._fetch("SELECT max(trade_id) FROM fills WHERE symbol = ?", (symbol,))
        return None if rows[0][0] is None else int(rows[0][0])

    async def trade_ids_after(self, symbol: str, trade_id: int) -> list[int]:
        """The trade ids journaled for `symbol` above `trade_id`, ascending: read from the
        fills' key alone (no payload is decoded), so a restart's check is cheap."""
        rows = await self._fetch(
            "SELECT trade_id FROM fills WHERE symbol = ? AND trade_id > ? ORDER BY trade_id",
            (symbol, trade_id),
        )
        return [int(row[0]) for row in rows]

    async def max_counter(self, name: str) -> int | None:
        rows = await self._fetch("SELECT value FROM counters WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else None

    async def intent_times_after(self, moment: str) -> list[str]:
        rows = await self._fetch(
            "SELECT created_at FROM intents WHERE created_at > ? ORDER BY created_at", (moment,)
        )
        return [str(row[0]) for row in rows]

    async def intent(self, client_order_id: str) -> IntentRow | None:
        rows = await self._fetch(
            f"SELECT {_INTENT_COLUMNS} FROM intents WHERE client_order_id = ?", (client_order_id,)
        )
        return _intent(rows[0]) if rows else None

    async def order(self, client_order_id: str) -> OrderRow | None:
        rows = await self._fetch(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id = ?", (client_order_id,)
        )
        return _order(rows[0]) if rows else None

    def iter_orders(self) -> AsyncIterator[OrderRow]:
        """Every order snapshot, in the order the orders were first journaled."""
        return self._paged(f"SELECT rowid, {_ORDER_COLUMNS} FROM orders", _order)

    def iter_fills(self) -> AsyncIterator[FillRow]:
        """Every fill, in the order they were journaled."""
        return self._paged(f"SELECT rowid, {_FILL_COLUMNS} FROM fills", _fill)

    def iter_operator_actions(self) -> AsyncIterator[OperatorActionRow]:
        """The whole operator audit trail, oldest first."""
        return self._paged(f"SELECT rowid, {_ACTION_COLUMNS} FROM operator_actions", _action)

    async def _paged(
        self, select: str, mapper: Callable[[Sequence[Any]], RowT]
    ) -> AsyncIterator[RowT]:
        """Keyset pages by rowid, so an export of any size holds one page in memory at a time."""
        after = 0
        while True:
            rows = await self._fetch(
                f"{select} WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, self._page_size)
            )
            for row in rows:
                yield mapper(row[1:])
            if len(rows) < self._page_size:
                return
            after = int(rows[-1][0])
