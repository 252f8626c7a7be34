"""Start-up: the journal's memory back into a book and a ledger, wired to the venue.

Reads the journal, restores the order book (orders in flight before a crash come back UNKNOWN
once the pipeline exists), reads the venue's rules, replays positions and balances, and makes
the client order id generator continue where this journal's instance can never collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.ids import ClientOrderIdGenerator
from engine.core.reports import BalanceReport
from engine.journal import Journal, JournalSnapshot
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.service.eventstream import EventHub
from engine.service.gate import TRADING_KEY, TradingGate
from engine.service.health import VenueLink
from engine.service.options import EngineOptions
from engine.service.orders import id_counter_name
from engine.service.parts import Parts
from engine.service.pipeline import Pipeline
from engine.service.port import VenuePort
from engine.service.records import Adoption
from engine.service.restore import adoptions_from_state, replay_positions, restore_book
from engine.service.tasks import TaskKeeper
from engine.venue.marketdata import MarkStore
from engine.venue.timing import Clock

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(value: int) -> str:
    text = ""
    while True:
        value, digit = divmod(value, 36)
        text = _DIGITS[digit] + text
        if value == 0:
            return text


def instance_tag(created_at: datetime, instance: int) -> str:
    """The id tag of one journal open: the journal's creation second (6 base-36 digits, so a
    wiped and recreated journal never reuses a tag) then the open count (base 36)."""
    return f"{_base36(int(created_at.timestamp())):0>6}{_base36(instance)}"[:12]


class EngineStartError(Exception):
    """The engine could not start; the message says why and what to do."""


@dataclass
class Assembled:
    parts: Parts
    in_flight: tuple[str, ...]
    adoptions: list[Adoption]


async def assemble(
    *,
    journal: Journal,
    venue: VenuePort,
    link: VenueLink,
    clock: Clock,
    options: EngineOptions,
    gate: TradingGate,
    tasks: TaskKeeper,
    halt: Callable[[str], None],
    on_journal_failure: Callable[[str], None],
) -> Assembled:
    """Everything but the streams; the venue must be started."""
    loaded = await journal.load(recent_terminal_orders=options.recent_orders)
    prefix = options.id_prefix
    book = OrderBook(is_ours=lambda cid: cid.startswith(f"{prefix}-"))
    restored = restore_book(book, loaded)
    gate.restore(loaded.state.get(TRADING_KEY))
    ids = _id_generator(prefix, instance_tag(loaded.created_at, journal.instance), loaded)
    info = await link.call(venue.exchange_info())
    rules = dict(info.symbols)
    if options.symbols is None:
        symbols = tuple(s for s in sorted(rules) if rules[s].status == "TRADING")
    else:
        unknown = [s for s in options.symbols if s not in rules]
        if unknown:
            raise EngineStartError(f"symbols unknown to the exchange: {', '.join(unknown)}")
        symbols = tuple(options.symbols)
    ledger = Ledger(rules)
    for row in loaded.balances.values():
        ledger.balances.apply(BalanceReport(row.asset, row.free, row.locked, row.updated_at))
    adoptions = adoptions_from_state(loaded.state)
    replay_positions(ledger, loaded.fills, adoptions)
    marks = MarkStore(clock)
    hub = EventHub(journal.events_since, last_seq=loaded.last_event_seq)

    def fee_price(asset: str, quote: str) -> Decimal | None:
        mark = marks.fresh(f"{asset}{quote}", options.mark_max_age_s)
        return None if mark is None else mark.price

    pipeline = Pipeline(
        journal=journal,
        book=book,
        ledger=ledger,
        hub=hub,
        now=clock.now,
        fee_pricer=fee_price,
        on_failure=on_journal_failure,
        halt=halt,
        journal_fill_count=len(loaded.fills),
        recent=restored.recent,
        recent_limit=options.recent_orders,
    )
    pipeline.journal_orders(restored.forwarded)  # rows that were behind their fills
    parts = Parts(
        options=options,
        clock=clock,
        journal=journal,
        venue=venue,
        link=link,
        book=book,
        ledger=ledger,
        rules=rules,
        symbols=symbols,
        ids=ids,
        marks=marks,
        pipeline=pipeline,
        gate=gate,
        tasks=tasks,
        halt=halt,
    )
    return Assembled(parts, restored.in_flight, adoptions)


def _id_generator(prefix: str, tag: str, loaded: JournalSnapshot) -> ClientOrderIdGenerator:
    """Continue after every id this instance tag already used (journal counter and rows)."""
    used = [row.client_order_id for row in (*loaded.open_orders, *loaded.recent_terminal_orders)]
    used += [row.client_order_id for row in loaded.unsettled_intents]
    generator = ClientOrderIdGenerator.restored(prefix, tag, used)
    counted = loaded.counters.get(id_counter_name(tag))
    if counted is not None and counted > generator.next_counter:
        generator = ClientOrderIdGenerator(prefix, tag, counted)
    return generator
