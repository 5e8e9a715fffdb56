"""How many events each second of a range holds: Select=COUNT Queries per second, or one Scan; settled seconds cached.

A count reads what it counts: DynamoDB bills a COUNT Query or a Scan by the items it reads, not by what
it returns, so counting a range costs what reading it would. Counting is therefore bounded by the read
budget (seconds are counted in reading order, in waves, until the budget is spent) and the counts of
seconds old enough to be settled are kept for a short while, in process, so that a chart looked at
again, or a bar opened, costs nothing.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boto3.dynamodb.conditions import Attr

from dashboard.formats import times

from . import deadline
from .clients import FANOUT_WORKERS
from .errors import call
from .events import FILTERED_READ_SIZE, read_request, second_condition
from .ranges import SCAN_SEGMENTS, second_named, seconds_to_read
from .reading import Meter, filter_condition
from .records import TIMESTAMP_ATTRIBUTE, Filters, ReadBudget, Span

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
V = TypeVar("V")
# Seconds counted at once: half the fan-out pool, which every request of the process shares, so that the
# pages other people are reading never wait behind a long count.
COUNT_WAVE = FANOUT_WORKERS // 2
CacheKey = tuple[str, Filters, str]  # (table name, filters, stored second)


class SecondsCache(Generic[V]):
    """What was read of settled seconds (older than `settled_seconds`), each reused for `ttl_seconds`: an LRU of
    `size`. Counts keep one number a second; breakdowns (questions/breakdown.py) a tally a second."""

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
            self._entries.move_to_end(key)
            return count

    def put(self, key: CacheKey, count: V) -> None:
        """Keep a count (or a tally), if its second is settled (a recent second may still be filling up)."""
        if self.size <= 0 or self.ttl_seconds <= 0 or not self.settled(key[2]):
            return
        with self._lock:
            self._entries[key] = (count, self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class CountCache(SecondsCache[int]):
    """Counts of settled seconds (older than `settled_seconds`), each reused for `ttl_seconds`: an LRU of `size`."""


@dataclass(frozen=True)
class Counts:
    """What counting a range found and cost."""

    # Events per stored second: every second counted (fan-out, zeros included), or every second that holds
    # events (scan: the Scan sees only the events, so a second missing here holds none).
    per_second: dict[str, int]
    # Fan-out: how many seconds of the range were counted, in reading order; None for a scan.
    seconds_counted: int | None
    complete: bool  # every second of the range was counted (else the budget ended the count first)
    calls: int
    consumed_rcu: float | None
    items_read: int  # items DynamoDB read to count, before any filter
    from_cache: int  # seconds whose count came from the cache, without a call
    plan: str  # "fanout" (COUNT Queries on the index) or "scan"

    @property
    def total(self) -> int:
        return sum(self.per_second.values())


class CountReader:
    """Counts the events of one table's seconds and ranges. Thread-safe: one per process, on the range reader's pool."""

    # Items a Scan call evaluates: the budget is checked after each call of each segment.
    scan_page = FILTERED_READ_SIZE

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, pool: Executor, cache: CountCache | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._pool = pool
        self.cache = cache if cache is not None else CountCache()  # an empty cache is falsy (len 0)

    def by_seconds(self, span: Span, filters: Filters | None = None, budget: ReadBudget | None = None) -> Counts:
        """One COUNT Query on the index per second, in reading order, COUNT_WAVE at a time, until the budget ends.

        Only exact where stored timestamps are canonical whole seconds (as fan-out reads), or for one second
        searched by its stored form (as a timestamp search reads).
        """
        meter = Meter(budget)
        filters = filters or Filters()
        per_second: dict[str, int] = {}
        cached = 0
        seconds = seconds_to_read(span, None)
        while True:
            wave = list(itertools.islice(seconds, COUNT_WAVE))
            asked = []
            for second in wave:
                count = self.cache.get((self.table_name, filters, second))
                if count is None:
                    asked.append(second)
                else:
                    per_second[second] = count
                    cached += 1
            counted = self._run([partial(self._count_second, second, filters, meter) for second in asked])
            for second, count in zip(asked, counted, strict=True):
                per_second[second] = count
                self.cache.put((self.table_name, filters, second), count)
            if len(wave) < COUNT_WAVE:
                return _counts(per_second, len(per_second), True, meter, cached, "fanout")
            if meter.spent():
                ended = next(seconds, None) is None
                return _counts(per_second, len(per_second), ended, meter, cached, "fanout")

    def _run(self, tasks: list[Callable[[], T]]) -> list[T]:
        """Run tasks on the pool, each in a copy of this request's context: its calls share the request's deadline,
        and the wait for them ends with it."""
        return deadline.on_pool(self._pool, lambda task: task(), tasks, "the count's reads")

    def _count_second(self, second: str, filters: Filters, meter: Meter) -> int:
        request = read_request(self.table_name, second_condition(second), filter_condition(filters))
        count = 0
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.query, self.table_name, **request, Select="COUNT",
                                         **({"ExclusiveStartKey": start} if start else {})))
            count += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return count

    def by_scan(self, span: Span, filters: Filters | None = None, budget: ReadBudget | None = None,
                timestamps_canonical: bool = False) -> Counts:
        """One parallel Scan of the whole table, reading only `timestamp`, each item counted on the second it names.

        It projects the timestamp rather than asking Select=COUNT, which would give one total and no
        seconds: the bill is the same (a read is billed by the item's size, whatever it returns). A range
        whose seconds are all settled and cached makes no call. When the budget ends the Scan first, the
        counts are of the part read, so at least what they say.
        """
        meter = Meter(budget)
        filters = filters or Filters()
        # A range longer than half the cache could neither be answered from it nor kept in it.
        cacheable = (times.parse(span.end) - times.parse(span.start)).total_seconds() < self.cache.size // 2
        seconds = list(seconds_to_read(span, None)) if cacheable else []
        known = {second: self.cache.get((self.table_name, filters, second)) for second in seconds}
        if cacheable and all(count is not None for count in known.values()):
            return _counts({second: count for second, count in known.items() if count}, None, True, meter,
                           len(seconds), "scan")
        condition = filter_condition(filters)
        if timestamps_canonical:
            bounds = Attr(TIMESTAMP_ATTRIBUTE).between(span.start, span.end)
            condition = bounds if condition is None else bounds & condition
        request = read_request(self.table_name, condition=condition)
        request["ProjectionExpression"] = "#counted"
        request["ExpressionAttributeNames"] = {**request.get("ExpressionAttributeNames", {}),
                                               "#counted": TIMESTAMP_ATTRIBUTE}
        parts = self._run([partial(self._scan_segment, segment, request, span, meter)
                           for segment in range(SCAN_SEGMENTS)])
        per_second: dict[str, int] = {}
        complete = True
        for found, finished in parts:
            complete = complete and finished
            for second, count in found.items():
                per_second[second] = per_second.get(second, 0) + count
        # Only canonical seconds are kept: elsewhere a second searched by its stored form (one Query on the
        # index) holds fewer events than the Scan places in it.
        if complete and timestamps_canonical:
            for second in seconds:
                self.cache.put((self.table_name, filters, second), per_second.get(second, 0))
        return _counts(per_second, None, complete, meter, 0, "scan")

    def _scan_segment(self, segment: int, request: dict[str, Any], span: Span,
                      meter: Meter) -> tuple[dict[str, int], bool]:
        found: dict[str, int] = {}
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.scan, self.table_name, **request, Segment=segment,
                                         TotalSegments=SCAN_SEGMENTS, Limit=self.scan_page,
                                         **({"ExclusiveStartKey": start} if start else {})))
            for item in response.get("Items", []):
                second = second_named(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))
                if second is not None and span.start <= second <= span.end:
                    found[second] = found.get(second, 0) + 1
            start = response.get("LastEvaluatedKey")
            if not start:
                return found, True
            if meter.spent():
                return found, False


def _counts(per_second: dict[str, int], seconds_counted: int | None, complete: bool, meter: Meter, cached: int,
            plan: str) -> Counts:
    return Counts(per_second=per_second, seconds_counted=seconds_counted, complete=complete, calls=meter.calls,
                  consumed_rcu=meter.rcu, items_read=meter.items_read, from_cache=cached, plan=plan)
