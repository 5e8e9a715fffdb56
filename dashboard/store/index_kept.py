"""What a count through the time index keeps of settled buckets (store/index_counts.py), per bar: a bucket's part read
whole, and the first bars of a part the read budget or the deadline cut, so that the same chart asked again reads only
what it lacks and a count stopped part way goes further each time.

Kept as settled seconds' counts are (store/countcache.py): once the part's last second is older than
COUNTS_SETTLED_SECONDS, for COUNTS_CACHE_SECONDS, keyed by table, index, bar length, bucket part, reading direction
and filters. Top values are not kept (a tally a bar is larger than a count).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dashboard.formats import times

from .countcache import CacheKey
from .records import Filters

if TYPE_CHECKING:
    from .index_ranges import IndexRangeReader

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Kept:
    """One count's view of the kept bucket parts (a count's filters, bar length and reading direction)."""

    def __init__(self, reader: IndexRangeReader, filters: Filters | None, bar_seconds: int,
                 merge: Callable[[Any, Any], Any], descending: bool, keeps: bool = True):
        self._cache = reader.cache if keeps else None
        self._scope = f"{reader.table_name}|{reader.config.name}|{bar_seconds}"
        self._filters = filters or Filters()
        self._bar_seconds = bar_seconds
        self._merge = merge
        self._descending = descending

    def _key(self, bucket: str, low: str, high: str, kind: str) -> CacheKey:
        # The part's last second names the entry: it is kept only once that second is settled.
        return f"{self._scope}|{bucket}|{low}|{kind}", self._filters, high

    def whole(self, bucket: str, low: str, high: str) -> dict[int, Any] | None:
        """The bars of a bucket's part read whole before."""
        return None if self._cache is None else self._cache.get(self._key(bucket, low, high, "whole"))

    def first(self, bucket: str, low: str, high: str) -> tuple[str, dict[int, Any]] | None:
        """(the last second kept, in reading order; the bars before it) of a part read in part before."""
        kind = "desc" if self._descending else "asc"
        return None if self._cache is None else self._cache.get(self._key(bucket, low, high, kind))

    def keep(self, bucket: str, low: str, high: str, found: list[dict[int, Any]], whole: bool,
             cut: int | None) -> None:
        """Keep a part read whole, or the bars before the cut of a part the cut fell in (`found`: the bars kept
        before, and each shard's)."""
        if self._cache is None:
            return
        merged: dict[int, Any] = {}
        for bars in found:
            for bar, value in bars.items():
                merged[bar] = self._merge(merged[bar], value) if bar in merged else value
        if whole:
            self._cache.put(self._key(bucket, low, high, "whole"), merged)
            return
        if cut is None:
            return
        size = self._bar_seconds
        edge = (cut + 1) * size if self._descending else cut * size - 1
        low_second, high_second = (int(times.parse(moment).timestamp()) for moment in (low, high))
        if not low_second <= edge <= high_second:
            return  # the cut falls before this part (in reading order): none of its bars is whole
        before = {bar: value for bar, value in merged.items() if (bar > cut if self._descending else bar < cut)}
        kept = (times.format_stored(_EPOCH + timedelta(seconds=edge)), before)
        self._cache.put(self._key(bucket, low, high, "desc" if self._descending else "asc"), kept)
