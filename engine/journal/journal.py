"""The engine's journal: its durable memory, one SQLite file per mode and account, one owner.

Every write returns a future that resolves once the row is committed with `synchronous=FULL`
(see `writer.py`); awaiting `record_intent` before sending is how the engine keeps rule R1.
Reads run on a second connection that only sees committed data.

The journal stores rows with a few key columns and a JSON payload that the engine serializes
(decimals as strings). It knows no secrets and takes none: payloads refuse any type they do not
understand, `SecretStr` included, and the account is a name or a key fingerprint, never a key.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import re
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Self

import aiosqlite

from engine.journal.checkpointer import Checkpointer
from engine.journal.codec import (
    decimal_text,
    encode,
    encode_payload,
    format_ts,
    parse_ts,
    utc_now,
)
from engine.journal.files import OwnerLock
from engine.journal.opening import Clock, open_files
from engine.journal.reader import JournalReader
from engine.journal.rows import (
    EventRow,
    FillRow,
    IntentRow,
    JournalSnapshot,
    JournalStats,
    OperatorActionRow,
    OrderRow,
)
from engine.journal.writer import GroupCommitWriter, WriteKind

log = logging.getLogger(__name__)

MODES = ("sim", "testnet", "live")
CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_.:@+-]{1,128}")


class Journal:
    """The one owner of a journal file; create it with `await Journal.open(...)`."""

    def __init__(
        self,
        *,
        path: pathlib.Path,
        mode: str,
        account: str,
        instance: int,
        clock: Clock,
        lock: OwnerLock,
        write_conn: aiosqlite.Connection,
        read_conn: aiosqlite.Connection,
        checkpoint_conn: aiosqlite.Connection,
        writer: GroupCommitWriter,
        checkpointer: Checkpointer,
    ) -> None:
        self.path = path
        self.mode = mode
        self.account = account
        self.instance = instance
        self._clock = clock
        self._lock = lock
        self._write_conn = write_conn
        self._read_conn = read_conn
        self._checkpoint_conn = checkpoint_conn
        self._writer = writer
        self.checkpointer = checkpointer  # copies the log into the file, off the writer's path
        self._reader = JournalReader(read_conn)
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | pathlib.Path,
        *,
        mode: str,
        account: str,
        clock: Clock = utc_now,
        max_batch: int = 1024,
        max_pages: int | None = None,
    ) -> Journal:
        """Lock, open, check and migrate the journal at `path`, for this mode and account.

        Each open counts as a new `instance` (1, 2, ...), committed before this returns, which
        lets id generators stay unique across restarts. `max_pages` caps the file's size in
        SQLite pages: a write that would grow past it fails like a full disk.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not _ACCOUNT.fullmatch(account):
            raise ValueError("account must be 1-128 characters of [A-Za-z0-9_.:@+-]")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        opened = await open_files(
            pathlib.PurePath(path),
            mode=str(mode),
            account=account,
            clock=clock,
            max_pages=max_pages,
        )
        checkpointer = Checkpointer(opened.checkpoint_conn)
        writer = GroupCommitWriter(
            opened.write_conn,
            last_event_seq=opened.last_event_seq,
            max_batch=max_batch,
            on_commit=checkpointer.committed,
        )
        return cls(
            path=opened.path,
            mode=str(mode),
            account=account,
            instance=opened.instance,
            clock=clock,
            lock=opened.lock,
            write_conn=opened.write_conn,
            read_conn=opened.read_conn,
            checkpoint_conn=opened.checkpoint_conn,
            writer=writer,
            checkpointer=checkpointer,
        )

    # -- state --------------------------------------------------------------------------------

    @property
    def failure(self) -> str | None:
        """Why the journal stopped accepting writes (the engine halts), or None when healthy."""
        return self._writer.failure

    @property
    def stats(self) -> JournalStats:
        """Transactions and rows committed since open."""
        return self._writer.stats()

    def _stamp(self, moment: datetime | None) -> str:
        return format_ts(self._clock() if moment is None else moment)

    # -- writes: each returns a future resolved after a durable commit -------------------------

    def record_intent(
        self,
        client_order_id: str,
        *,
        symbol: str,
        payload: Mapping[str, object],
        created_at: datetime | None = None,
    ) -> asyncio.Future[None]:
        """Record what we are about to send; fails with `DuplicateIntent` if the id was used."""
        _check_client_order_id(client_order_id)
        params = (
            client_order_id,
            self._stamp(created_at),
            _name(symbol, "symbol"),
            encode_payload(payload),
        )
        return self._writer.submit(WriteKind.INTENT, params)

    def upsert_order(
        self,
        client_order_id: str,
        *,
        symbol: str,
        state: str,
        terminal: bool,
        payload: Mapping[str, object],
        updated_at: datetime | None = None,
    ) -> asyncio.Future[None]:
        """Store the latest snapshot of an order; `terminal` says it will never change again."""
        _check_client_order_id(client_order_id)
        params = (
            client_order_id,
            _name(symbol, "symbol"),
            _name(state, "state"),
            int(bool(terminal)),
            self._stamp(updated_at),
            encode_payload(payload),
        )
        return self._writer.submit(WriteKind.ORDER, params)

    def record_fill(
        self,
        symbol: str,
        trade_id: int,
        *,
        client_order_id: str,
        payload: Mapping[str, object],
        ts: datetime | None = None,
    ) -> asyncio.Future[bool]:
        """Record a trade; resolves True if new, False if (symbol, trade_id) was already there."""
        if isinstance(trade_id, bool) or not isinstance(trade_id, int) or trade_id < 0:
            raise ValueError(f"trade_id must be a non-negative int, not {trade_id!r}")
        params = (
            _name(symbol, "symbol"),
            trade_id,
            _name(client_order_id, "client_order_id"),
            self._stamp(ts),
            encode_payload(payload),
        )
        return self._writer.submit(WriteKind.FILL, params)

    def set_balance(
        self, asset: str, *, free: Decimal, locked: Decimal, updated_at: datetime | None = None
    ) -> asyncio.Future[None]:
        """Store the last known free and locked amounts of an asset."""
        params = (
            _name(asset, "asset"),
            decimal_text(free, where=f"{asset} free"),
            decimal_text(locked, where=f"{asset} locked"),
            self._stamp(updated_at),
        )
        return self._writer.submit(WriteKind.BALANCE, params)

    def append_event(
        self, event_type: str, payload: Mapping[str, object], *, ts: datetime | None = None
    ) -> asyncio.Future[int]:
        """Append to the event stream; resolves to the event's seq (commit order, from 1)."""
        params = (self._stamp(ts), _name(event_type, "event type"), encode_payload(payload))
        return self._writer.submit(WriteKind.EVENT, params)

    def record_operator_action(
        self,
        action: str,
        params: Mapping[str, object],
        *,
        os_user: str,
        terminal: str,
        confirmed: bool,
        result: str,
        ts: datetime | None = None,
    ) -> asyncio.Future[None]:
        """Audit one operator action: who, from which terminal, what, confirmed or not, outcome."""
        row = (
            self._stamp(ts),
            os_user,
            terminal,
            _name(action, "action"),
            encode_payload(params, where="params"),
            int(bool(confirmed)),
            result,
        )
        return self._writer.submit(WriteKind.OPERATOR_ACTION, row)

    def advance_counter(self, name: str, value: int) -> asyncio.Future[None]:
        """Raise a counter to `value`; counters never go back (name daily ones by their date)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"counter {name!r}: value must be an int, not {value!r}")
        return self._writer.submit(WriteKind.COUNTER, (_name(name, "counter name"), value))

    def set_state(self, key: str, value: object) -> asyncio.Future[None]:
        """Store a small piece of engine state (trading state, halt reason) as JSON."""
        params = (_name(key, "state key"), encode(value, where=f"state {key}"), self._stamp(None))
        return self._writer.submit(WriteKind.STATE, params)

    def begin_unit(self) -> None:
        """Start a unit: the writes queued until `end_unit` commit in one transaction, all or
        nothing, and none of them commits before `end_unit`. End it in the same loop pass: the
        writes queued meanwhile, by anyone, wait for it."""
        self._writer.begin_unit()

    def end_unit(self) -> None:
        """End the unit `begin_unit` started; its writes may commit now."""
        self._writer.end_unit()

    async def flush(self) -> None:
        """Wait until every write queued so far is committed."""
        await self._writer.submit(WriteKind.BARRIER, ())

    # -- reads -------------------------------------------------------------------------------

    async def load(
        self, *, recent_terminal_orders: int = 200, fill_symbols: Collection[str] | None = None
    ) -> JournalSnapshot:
        """What a restart needs: open and recent terminal orders, intents not yet settled by a
        terminal order, fills (all, or of `fill_symbols`), balances, counters and state."""
        return await self._reader.load(
            recent_terminal_orders=recent_terminal_orders, fill_symbols=fill_symbols
        )

    async def events_since(self, seq: int, limit: int = 1000) -> list[EventRow]:
        """Events after `seq` (0 for all), oldest first: how a client resumes the stream."""
        return await self._reader.events_since(seq, limit)

    async def last_event_seq(self) -> int:
        return await self._reader.last_event_seq()

    async def last_trade_id(self, symbol: str) -> int | None:
        """The highest trade id journaled for `symbol`: where a myTrades catch-up starts."""
        return await self._reader.last_trade_id(symbol)

    async def trade_ids_after(self, symbol: str, trade_id: int) -> list[int]:
        """The trade ids journaled for `symbol` above `trade_id`, ascending (keys only)."""
        return await self._reader.trade_ids_after(symbol, trade_id)

    async def max_counter(self, name: str) -> int | None:
        """The highest value a counter reached, or None if it was never set."""
        return await self._reader.max_counter(name)

    async def intent_times_after(self, moment: datetime) -> list[datetime]:
        """When each intent recorded after `moment` was created, oldest first."""
        found = await self._reader.intent_times_after(format_ts(moment))
        return [parse_ts(text) for text in found]

    async def intent(self, client_order_id: str) -> IntentRow | None:
        return await self._reader.intent(client_order_id)

    async def order(self, client_order_id: str) -> OrderRow | None:
        return await self._reader.order(client_order_id)

    def iter_orders(self) -> AsyncIterator[OrderRow]:
        return self._reader.iter_orders()

    def iter_fills(self) -> AsyncIterator[FillRow]:
        return self._reader.iter_fills()

    def iter_operator_actions(self) -> AsyncIterator[OperatorActionRow]:
        return self._reader.iter_operator_actions()

    # -- lifetime ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Commit what is queued, stop the writer and the checkpointer, close the connections,
        release the lock."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close()
        finally:
            await self.checkpointer.close()
            for conn in (self._checkpoint_conn, self._read_conn, self._write_conn):
                try:
                    await conn.close()
                except Exception as exc:  # a failed disk must not keep the lock held
                    log.warning("closing journal connection failed: %s", exc)
            self._lock.release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _check_client_order_id(client_order_id: str) -> None:
    if not isinstance(client_order_id, str) or not CLIENT_ORDER_ID.fullmatch(client_order_id):
        raise ValueError(
            f"client order id {client_order_id!r} must be 1-36 characters of [A-Za-z0-9_-]"
        )


def _name(value: str, what: str) -> str:
    """Key columns are non-empty strings; anything else is a caller's bug, caught here."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty str, not {value!r}")
    return value
