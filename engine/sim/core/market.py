"""Per-symbol synthetic market: seeded price path or CSV replay, a finite book, rolling stats."""

from __future__ import annotations

import base64
import math
import random
from array import array
from collections import deque
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from engine.sim.core.config import ExchangeConfig
from engine.sim.core.params import ZERO, floor_to_step, q8
from engine.sim.core.symbols import SymbolSpec

AVG_BUCKET_MS = 60_000
DAY_BUCKET_MS = 15 * 60_000
DAY_MS = 24 * 60 * 60_000
_RAW_PLACES = Decimal("1e-10")


def parse_price_csv(text: str) -> list[Decimal]:
    """Prices from `timestamp_ms,price` rows or one price per line, in file order.

    Blank lines, `#` comments and a header row whose price is not a number are skipped; the
    timestamp column is informative only: the exchange replays one row per `step_ms` step and
    holds the last price once the series is over.
    """
    prices: list[Decimal] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cell = line.split(",")[-1].strip()
        try:
            price = Decimal(cell)
        except ArithmeticError:
            if prices:
                raise ValueError(f"not a price: {line!r}") from None
            continue  # a header
        if not price.is_finite() or price <= 0:
            raise ValueError(f"not a positive price: {line!r}")
        prices.append(price)
    return prices


def rng_state_to_json(rng: random.Random) -> list[Any]:
    """A Random's state as [version, base64 of its 625 words, gauss_next]."""
    version, words, gauss_next = rng.getstate()
    packed = base64.b64encode(array("I", words).tobytes()).decode("ascii")
    return [version, packed, gauss_next]


def rng_state_from_json(data: list[Any]) -> random.Random:
    rng = random.Random()
    words = array("I")
    words.frombytes(base64.b64decode(data[1]))
    rng.setstate((data[0], tuple(words), data[2]))
    return rng


class SymbolMarket:
    """The synthetic market of one symbol: mid price, last trade price, book levels, stats."""

    def __init__(self, spec: SymbolSpec, rng: random.Random, start_ms: int) -> None:
        self.spec = spec
        self.rng = rng
        self.raw = spec.start_price  # unsnapped path value, so sub-tick drift accumulates
        self.mid = spec.start_price
        self.last = spec.start_price
        self.last_qty = ZERO
        self.last_time = start_ms
        self.replay_index = 0
        self.book_update_id = 1
        self.bids: list[tuple[Decimal, Decimal]] = []
        self.asks: list[tuple[Decimal, Decimal]] = []
        self.bid_taken: list[Decimal] = []
        self.ask_taken: list[Decimal] = []
        # avg buckets: [start, sum, count]; day buckets: [start, o, h, l, c, v, q, n, first, last]
        self.avg_buckets: deque[list[Any]] = deque()
        self.day_buckets: deque[list[Any]] = deque()

    # -- the path ---------------------------------------------------------------------------

    def snap(self, price: Decimal) -> Decimal:
        tick = self.spec.tick_size
        snapped = (price / tick).to_integral_value(ROUND_HALF_UP) * tick
        return max(snapped, tick)

    def next_raw(self, config: ExchangeConfig) -> Decimal:
        """The path's next value: the next replayed row or a geometric random-walk step."""
        series = config.replay.get(self.spec.symbol)
        if series:
            if self.replay_index + 1 >= len(series):
                return self.raw  # the series is over: hold the current price
            self.replay_index += 1
            return series[self.replay_index]
        shock = self.rng.gauss(0.0, 1.0) * config.volatility
        factor = Decimal(repr(math.exp(shock)))
        return (self.raw * factor).quantize(_RAW_PLACES)

    def move_to(self, raw: Decimal, config: ExchangeConfig, now_ms: int) -> None:
        """Re-center the market on `raw`: new mid, last price, fresh synthetic liquidity."""
        self.raw = raw
        self.mid = self.snap(raw)
        self.last = self.mid
        self.last_time = now_ms
        self.rebuild_book(config)
        self.record_price(now_ms, self.mid)

    def start(self, config: ExchangeConfig, now_ms: int) -> None:
        series = config.replay.get(self.spec.symbol)
        raw = series[0] if series else self.spec.start_price
        self.move_to(raw, config, now_ms)

    # -- the synthetic book -----------------------------------------------------------------

    def rebuild_book(self, config: ExchangeConfig) -> None:
        spec = self.spec
        tick = spec.tick_size
        gap = max(tick, floor_to_step(self.mid * config.level_gap_bps / 10_000, tick))
        offset = tick * config.spread_ticks
        bids: list[tuple[Decimal, Decimal]] = []
        asks: list[tuple[Decimal, Decimal]] = []
        for level in range(config.book_levels):
            notional = config.level_notional * (1 + level * config.level_growth)
            ask = self.mid + offset + gap * level
            asks.append((ask, self._level_qty(notional, ask)))
            bid = self.mid - offset - gap * level
            if bid >= spec.min_price and bid > 0:
                bids.append((bid, self._level_qty(notional, bid)))
        self.bids, self.asks = bids, asks
        self.bid_taken = [ZERO] * len(bids)
        self.ask_taken = [ZERO] * len(asks)
        self.book_update_id += 1

    def _level_qty(self, notional: Decimal, price: Decimal) -> Decimal:
        qty = floor_to_step(notional / price, self.spec.step_size)
        return max(qty, self.spec.min_qty)

    def levels(self, taker_side: str) -> list[tuple[Decimal, Decimal]]:
        """The synthetic levels a taker of `taker_side` trades against, best first."""
        return self.asks if taker_side == "BUY" else self.bids

    def taken(self, taker_side: str) -> list[Decimal]:
        return self.ask_taken if taker_side == "BUY" else self.bid_taken

    def available(self, taker_side: str, index: int) -> Decimal:
        return self.levels(taker_side)[index][1] - self.taken(taker_side)[index]

    def take(self, taker_side: str, index: int, qty: Decimal) -> None:
        self.taken(taker_side)[index] += qty
        self.book_update_id += 1

    def best(self, taker_side: str) -> tuple[Decimal, Decimal] | None:
        """The best synthetic level with liquidity left for a taker of `taker_side`."""
        levels = self.levels(taker_side)
        taken = self.taken(taker_side)
        for index, (price, qty) in enumerate(levels):
            if qty > taken[index]:
                return price, qty - taken[index]
        return None

    # -- statistics -------------------------------------------------------------------------

    def record_price(self, now_ms: int, price: Decimal) -> None:
        start = now_ms - now_ms % AVG_BUCKET_MS
        if self.avg_buckets and self.avg_buckets[-1][0] == start:
            bucket = self.avg_buckets[-1]
            bucket[1] += price
            bucket[2] += 1
        else:
            self.avg_buckets.append([start, price, 1])
            while len(self.avg_buckets) > self.spec.avg_price_mins + 1:
                self.avg_buckets.popleft()
        self._day_bucket(now_ms, price)

    def record_trade(self, now_ms: int, price: Decimal, qty: Decimal, trade_id: int) -> None:
        self.last = price
        self.last_qty = qty
        self.last_time = now_ms
        bucket = self._day_bucket(now_ms, price)
        bucket[5] += qty
        bucket[6] += price * qty
        bucket[7] += 1
        if bucket[8] < 0:
            bucket[8] = trade_id
        bucket[9] = trade_id

    def _day_bucket(self, now_ms: int, price: Decimal) -> list[Any]:
        start = now_ms - now_ms % DAY_BUCKET_MS
        if self.day_buckets and self.day_buckets[-1][0] == start:
            bucket = self.day_buckets[-1]
            bucket[2] = max(bucket[2], price)
            bucket[3] = min(bucket[3], price)
            bucket[4] = price
            return bucket
        bucket = [start, price, price, price, price, ZERO, ZERO, 0, -1, -1]
        self.day_buckets.append(bucket)
        while self.day_buckets and self.day_buckets[0][0] <= now_ms - DAY_MS:
            self.day_buckets.popleft()
        return bucket

    def avg_price(self, now_ms: int) -> Decimal:
        """Mean of the path's prices over the last `avgPriceMins` minutes (else the last price)."""
        since = now_ms - self.spec.avg_price_mins * AVG_BUCKET_MS
        total = ZERO
        count = 0
        for start, price_sum, price_count in self.avg_buckets:
            if start + AVG_BUCKET_MS > since:
                total += price_sum
                count += price_count
        if count == 0:
            return self.last
        return q8(total / count, ROUND_DOWN)

    def day_stats(self, now_ms: int) -> dict[str, Any]:
        """Open, high, low, volumes and trade ids over the rolling 24 hours (15-minute buckets)."""
        buckets = [b for b in self.day_buckets if b[0] > now_ms - DAY_MS]
        if not buckets:
            return {
                "open": self.last,
                "high": self.last,
                "low": self.last,
                "volume": ZERO,
                "quote_volume": ZERO,
                "count": 0,
                "first_id": -1,
                "last_id": -1,
                "open_time": now_ms - DAY_MS,
            }
        traded = [b for b in buckets if b[7] > 0]
        return {
            "open": buckets[0][1],
            "high": max(b[2] for b in buckets),
            "low": min(b[3] for b in buckets),
            "volume": sum((b[5] for b in buckets), ZERO),
            "quote_volume": sum((b[6] for b in buckets), ZERO),
            "count": sum(b[7] for b in buckets),
            "first_id": traded[0][8] if traded else -1,
            "last_id": traded[-1][9] if traded else -1,
            "open_time": max(buckets[0][0], now_ms - DAY_MS),
        }

    # -- persistence ------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "rng": rng_state_to_json(self.rng),
            "raw": str(self.raw),
            "mid": str(self.mid),
            "last": str(self.last),
            "last_qty": str(self.last_qty),
            "last_time": self.last_time,
            "replay_index": self.replay_index,
            "book_update_id": self.book_update_id,
            "bid_taken": [str(t) for t in self.bid_taken],
            "ask_taken": [str(t) for t in self.ask_taken],
            "avg": [[b[0], str(b[1]), b[2]] for b in self.avg_buckets],
            "day": [[b[0], *(str(v) for v in b[1:7]), *b[7:]] for b in self.day_buckets],
        }

    @classmethod
    def from_state(
        cls, spec: SymbolSpec, data: dict[str, Any], config: ExchangeConfig
    ) -> SymbolMarket:
        market = cls(spec, rng_state_from_json(data["rng"]), data["last_time"])
        market.raw = Decimal(data["raw"])
        market.mid = Decimal(data["mid"])
        market.rebuild_book(config)
        market.last = Decimal(data["last"])
        market.last_qty = Decimal(data["last_qty"])
        market.replay_index = data["replay_index"]
        market.book_update_id = data["book_update_id"]
        if len(data["bid_taken"]) == len(market.bids):
            market.bid_taken = [Decimal(t) for t in data["bid_taken"]]
        if len(data["ask_taken"]) == len(market.asks):
            market.ask_taken = [Decimal(t) for t in data["ask_taken"]]
        market.avg_buckets = deque([b[0], Decimal(b[1]), b[2]] for b in data["avg"])
        market.day_buckets = deque(
            [b[0], *(Decimal(v) for v in b[1:7]), *b[7:]] for b in data["day"]
        )
        return market
