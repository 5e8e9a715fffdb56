"""What the range planner can know cheaply: a sample of the table's events in time, and what its reads have cost.

A range page is planned for the page, not for the whole range: how many seconds of Queries it needs
depends on how densely the table holds events around it, and whether a Scan of the table fits the
request's deadline depends on how long this backend takes per call. The sample is one Scan call of
SAMPLE_SIZE items (their timestamp and the filterable attributes), taken at most once every
SAMPLE_SECONDS per process; the pace is a moving average of the wall time the range reads took,
measured at the wire (a wave of Queries, a pass of Scan calls), seeded by the sample call's own time.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import call
from .records import TIMESTAMP_ATTRIBUTE, Filters

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SAMPLE_SIZE = 100
SAMPLE_SECONDS = 300.0
# DescribeTable's ItemCount lags (refreshed about every six hours; dynalite never updates it): when it says 0 and the
# sample is not the whole table, the table's size is estimated from one segment of a parallel Scan of this many,
# counted (a uniform slice of the table: a 256th of it read, about 390 items of 100,000).
COUNT_SEGMENTS = 256
# The attributes a filter tests: sampled too, so that a filter's share of the table can be estimated.
SAMPLED = (TIMESTAMP_ATTRIBUTE, "event_type", "source", "event_name", "key")
# A moving average: each new measure counts this much.
WEIGHT = 0.3
# A Scan call reads up to 1 MB where the sample call read SAMPLE_SIZE small items: before any Scan is timed,
# one is taken to cost this many sample calls.
SCAN_CALL_PER_SAMPLE = 2.0
# The items a 1 MB Scan call holds, at the 400 bytes an event is taken to be at least (questions/plans.py): a pass
# is timed per 1 MB call's worth of items read, at least one (its calls are sized to the deadline,
# store/reading.CallSize, so how many it made says little).
ITEMS_PER_CALL = 1024 * 1024 // 400


@dataclass(frozen=True)
class SampledEvent:
    stamp: object  # the stored timestamp as stored: a string, another DynamoDB type ({"N": ...}), or None
    values: tuple[tuple[str, str], ...]  # the filterable string attributes it holds

    def matches(self, filters: Filters) -> bool:
        values = dict(self.values)
        if any(values.get(name) != wanted for name, wanted in filters.equalities().items()):
            return False
        return not filters.key_prefix or values.get("key", "").startswith(filters.key_prefix)


@dataclass(frozen=True)
class Sample:
    """The first SAMPLE_SIZE items of a Scan: in DynamoDB's hash order, so spread over the table's time."""

    events: tuple[SampledEvent, ...]
    whole_table: bool  # the Scan ended within the sample: these are all of the table's events
    call_seconds: float  # how long the sample's one call took


class Pace:
    """Seconds a range read's calls take on this backend, at the concurrency they run at. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._query: float | None = None  # wall seconds per Query of a wave (a wave's wall time / its Queries)
        self._scan_call: float | None = None  # wall seconds per 1 MB call's worth of a Scan pass
        self._sampled: float | None = None
        self._call_rate: float | None = None  # items a second one Scan call of a segment reads, alongside the others

    def sampled(self, seconds: float) -> None:
        with self._lock:
            self._sampled = seconds

    def waved(self, queries: int, seconds: float) -> None:
        if queries > 0:
            self._update("_query", seconds / queries)

    def scanned(self, items: int, seconds: float) -> None:
        """A Scan pass (or the part of it the deadline let through) read `items` in `seconds` of wall time."""
        self._update("_scan_call", seconds / max(1.0, items / ITEMS_PER_CALL))

    def scan_called(self, items: int, seconds: float) -> None:
        """One Scan call of a pass read `items` in `seconds` (store/reading.CallSize sizes the next from it)."""
        if items > 0:
            self._update("_call_rate", items / max(seconds, 1e-3))

    def scan_items_per_call_second(self) -> float | None:
        with self._lock:
            return self._call_rate

    def _update(self, name: str, value: float) -> None:
        with self._lock:
            old = getattr(self, name)
            setattr(self, name, value if old is None else old + WEIGHT * (value - old))

    def query_seconds(self) -> float | None:
        """Wall seconds per Query of the fan-out, or (before any) the sample call's; None when nothing is known."""
        with self._lock:
            return self._query if self._query is not None else self._sampled

    def scan_call_seconds(self) -> float | None:
        """Wall seconds per 1 MB Scan call's worth of a pass (ITEMS_PER_CALL items), or (before any) two sample
        calls'."""
        with self._lock:
            if self._scan_call is not None:
                return self._scan_call
            return None if self._sampled is None else self._sampled * SCAN_CALL_PER_SAMPLE

    def timer(self) -> Callable[[], float]:
        """A stopwatch: call it to read the seconds since."""
        started = self._clock()
        return lambda: self._clock() - started


class Sampler:
    """One table's sample, taken on first use and again once it is SAMPLE_SECONDS old. Thread-safe."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, pace: Pace,
                 clock: Callable[[], float] = time.monotonic):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._pace = pace
        self._clock = clock
        self._lock = threading.Lock()
        self._sample: Sample | None = None
        self._taken_at = 0.0
        self._counted: tuple[int, float] | None = None  # (items estimated, when)

    def sample(self) -> Sample:
        with self._lock:
            if self._sample is None or self._clock() - self._taken_at >= SAMPLE_SECONDS:
                self._sample = self._take()
                self._taken_at = self._clock()
            return self._sample

    def estimated_count(self) -> int:
        """How many items the table holds, for when DescribeTable's ItemCount says 0: the sample's size when it is
        the whole table, else one counted segment of COUNT_SEGMENTS (at least the sample's size), taken at most once
        every SAMPLE_SECONDS."""
        sample = self.sample()
        if sample.whole_table:
            return len(sample.events)
        with self._lock:
            if self._counted is None or self._clock() - self._counted[1] >= SAMPLE_SECONDS:
                response = call(self._dynamodb.scan, self.table_name, TableName=self.table_name, Segment=0,
                                TotalSegments=COUNT_SEGMENTS, Select="COUNT")
                self._counted = (int(response.get("ScannedCount", 0)) * COUNT_SEGMENTS, self._clock())
            return max(len(sample.events), self._counted[0])

    def _take(self) -> Sample:
        names = {f"#a{n}": name for n, name in enumerate(SAMPLED)}
        elapsed = self._pace.timer()
        response = call(self._dynamodb.scan, self.table_name, TableName=self.table_name, Limit=SAMPLE_SIZE,
                        ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        seconds = elapsed()
        self._pace.sampled(seconds)
        events = tuple(SampledEvent(_stamp(item.get(TIMESTAMP_ATTRIBUTE)),
                                    tuple((name, text) for name in SAMPLED[1:]
                                          if (text := _string(item.get(name))) is not None))
                       for item in response.get("Items", []))
        return Sample(events, not response.get("LastEvaluatedKey"), seconds)


def _stamp(typed: object) -> object:
    return typed.get("S", typed) if isinstance(typed, dict) else None


def _string(typed: object) -> str | None:
    value = typed.get("S") if isinstance(typed, dict) else None
    return value if isinstance(value, str) else None
