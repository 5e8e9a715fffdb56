"""The newest event and how many arrived lately: seconds read newest first on the index, within a budget.

One question, `FreshnessReader.newest`, so that a time-sorted index (one Query, newest first) can answer it
later in place of this reader. Here `timestamp-index` has no sort key: each second is one Query (projecting
the id only), newest first, in waves on the range reader's pool, until the newest event is found and the
recent seconds are all counted, the look-back ends, or the read budget is spent. A second that ended more
than SETTLE_SECONDS ago is remembered per process (its count and its last id): a quiet table costs its
whole look-back once, then only the seconds since the last read; an event written later than that is
missed by the count (reloading the window finds it), as by the live tail.
"""
from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from dashboard.formats import times

from . import deadline
from .clients import FANOUT_WORKERS
from .errors import StoreError, call
from .events import read_request, second_condition
from .reading import Meter
from .records import TABLE_KEY, Keyset, ReadBudget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A second is remembered once it ended this long ago: the pipeline writes a moment after an event's time, and a
# Query on the index sees the write a moment after that.
SETTLE_SECONDS = 15
# Seconds remembered per table: the longest look-back a freshness question may ask (a day) and an hour of seconds
# since. At its bound, 15 MB (empty seconds) to 30 MB (an event each); a worker reaches it after a day of reads.
MEMORY_SECONDS = 86400 + 3600
WAVE = FANOUT_WORKERS // 2  # half the pool, as counting: other people's pages never wait behind it
# A read stops with what it found when less than this is left of the request's deadline.
DEADLINE_MARGIN = 0.5
# The last seconds looked at on timestamp-index for events the time index misses (`FreshnessReader.unkeyed`).
UNKEYED_SECONDS = 8
_SECOND = timedelta(seconds=1)
EMPTY_SECOND: tuple[int, str | None] = (0, None)


@dataclass(frozen=True)
class Newest:
    """What a freshness read found and cost."""

    read_at: str  # the second the read counted back from (stored form)
    newest: Keyset | None  # the newest event found (its second and id), None when none within what was read
    recent_seconds: int  # the window `recent_count` counts: the last N seconds up to read_at
    recent_count: int
    looked_back_seconds: int  # every second this far back from read_at was read or remembered
    complete: bool  # the recent window was counted to its end and the newest found (or the look-back read whole)
    budget_spent: bool
    calls: int
    consumed_rcu: float | None
    from_memory: int  # seconds answered from memory, without a call


class SecondMemory:
    """(count, last event id) of settled seconds, per process: an LRU of `size` seconds. Every empty second holds
    the one shared `EMPTY_SECOND`, so a quiet table's day costs its keys and little more."""

    def __init__(self, size: int = MEMORY_SECONDS):
        self.size = size
        self._lock = threading.Lock()
        self._seconds: OrderedDict[str, tuple[int, str | None]] = OrderedDict()

    def get(self, second: str) -> tuple[int, str | None] | None:
        with self._lock:
            found = self._seconds.get(second)
            if found is not None:
                self._seconds.move_to_end(second)
            return found

    def put(self, second: str, found: tuple[int, str | None]) -> None:
        if found == EMPTY_SECOND:
            found = EMPTY_SECOND
        with self._lock:
            self._seconds[second] = found
            self._seconds.move_to_end(second)
            while len(self._seconds) > self.size:
                self._seconds.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seconds)


@dataclass(frozen=True)
class Unkeyed:
    """Events of the last seconds that lack the time index's key, and what finding them cost."""

    seconds: int
    count: int
    calls: int
    consumed_rcu: float | None


class FreshnessReader:
    """Answers "which is the newest event, and how many arrived in the last minutes" for one table. Thread-safe."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, pool: Executor, memory: SecondMemory | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._pool = pool
        self.memory = memory if memory is not None else SecondMemory()

    def newest(self, now: datetime, recent_seconds: int, look_back_seconds: int,
               budget: ReadBudget | None = None) -> Newest:
        """Read back from `now` second by second: the newest event within `look_back_seconds` and the events of
        the last `recent_seconds`, stopping once both are known or the budget is spent (checked after each wave)."""
        meter = Meter(budget)
        last = now.replace(microsecond=0)
        settled = times.format_stored(last - SETTLE_SECONDS * _SECOND)
        span = max(look_back_seconds, recent_seconds)
        seconds = (times.format_stored(last - n * _SECOND) for n in range(span))
        newest: Keyset | None = None
        recent = read = remembered = 0
        def found_so_far(done: bool) -> Newest:
            return Newest(times.format_stored(last), newest, recent_seconds, recent, read, done, not done,
                          meter.calls, meter.rcu, remembered)

        while True:
            left = deadline.remaining()
            if read and left is not None and left < DEADLINE_MARGIN:
                return found_so_far(False)  # what was read, rather than the request's deadline as a 503
            wave = list(itertools.islice(seconds, WAVE))
            known = {second: self.memory.get(second) for second in wave}
            asked = [second for second, found in known.items() if found is None]
            try:
                answers = deadline.on_pool(self._pool, lambda second: self._second(second, meter), asked,
                                           "the freshness Queries") if asked else []
            except StoreError:
                if not read or not deadline.expired():
                    raise
                return found_so_far(False)
            for second, found in zip(asked, answers, strict=True):
                known[second] = found
                if second <= settled:
                    self.memory.put(second, found)
            remembered += len(wave) - len(asked)
            for second in wave:
                count, last_id = known[second] or (0, None)
                if read < recent_seconds:
                    recent += count
                if newest is None and count:
                    newest = Keyset(second, last_id)
                read += 1
            done = read >= span or (newest is not None and read >= recent_seconds)
            if done or meter.spent():
                return found_so_far(done)

    def unkeyed(self, now: datetime, attribute: str, seconds: int = UNKEYED_SECONDS,
                budget: ReadBudget | None = None) -> Unkeyed:
        """How many events of the last `seconds` up to `now` have no `attribute` (the time index's key): a COUNT
        Query a second on timestamp-index, side by side. A writer that does not add it yet shows here at once, where
        the backfill sample (store/backfillsample.py) sees it only once its events are a fair share of the table."""
        meter = Meter(budget)
        last = now.replace(microsecond=0)
        wave = [times.format_stored(last - n * _SECOND) for n in range(seconds)]
        counts = deadline.on_pool(self._pool, lambda second: self._count(second, attribute, meter), wave,
                                  "the Queries for events without the time index's key")
        return Unkeyed(seconds, sum(counts), meter.calls, meter.rcu)

    def _count(self, second: str, attribute: str, meter: Meter) -> int:
        request = read_request(self.table_name, second_condition(second), Attr(attribute).not_exists())
        request["Select"] = "COUNT"
        return meter.count(self._dynamodb.query, self.table_name, request)

    def _second(self, second: str, meter: Meter) -> tuple[int, str | None]:
        """How many events one second holds and the greatest id among them: the ids only, every answer of it."""
        request = read_request(self.table_name, second_condition(second))
        request["ProjectionExpression"] = "#id"
        request["ExpressionAttributeNames"] = {**request.get("ExpressionAttributeNames", {}), "#id": TABLE_KEY}
        count, last_id = 0, None
        start: dict[str, Any] | None = None
        while True:
            response = meter.record(call(self._dynamodb.query, self.table_name, **request,
                                         **({"ExclusiveStartKey": start} if start else {})))
            for item in response.get("Items", []):
                count += 1
                event_id = item.get(TABLE_KEY, {}).get("S")
                if isinstance(event_id, str) and (last_id is None or event_id > last_id):
                    last_id = event_id
            start = response.get("LastEvaluatedKey")
            if not start:
                return count, last_id
