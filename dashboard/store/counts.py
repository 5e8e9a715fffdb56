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
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.conditions import Attr

from dashboard.formats import times

from . import deadline
from .clients import FANOUT_WORKERS
from .countcache import CountCache
from .errors import StoreError, call
from .events import FILTERED_READ_SIZE, read_request, second_condition
from .pace import Pace
from .ranges import SCAN_SEGMENTS, second_named, seconds_to_read
from .reading import ROOM, Meter, filter_condition
from .records import TIMESTAMP_ATTRIBUTE, Filters, ReadBudget, Span

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
V = TypeVar("V")
# Seconds counted at once: half the fan-out pool, which every request of the process shares, so that the
# pages other people are reading never wait behind a long count.
COUNT_WAVE = FANOUT_WORKERS // 2
# A wave or a Scan call is started only when the request's deadline leaves ROOM times as long as the last one took
# (store/reading.py): a count stops short and says what it counted rather than have the deadline end it (a 503).
# A Scan count's first call in each segment evaluates this many items at most.
FIRST_SCAN_PAGE = 100
# Why a count ended before the whole range was counted.
BUDGET, DEADLINE = "budget", "deadline"


@dataclass(frozen=True)
class Counts:
    """What counting a range found and cost."""

    # Events per stored second: every second counted (fan-out, zeros included), or every second that holds
    # events (scan: the Scan sees only the events, so a second missing here holds none); through the time index
    # (store/index_counts.py), each bar holding events, on its first second in the range.
    per_second: dict[str, int]
    # Fan-out: how many seconds of the range were counted, in reading order; None for a scan.
    seconds_counted: int | None
    complete: bool  # every second of the range was counted (else the budget ended the count first)
    calls: int
    consumed_rcu: float | None
    items_read: int  # items DynamoDB read to count, before any filter
    from_cache: int  # seconds whose count came from the cache, without a call
    plan: str  # "fanout" (COUNT Queries on the index), "scan" or "index" (the time index)
    stopped: str | None = None  # when not complete: what ended it, BUDGET or DEADLINE (the request's own)
    # Fan-out, when not complete: the last second counted, in reading order (every second before it was counted).
    counted_through: str | None = None

    @property
    def total(self) -> int:
        return sum(self.per_second.values())


class CountReader:
    """Counts the events of one table's seconds and ranges. Thread-safe: one per process, on the range reader's pool."""

    # Items a Scan call evaluates: the budget is checked after each call of each segment.
    scan_page = FILTERED_READ_SIZE

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, pool: Executor, cache: CountCache | None = None,
                 pace: Pace | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._pool = pool
        self._pace = pace or Pace()  # the range reader's: what this backend's Queries take
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
        last: str | None = None
        wave_took: float | None = None
        while True:
            size = self._wave_size()
            wave = list(itertools.islice(seconds, size))
            known = {second: self.cache.get((self.table_name, filters, second)) for second in wave}
            asked = [second for second, count in known.items() if count is None]
            if asked and wave_took is not None and not _room(wave_took):
                return _counts(per_second, len(per_second), False, meter, cached, "fanout", DEADLINE, last)
            started = time.monotonic()
            try:
                counted = self._run([partial(self._count_second, second, filters, meter) for second in asked])
            except StoreError:
                # The deadline ran out in this wave: the waves before it were counted, and the count says so.
                if not meter.calls or not deadline.expired():
                    raise
                return _counts(per_second, len(per_second), False, meter, cached, "fanout", DEADLINE, last)
            wave_took = time.monotonic() - started if asked else wave_took
            if asked:
                self._pace.waved(len(asked), time.monotonic() - started)
            answers = dict(zip(asked, counted, strict=True))
            for second in wave:  # in reading order, so that the seconds counted are always the first ones
                count = known[second]
                if count is None:
                    count = answers[second]
                    self.cache.put((self.table_name, filters, second), count)
                else:
                    cached += 1
                per_second[second] = count
            last = wave[-1] if wave else last
            if len(wave) < size:
                return _counts(per_second, len(per_second), True, meter, cached, "fanout")
            if meter.spent():
                ended = next(seconds, None) is None
                return _counts(per_second, len(per_second), ended, meter, cached, "fanout",
                               None if ended else BUDGET, None if ended else last)

    def _wave_size(self) -> int:
        """COUNT_WAVE seconds, or fewer when the deadline would cut such a wave off at this backend's pace: a Query it
        cuts off is still read by the backend after the request has answered (moto, about 0.4 s a Query of a
        20,000-event table, answers them one after another), and the other requests' calls wait behind it."""
        left, per_query = deadline.remaining(), self._pace.query_seconds()
        if left is None or not per_query:
            return COUNT_WAVE
        return max(1, min(COUNT_WAVE, int(left / (ROOM * per_query))))

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
        tally = _Tally()
        try:
            self._run([partial(self._scan_segment, segment, request, span, meter, tally)
                       for segment in range(SCAN_SEGMENTS)])
        except StoreError:
            # The deadline ran out before every segment ended: what the calls answered so far, and the count says so.
            if not meter.calls or not deadline.expired():
                raise
        per_second, complete, stopped = tally.close()
        # Only canonical seconds are kept: elsewhere a second searched by its stored form (one Query on the
        # index) holds fewer events than the Scan places in it.
        if complete and timestamps_canonical:
            for second in seconds:
                self.cache.put((self.table_name, filters, second), per_second.get(second, 0))
        return _counts(per_second, None, complete, meter, 0, "scan", stopped)

    def _scan_segment(self, segment: int, request: dict[str, Any], span: Span, meter: Meter, tally: _Tally) -> None:
        start: dict[str, Any] | None = None
        # Calls start small and double while the deadline leaves room: on a backend that takes long per item
        # (moto copies each), a first call of scan_page items could outlast the deadline, answering nothing.
        page, took = min(self.scan_page, FIRST_SCAN_PAGE), 0.0
        while True:
            if took and not _room(took):
                return tally.ended(DEADLINE)
            if took and _room(2 * took):
                page = min(self.scan_page, 2 * page)
            started = time.monotonic()
            response = meter.record(call(self._dynamodb.scan, self.table_name, **request, Segment=segment,
                                         TotalSegments=SCAN_SEGMENTS, Limit=page,
                                         **({"ExclusiveStartKey": start} if start else {})))
            took = time.monotonic() - started
            found: dict[str, int] = {}
            for item in response.get("Items", []):
                second = second_named(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))
                if second is not None and span.start <= second <= span.end:
                    found[second] = found.get(second, 0) + 1
            start = response.get("LastEvaluatedKey")
            if not tally.add(found, finished=not start):
                return None  # the request stopped waiting for this segment: its answer came too late to count
            if not start:
                return None
            if meter.spent():
                return tally.ended(BUDGET)


class _Tally:
    """What a Scan count's segments found so far: shared by them, and closed when the request stops waiting, so
    that a segment still running past the deadline neither adds to the count afterwards nor calls again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_second: dict[str, int] = {}
        self._finished = 0
        self._stopped: str | None = None
        self._closed = False

    def add(self, found: dict[str, int], finished: bool) -> bool:
        with self._lock:
            if self._closed:
                return False
            for second, count in found.items():
                self._per_second[second] = self._per_second.get(second, 0) + count
            self._finished += finished
            return True

    def ended(self, why: str) -> None:
        with self._lock:
            self._stopped = self._stopped or why

    def close(self) -> tuple[dict[str, int], bool, str | None]:
        """The counts, whether every segment read to its end, and (when not) what stopped the first that did not."""
        with self._lock:
            self._closed = True
            complete = self._finished == SCAN_SEGMENTS
            return dict(self._per_second), complete, None if complete else self._stopped or DEADLINE


def _room(took: float) -> bool:
    """Whether the request's deadline leaves room for another call (or wave) as long as the last one."""
    left = deadline.remaining()
    return left is None or left >= ROOM * took


def _counts(per_second: dict[str, int], seconds_counted: int | None, complete: bool, meter: Meter, cached: int,
            plan: str, stopped: str | None = None, counted_through: str | None = None) -> Counts:
    return Counts(per_second=per_second, seconds_counted=seconds_counted, complete=complete, calls=meter.calls,
                  consumed_rcu=meter.rcu, items_read=meter.items_read, from_cache=cached, plan=plan,
                  stopped=None if complete else stopped, counted_through=None if complete else counted_through)
