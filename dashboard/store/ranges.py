"""Time ranges in (timestamp, event_id) order: one Query per second (fan-out) or a parallel Scan, both exact.

The index `timestamp-index` has no sort key, so it answers `timestamp = :t` only. Fan-out asks each
second of the range, concurrently on the one client, and reads only as many seconds as a page needs;
it is exact only while every stored timestamp is a canonical whole second, which is configured or
checked once on a sample of the table. The scan plan reads the whole table for every page, keeps the
`limit` first events after the page's start in a bounded heap, and compares timestamps in Python on
the second they name, so it stays exact whatever form the timestamps are stored in.
"""
from __future__ import annotations

import heapq
import itertools
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from dashboard.formats import times

from . import deadline
from .clients import FANOUT_WORKERS
from .errors import StoreError, call
from .events import read_request, second_condition
from .pace import Pace, Sampler
from .reading import CallSize, Meter, filter_condition
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE, Event, EventPage, Filters, Keyset, ReadBudget, Span, WireItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SCAN_SEGMENTS = 4
# Fan-out reads seconds in waves that double up to the pool's size: a dense range fills its page
# from the first few seconds, a sparse one soon reads FANOUT_WORKERS seconds at a time.
FIRST_WAVE = 1

Ordered = tuple[str, str]  # (stored second, event_id)


class RangeReader:
    """Reads pages of a time range under either plan. Thread-safe: one per process, one bounded pool."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, canonical: str = "auto"):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._canonical = canonical
        self._sample_lock = threading.Lock()
        self._sampled: tuple[bool, str] | None = None
        self._pool = ThreadPoolExecutor(max_workers=FANOUT_WORKERS, thread_name_prefix="range-read")
        # What the page planner (questions/pagereads.py) knows of this table: its events in time, its reads' pace.
        self.pace = Pace()
        self.sampler = Sampler(dynamodb, table_name, self.pace)

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The bounded pool fan-out reads run on, shared with counting (store/counts.py)."""
        return self._pool

    def fanout_allowed(self) -> tuple[bool, str]:
        """Whether one Query per second finds every event of a range, and why (or why not)."""
        if self._canonical == "yes":
            return True, "TIMESTAMPS_CANONICAL=yes"
        if self._canonical == "no":
            return False, "TIMESTAMPS_CANONICAL=no says stored timestamps are not all canonical whole seconds"
        with self._sample_lock:
            if self._sampled is None:
                self._sampled = self._sample()
            return self._sampled

    def _sample(self) -> tuple[bool, str]:
        stamps = [event.stamp for event in self.sampler.sample().events if event.stamp is not None]
        odd = next((stamp for stamp in stamps if not isinstance(stamp, str) or not CANONICAL.match(stamp)), None)
        if odd is not None:
            return False, f"a sampled timestamp ({odd!r}) is not a canonical whole second (YYYY-MM-DDTHH:MM:SSZ)"
        return True, f"the {len(stamps)} sampled timestamps are canonical whole seconds"

    def sampled_seconds(self, filters: Filters | None = None) -> tuple[list[str], int, bool]:
        """The seconds the sampled events that match `filters` name, the sample's size, and whether it is the
        whole table: how densely the table holds (matching) events in time."""
        sample = self.sampler.sample()
        named = (second_named(event.stamp) for event in sample.events if not filters or event.matches(filters))
        return [second for second in named if second is not None], len(sample.events), sample.whole_table

    # ------------------------------------------------------------------------ fan-out

    def fanout(self, span: Span, limit: int, after: Keyset | None = None, filters: Filters | None = None,
               budget: ReadBudget | None = None) -> EventPage:
        """A page of the range, reading seconds in waves until it is full, the range ends or the budget is spent."""
        meter = Meter(budget)
        seconds = seconds_to_read(span, after)
        found: list[Event] = []
        wave_size = FIRST_WAVE
        last_read: str | None = None
        while True:
            wave = list(itertools.islice(seconds, wave_size))
            if not wave:
                return _range_page(found, None, meter, "fanout")
            elapsed = self.pace.timer()
            try:
                answers = deadline.on_pool(self._pool, lambda s: self._second(s, filters, meter), wave,
                                           "the range's Queries")
                self.pace.waved(len(wave), elapsed())
            except StoreError:
                self.pace.waved(len(wave), elapsed())
                if last_read is None or not deadline.expired():
                    raise
                # The request's deadline ran out during a later wave: what the earlier ones found, and Continue.
                return _range_page(found, Keyset(last_read), meter, "fanout", budget_spent=True)
            for second, events in zip(wave, answers, strict=True):
                found += _after(sorted(events, key=_event_id, reverse=span.descending), second, after, span)
            last_read = wave[-1]
            if len(found) > limit:
                return _range_page(found[:limit], _keyset(found[limit - 1]), meter, "fanout")
            more = _peek(seconds)
            if more is None:
                return _range_page(found, None, meter, "fanout")
            seconds = itertools.chain([more], seconds)
            if len(found) == limit:
                return _range_page(found, _keyset(found[-1]), meter, "fanout")
            if meter.spent():
                return _range_page(found, Keyset(last_read), meter, "fanout", budget_spent=True)
            wave_size = min(wave_size * 2, FANOUT_WORKERS, self._wave_fitting(meter))

    def _wave_fitting(self, meter: Meter) -> int:
        """The most Queries a wave may ask at this backend's pace and still end within the budget: a backend that
        answers them one after another (moto) would otherwise hold a wave of 16 past every attempt's timeout."""
        left, per_query = meter.seconds_left(), self.pace.query_seconds()
        if left is None or not per_query:
            return FANOUT_WORKERS
        return max(1, int(left / per_query))

    def _second(self, second: str, filters: Filters | None, meter: Meter) -> list[Event]:
        """Every event of one second, through the index: a second may hold more than one answer's worth."""
        request = read_request(self.table_name, second_condition(second), filter_condition(filters))
        events: list[Event] = []
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.query, self.table_name, **request,
                                         **({"ExclusiveStartKey": start} if start else {})))
            events += [Event(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                return events

    # ------------------------------------------------------------------------ scan

    def scan(self, span: Span, limit: int, after: Keyset | None = None, filters: Filters | None = None,
             timestamps_canonical: bool = False, window: Span | None = None) -> EventPage:
        """A page of the range from a parallel Scan of the whole table: exact order, memory bounded by `limit`.

        The filter on `timestamp` is left to DynamoDB only when stored timestamps are canonical (string
        order is time order); either way each item is checked here on the second it names. A Scan is
        billed for what it reads, so leaving the bound out costs no more RCUs. With canonical timestamps
        the pass may look at a `window` of the range only (the seconds from the page's start on): DynamoDB
        then sends back only the window's events; a window that held too few for the page ends it short,
        its next page starting past the window (`budget_spent`, as a page that stopped before it was full).
        """
        meter = Meter()
        bounds = window if window is not None and timestamps_canonical else span
        condition = range_condition(bounds, filters, timestamps_canonical)
        elapsed = self.pace.timer()
        try:
            segments = deadline.on_pool(self._pool,
                                        lambda n: self._segment(n, bounds, limit + 1, after, condition, meter),
                                        range(SCAN_SEGMENTS), "the range's Scan")
        finally:  # a pass the deadline cut short is timed too: the planner must learn that it did not fit
            self.pace.scanned(meter.items_read, elapsed())
        best = _first(itertools.chain.from_iterable(segments), limit + 1, span.descending)
        events = [Event(item) for _, item in best]
        if len(events) > limit:
            return _range_page(events[:limit], Keyset(*best[limit - 1][0]), meter, "range-scan")
        edge = bounds.start if span.descending else bounds.end
        if edge == (span.start if span.descending else span.end):
            return _range_page(events, None, meter, "range-scan")
        return _range_page(events, Keyset(edge), meter, "range-scan", budget_spent=True)

    def _segment(self, segment: int, span: Span, keep: int, after: Keyset | None, condition: ConditionBase | None,
                 meter: Meter) -> list[tuple[Ordered, WireItem]]:
        request = read_request(self.table_name, condition=condition)
        best: list[tuple[Ordered, WireItem]] = []
        start: dict[str, Any] | None = None
        # No call the deadline would cut off, left for the backend to finish after the page has answered.
        size = CallSize("the range's Scan", pace=self.pace)
        while True:
            asked: dict[str, Any] = {**request, "Segment": segment, "TotalSegments": SCAN_SEGMENTS,
                                     **({"ExclusiveStartKey": start} if start else {})}
            response = meter.record(size.read(partial(self._scan_call, asked)))
            candidates = ((ordered_key(item), item) for item in response.get("Items", []))
            best = _first(itertools.chain(best, ((key, item) for key, item in candidates
                                                 if key is not None and in_range(key, span, after))),
                          keep, span.descending)
            start = response.get("LastEvaluatedKey")
            if not start:
                return best

    def _scan_call(self, asked: dict[str, Any], limit: dict[str, int]) -> dict[str, Any]:
        return call(self._dynamodb.scan, self.table_name, **asked, **limit)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def range_condition(span: Span, filters: Filters | None, timestamps_canonical: bool) -> ConditionBase | None:
    """A Scan's filter for a range: the filters, and the bound on `timestamp` when string order is time order."""
    condition = filter_condition(filters)
    if not timestamps_canonical:
        return condition
    bounds = Attr(TIMESTAMP_ATTRIBUTE).between(span.start, span.end)
    return bounds if condition is None else bounds & condition


def _first(items: Iterator[tuple[Ordered, WireItem]], keep: int,
           descending: bool) -> list[tuple[Ordered, WireItem]]:
    pick = heapq.nlargest if descending else heapq.nsmallest
    return pick(keep, items, key=lambda pair: pair[0])


def ordered_key(item: WireItem) -> Ordered | None:
    """(the second the item's timestamp names, its id); None when it names none (not in any range)."""
    second = second_named(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))
    event_id = item.get(TABLE_KEY, {}).get("S")
    if second is None or not isinstance(event_id, str):
        return None
    return second, event_id


def second_named(stamp: object) -> str | None:
    """The stored second a stored timestamp names, whatever ISO form it is in; None when it names none."""
    if not isinstance(stamp, str):
        return None
    if CANONICAL.match(stamp):
        return stamp
    moment = times.try_parse(stamp)
    return times.format_stored(moment) if moment else None


def in_range(key: Ordered, span: Span, after: Keyset | None) -> bool:
    """Whether an item's key falls in the range and past the page's start (`after`, None on a first page)."""
    if not span.start <= key[0] <= span.end:
        return False
    if after is None:
        return True
    if after.event_id is None:  # a whole second was read: the page starts past it
        return key[0] < after.timestamp if span.descending else key[0] > after.timestamp
    bound = (after.timestamp, after.event_id)
    return key < bound if span.descending else key > bound


def _after(events: list[Event], second: str, after: Keyset | None, span: Span) -> list[Event]:
    """The events of a second that come after the page's start (the start's own second is read again)."""
    if after is None or after.event_id is None or second != after.timestamp:
        return events
    bound = after.event_id
    return [event for event in events if (event.event_id < bound if span.descending else event.event_id > bound)]


def seconds_to_read(span: Span, after: Keyset | None) -> Iterator[str]:
    """The seconds of the range still to read, in reading order, as stored strings."""
    sign = -1 if span.descending else 1
    first = times.parse(span.end if span.descending else span.start)
    last = times.parse(span.start if span.descending else span.end)
    skip = 0
    if after is not None:
        # Resuming re-reads the second of the last event shown; a second read whole is not read again.
        skip = abs(int((times.parse(after.timestamp) - first).total_seconds())) + (1 if after.event_id is None else 0)
    total = abs(int((last - first).total_seconds())) + 1
    # Counted from the first second rather than stepped past the last, so 9999-12-31T23:59:59Z does not overflow.
    for n in range(skip, total):
        yield times.format_stored(first + timedelta(seconds=sign * n))


def _peek(seconds: Iterator[str]) -> str | None:
    return next(seconds, None)


def _event_id(event: Event) -> str:
    return event.event_id


def _keyset(event: Event) -> Keyset:
    return Keyset(str(event.get(TIMESTAMP_ATTRIBUTE)), event.event_id)


def _range_page(events: list[Event], next_key: Keyset | None, meter: Meter, plan: str,
                budget_spent: bool = False) -> EventPage:
    return EventPage(events=events, next_key=next_key, consumed_rcu=meter.rcu, scanned_count=meter.items_read,
                     calls=meter.calls, plan=plan, budget_spent=budget_spent)
