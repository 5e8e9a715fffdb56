"""What was read of settled seconds, kept a short while in process: looking at a chart again costs nothing.

Counts keep one number a second (CountCache); breakdowns (questions/breakdown.py) a tally a second.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from dashboard.formats import times

from .records import Filters

V = TypeVar("V")
CacheKey = tuple[str, Filters, str]  # (table name, filters, stored second)


class SecondsCache(Generic[V]):
    """What was read of settled seconds (older than `settled_seconds`), each reused for `ttl_seconds`, at most
    `size` of them.

    Kept in the order they were stored, so that an entry whose time is out leaves as soon as anything is stored after
    it: memory holds what was read in the last `ttl_seconds`, not `size` entries forever (a full cache of 100,000
    counts is about 35 MB of a worker)."""

    def __init__(self, ttl_seconds: float = 60.0, settled_seconds: float = 300.0, size: int = 100_000,
                 clock: Callable[[], float] = time.time):
        self.ttl_seconds = ttl_seconds
        self.settled_seconds = settled_seconds
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Any, tuple[V, float]] = OrderedDict()

    def settled(self, second: str) -> bool:
        """Whether a second ended long enough ago that late writes and index lag no longer change its count."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        return times.parse(second) + timedelta(seconds=1 + self.settled_seconds) <= now

    def get(self, key: CacheKey) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            count, stored_at = entry
            if self._clock() - stored_at >= self.ttl_seconds:
                del self._entries[key]
                return None
            return count

    def put(self, key: CacheKey, count: V) -> None:
        """Keep a count (or a tally), if its second is settled (a recent second may still be filling up)."""
        if self.size <= 0 or self.ttl_seconds <= 0 or not self.settled(key[2]):
            return
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)  # stored again: it goes to the end, with its new time
            self._entries[key] = (count, now)
            entries = self._entries
            while entries and (len(entries) > self.size or now - next(iter(entries.values()))[1] >= self.ttl_seconds):
                entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class CountCache(SecondsCache[int]):
    """Counts of settled seconds (older than `settled_seconds`), each reused for `ttl_seconds`, at most `size`."""
