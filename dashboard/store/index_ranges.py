"""Time ranges through the optional time-sorted index: per bucket, one `BETWEEN` Query per shard, merged in order.

Each shard of a bucket comes back sorted by `timestamp`; the shards are merged in (timestamp, event_id) order,
and buckets are read in time order, so a page reads only the buckets it needs: an empty bucket costs one Query
per shard. A page's cursor is the (timestamp, event_id) of its last event: each shard resumes at that
timestamp (its ties read again and dropped), which is each shard's own position without storing N of them.
Exact while stored timestamps are canonical whole seconds (string order is time order), as fan-out is.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from dashboard.formats import times
from dashboard.settings.time_index import TimeIndexConfig

from . import deadline
from .countcache import SecondsCache
from .errors import call
from .events import read_request
from .freshness import Newest
from .reading import Meter, filter_condition
from .records import TIMESTAMP_ATTRIBUTE, Event, EventPage, Filters, Keyset, ReadBudget, Span
from .time_index import TIME_BUCKET_ATTRIBUTE, buckets

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from mypy_boto3_dynamodb import DynamoDBClient

INDEX_PLAN = "index"
_BUCKET_LENGTHS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class IndexState:
    """The configured time index as it stands: its reader when it can serve ranges, else why not."""

    reader: IndexRangeReader | None
    problem: str | None
    index_items: int | None = None  # DynamoDB's approximate ItemCount of the index, and of the table
    table_items: int | None = None
    # The backfill sample (store/backfillsample.py): events it read, and of them without time_bucket (None: unknown).
    sampled: int | None = None
    sampled_unbackfilled: int | None = None
    # Events of the last seconds without time_bucket, found by the freshness check within the last minute
    # (`BackfillSample.note_unkeyed`): a writer that does not add it yet, whose events the index misses from now on.
    unkeyed_lately: int | None = None

    @property
    def counted_short(self) -> bool:
        """By DynamoDB's approximate ItemCounts, the index holds fewer events than the table."""
        return self.index_items is not None and self.table_items is not None and self.index_items < self.table_items

    @property
    def incomplete(self) -> bool:
        """Some events are not in the index: fewer there by ItemCount, or one without time_bucket found by the sample
        or, among the newest, by the freshness check."""
        return self.counted_short or bool(self.sampled_unbackfilled) or bool(self.unkeyed_lately)


class IndexRangeReader:
    """Reads pages of a time range through the time index. Thread-safe: one per process, on the ranges' pool."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, config: TimeIndexConfig,
                 pool: ThreadPoolExecutor, cache: SecondsCache[Any] | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self.config = config
        self._pool = pool
        # Settled buckets' counts, per bar (store/index_counts.py): a count looked at again reads only what is new.
        self.cache: SecondsCache[Any] = cache if cache is not None else SecondsCache(size=1000)

    @property
    def dynamodb(self) -> DynamoDBClient:
        return self._dynamodb

    @property
    def pool(self) -> ThreadPoolExecutor:
        return self._pool

    def bucket_parts(self, span: Span) -> list[tuple[str, str, str]]:
        """(bucket, its first second, its last second) in reading order, clipped to the range: a whole range's
        reads (store/index_counts.py) go through the same buckets as its pages."""
        return self._buckets(span, None)

    def page(self, span: Span, limit: int, after: Keyset | None = None, filters: Filters | None = None,
             budget: ReadBudget | None = None) -> EventPage:
        """The first `limit` events of the range after `after`, bucket by bucket, until full or the budget is spent.

        Buckets are read in waves of 1, 2, 4 ... (every shard of a wave's buckets at once, as fan-out reads seconds):
        a full first bucket costs N Queries, and an empty week is not read one day after another. A wave's later
        buckets are read for no use only when an earlier one of it fills the page.
        """
        meter = Meter(budget)
        found: list[Event] = []
        remaining = self._buckets(span, after)
        wave_size = 1
        while remaining:
            wave, remaining = remaining[:wave_size], remaining[wave_size:]
            wanted = limit + 1 - len(found)
            parts = [(f"{bucket}#{number}", last if span.descending else first, first if span.descending else last)
                     for bucket, first, last in wave for number in range(self.config.shards)]
            read = functools.partial(self._part, wanted=wanted, after=after, span=span, filters=filters, meter=meter,
                                     page_size=limit + 2)
            shards = deadline.on_pool(self._pool, read, parts, "the range's index Queries")
            for index in range(len(wave)):
                of_bucket = shards[index * self.config.shards:(index + 1) * self.config.shards]
                merged = sorted((event for shard in of_bucket for event in shard), key=_ordered,
                                reverse=span.descending)
                found += merged[:limit + 1 - len(found)]
                if len(found) > limit:
                    return _page(found[:limit], _keyset(found[limit - 1]), meter)
            last = wave[-1][2]
            if meter.spent() and remaining:
                # The wave's buckets were read whole: the next page starts past the last second of its last.
                return _page(found, Keyset(last), meter, budget_spent=True)
            wave_size *= 2
        return _page(found, None, meter)

    def _part(self, part: tuple[str, str, str], wanted: int, after: Keyset | None, span: Span,
              filters: Filters | None, meter: Meter, page_size: int) -> list[Event]:
        partition, low, high = part
        return self._shard(partition, low, high, wanted, after, span, filters, meter, page_size)

    def newest(self, now: datetime, recent_seconds: int, look_back_seconds: int,
               budget: ReadBudget | None = None) -> Newest:
        """The freshness question through the index: the newest event within the look-back (newest bucket first,
        one Query per shard, stopping at the first bucket that holds one) and a count of the last
        `recent_seconds` (Select=COUNT, one Query per shard of the one or two buckets they touch)."""
        last = now.replace(microsecond=0)
        read_at = times.format_stored(last)
        look_back = Span(times.format_stored(last - timedelta(seconds=max(look_back_seconds, recent_seconds) - 1)),
                         read_at, True)
        found = self.page(look_back, 1, budget=budget)
        recent = Span(times.format_stored(last - timedelta(seconds=recent_seconds - 1)), read_at)
        meter = Meter(budget)
        counts = deadline.on_pool(self._pool, functools.partial(self._count, span=recent, meter=meter),
                                  [f"{bucket}#{number}" for bucket, _, _ in self._buckets(recent, None)
                                   for number in range(self.config.shards)], "the freshness count's Queries")
        newest = _keyset(found.events[0]) if found.events else None
        complete = not found.budget_spent
        return Newest(read_at, newest, recent_seconds, sum(counts),
                      max(look_back_seconds, recent_seconds) if complete else 0, complete, found.budget_spent,
                      found.calls + meter.calls, _total(found.consumed_rcu, meter.rcu), 0)

    def _count(self, partition: str, span: Span, meter: Meter) -> int:
        key = Key(TIME_BUCKET_ATTRIBUTE).eq(partition) & Key(TIMESTAMP_ATTRIBUTE).between(span.start, span.end)
        request = read_request(self.table_name, key)
        request.update(IndexName=self.config.name, Select="COUNT")
        return meter.count(self._dynamodb.query, self.table_name, request)

    def _buckets(self, span: Span, after: Keyset | None) -> list[tuple[str, str, str]]:
        """(bucket, its first second, its last second) in reading order, clipped to the range and past `after`."""
        start, end = times.parse(span.start), times.parse(span.end)
        if after is not None:
            resume = times.parse(after.timestamp)
            if after.event_id is None:  # that second was read whole
                resume += timedelta(seconds=-1 if span.descending else 1)
            start, end = (start, resume) if span.descending else (resume, end)
        if start > end:
            return []
        length = _BUCKET_LENGTHS[self.config.bucket]
        found = []
        for name in buckets(start, end, self.config):
            bucket_start = times.parse(name + ("T00:00:00Z" if self.config.bucket == "day" else ":00:00Z"))
            first = max(start, bucket_start)
            last = min(end, bucket_start + length - timedelta(seconds=1))
            found.append((name, times.format_stored(first), times.format_stored(last)))
        if span.descending:
            found = [(name, last, first) for name, first, last in reversed(found)]
        return found

    def _shard(self, partition: str, low: str, high: str, wanted: int, after: Keyset | None, span: Span,
               filters: Filters | None, meter: Meter, page_size: int) -> list[Event]:
        """A shard's events in the bucket's part of the range, past `after`: at least `wanted` of them with every
        tie of the last one's timestamp (or all there are), so that the merge of the shards is exact."""
        key = Key(TIME_BUCKET_ATTRIBUTE).eq(partition) & Key(TIMESTAMP_ATTRIBUTE).between(low, high)
        request = read_request(self.table_name, key, filter_condition(filters))
        request.update(IndexName=self.config.name, ScanIndexForward=not span.descending, Limit=page_size)
        events: list[Event] = []
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.query, self.table_name, **request,
                                         **({"ExclusiveStartKey": start} if start else {})))
            events += [event for event in map(Event, response.get("Items", [])) if _past(event, after, span)]
            start = response.get("LastEvaluatedKey")
            if not start:
                return events
            if len(events) > wanted:
                ranked = sorted(events, key=_ordered, reverse=span.descending)
                if str(ranked[wanted - 1].get(TIMESTAMP_ATTRIBUTE)) != str(events[-1].get(TIMESTAMP_ATTRIBUTE)):
                    return events


def _total(*units: float | None) -> float | None:
    known = [unit for unit in units if unit is not None]
    return sum(known) if known else None


def _ordered(event: Event) -> tuple[str, str]:
    return str(event.get(TIMESTAMP_ATTRIBUTE)), event.event_id


def _past(event: Event, after: Keyset | None, span: Span) -> bool:
    if after is None:
        return True
    if after.event_id is None:
        return True  # whole seconds read are excluded by the key condition already
    bound = (after.timestamp, after.event_id)
    return _ordered(event) < bound if span.descending else _ordered(event) > bound


def _keyset(event: Event) -> Keyset:
    return Keyset(str(event.get(TIMESTAMP_ATTRIBUTE)), event.event_id)


def _page(events: list[Event], next_key: Keyset | None, meter: Meter, budget_spent: bool = False) -> EventPage:
    return EventPage(events=events, next_key=next_key, consumed_rcu=meter.rcu, scanned_count=meter.items_read,
                     calls=meter.calls, plan=INDEX_PLAN, budget_spent=budget_spent)

