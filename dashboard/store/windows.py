"""The events of a window read for a breakdown (top values, lag): only a few attributes, within the read budget.

A breakdown reads what it counts, as a count does (store/counts.py): one Query per second on the index
(fan-out; seconds in reading order, in waves, until the budget is spent, every second read whole), or a
parallel Scan of the table (a range under the scan plan, or the whole table), each segment stopping when
the budget is spent. What was read is said exactly (`complete`, `seconds_read`, `items_read`), never a
silent sample. Only the attributes asked for are returned (ProjectionExpression); the bill is the same.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase

from . import deadline
from .countcache import SecondsCache
from .counts import COUNT_WAVE
from .errors import DeadlineExceeded, StoreError, call
from .events import FILTERED_READ_SIZE, read_request, second_condition
from .ranges import SCAN_SEGMENTS, range_condition, second_named
from .reading import Meter, filter_condition
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE, Filters, ReadBudget, Span, to_plain

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Values = dict[str, Any]


@dataclass(frozen=True)
class WindowItems:
    """The events a breakdown read, as plain values of the attributes asked for, and what reading them cost."""

    # Events by the stored second their timestamp names (a second read by fan-out is there whole, even empty).
    per_second: dict[str, list[Values]]
    # Events of a whole-table read (no window): not placed in seconds.
    unplaced: list[Values]
    complete: bool  # every second (fan-out) or the whole table (scan) was read
    seconds_read: int | None  # fan-out: seconds read, in reading order; None for a scan
    calls: int
    consumed_rcu: float | None
    items_read: int  # items DynamoDB read, before any filter
    plan: str  # "fanout" or "scan"

    @property
    def counted(self) -> int:
        return sum(len(events) for events in self.per_second.values()) + len(self.unplaced)


# What share of the request's deadline a breakdown's reads may take: each call stops by it anyway, and a read
# that ends on its budget says what it counted where one cut by the deadline would answer 503.
DEADLINE_SHARE = 0.6


def within_deadline(budget: ReadBudget | None) -> ReadBudget | None:
    left = deadline.remaining()
    if budget is None or left is None:
        return budget
    return ReadBudget(min(budget.seconds, left * DEADLINE_SHARE), budget.rcu)


def projected(request: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The request reading only `names` (and the key and timestamp), under placeholders of their own."""
    wanted = dict.fromkeys((TABLE_KEY, TIMESTAMP_ATTRIBUTE, *names))
    placeholders = {f"#w{n}": name for n, name in enumerate(wanted)}
    return {**request, "ProjectionExpression": ", ".join(placeholders),
            "ExpressionAttributeNames": {**request.get("ExpressionAttributeNames", {}), **placeholders}}


class WindowReader:
    """Reads a window's events for a breakdown. Thread-safe: one per process, on the range reader's pool."""

    scan_page = FILTERED_READ_SIZE

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, pool: Executor,
                 cache: SecondsCache[object] | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._pool = pool
        # Tallies of settled seconds, kept by questions/breakdown.py: the store only holds them.
        self.cache: SecondsCache[object] = cache if cache is not None else SecondsCache()

    def by_seconds(self, seconds: Iterator[str], names: tuple[str, ...], filters: Filters | None = None,
                   budget: ReadBudget | None = None) -> WindowItems:
        """Every event of each second, one Query per second on the index, COUNT_WAVE seconds at a time, in the order
        given, until the seconds end or the budget is spent (each second is read whole)."""
        meter = Meter(within_deadline(budget))
        condition = filter_condition(filters)
        per_second: dict[str, list[Values]] = {}
        while True:
            wave = list(itertools.islice(seconds, COUNT_WAVE))
            try:
                found = deadline.on_pool(self._pool, partial(self._second, condition, names, meter), wave,
                                         "the breakdown's reads")
            except StoreError:
                if not per_second or not deadline.expired():
                    raise
                # The request's deadline ran out during a later wave: what the earlier ones read, said incomplete.
                return self._made(per_second, [], False, len(per_second), meter, "fanout")
            per_second.update(zip(wave, found, strict=True))
            if len(wave) < COUNT_WAVE:
                return self._made(per_second, [], True, len(per_second), meter, "fanout")
            if meter.spent():
                ended = next(seconds, None) is None
                return self._made(per_second, [], ended, len(per_second), meter, "fanout")

    def _second(self, condition: ConditionBase | None, names: tuple[str, ...], meter: Meter,
                second: str) -> list[Values]:
        request = projected(read_request(self.table_name, second_condition(second), condition), names)
        events: list[Values] = []
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.query, self.table_name, **request,
                                         **({"ExclusiveStartKey": start} if start else {})))
            events += [to_plain(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                return events

    def by_scan(self, span: Span | None, names: tuple[str, ...], filters: Filters | None = None,
                budget: ReadBudget | None = None, timestamps_canonical: bool = False) -> WindowItems:
        """A parallel Scan of the whole table, keeping the events of the span (or all, without one), until the
        table ends or the budget is spent; the events of a span are placed on the second their timestamp names."""
        meter = Meter(within_deadline(budget))
        condition = range_condition(span, filters, timestamps_canonical) if span else filter_condition(filters)
        request = projected(read_request(self.table_name, condition=condition), names)
        parts = deadline.on_pool(self._pool, partial(self._segment, request, span, meter), range(SCAN_SEGMENTS),
                                 "the breakdown's Scan")
        per_second: dict[str, list[Values]] = {}
        unplaced: list[Values] = []
        complete = True
        for placed, loose, finished in parts:
            complete = complete and finished
            unplaced += loose
            for second, events in placed.items():
                per_second.setdefault(second, []).extend(events)
        return self._made(per_second, unplaced, complete, None, meter, "scan")

    def _segment(self, request: dict[str, Any], span: Span | None, meter: Meter,
                 segment: int) -> tuple[dict[str, list[Values]], list[Values], bool]:
        placed: dict[str, list[Values]] = {}
        loose: list[Values] = []
        start: dict[str, Any] | None = None
        while True:
            try:
                response = meter.record(call(self._dynamodb.scan, self.table_name, **request, Segment=segment,
                                             TotalSegments=SCAN_SEGMENTS, Limit=self.scan_page,
                                             **({"ExclusiveStartKey": start} if start else {})))
            except DeadlineExceeded:
                if start is None:
                    raise  # not one answer: the backend is not answering
                return placed, loose, False
            for item in response.get("Items", []):
                if span is None:
                    loose.append(to_plain(item))
                    continue
                second = second_named(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))
                if second is not None and span.start <= second <= span.end:
                    placed.setdefault(second, []).append(to_plain(item))
            start = response.get("LastEvaluatedKey")
            if not start:
                return placed, loose, True
            if meter.spent():
                return placed, loose, False

    @staticmethod
    def _made(per_second: dict[str, list[Values]], unplaced: list[Values], complete: bool, seconds_read: int | None,
              meter: Meter, plan: str) -> WindowItems:
        return WindowItems(per_second, unplaced, complete, seconds_read, meter.calls, meter.rcu, meter.items_read,
                           plan)

