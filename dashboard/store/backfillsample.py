"""Whether items are still waiting for `time_bucket`: one small Scan a minute, independent of ItemCount.

DynamoDB's ItemCount of an index lags up to six hours, and moto and dynalite do not report it at all, so a
half-backfilled table can look whole by it. The sample is one Scan call (`Select=COUNT`, `Limit` items
evaluated) of a random segment of the table, counting the events with a `timestamp` and no `time_bucket`:
billed for the items read, half an RCU per 4 KB (about 3 RCU on the demo's events). It is kept per process as
long as DescribeTable is (a minute); a failed one is remembered as unknown for as long, and never fails a page.
It can miss a small part not backfilled: it reads about a hundred items, of one segment of the table.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import StoreError, call
from .records import TIMESTAMP_ATTRIBUTE
from .status import ITEM_COUNT_CACHE_SECONDS
from .time_index import TIME_BUCKET_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SAMPLE_ITEMS = 100  # the items one sample evaluates (its Scan's Limit)
MAX_SEGMENTS = 1_000_000  # DynamoDB's largest TotalSegments
_UNBACKFILLED = "attribute_exists(#ts) AND attribute_not_exists(#tb)"


@dataclass(frozen=True)
class Sample:
    """What one sample found: the events it read, and how many of them have no `time_bucket`."""

    sampled: int
    unbackfilled: int


# Segments where the table's ItemCount is not known (dynalite says 0; a new table on AWS does for hours). Not 1: a
# backfill stopped part way (app/backfill.py, a parallel Scan) has done the start of each of its segments, so the
# start of the table is where events are least likely to be waiting; a random sixteenth lands anywhere in them.
UNKNOWN_COUNT_SEGMENTS = 16


def segments(table_items: int | None) -> int:
    """The TotalSegments of the sample: about `SAMPLE_ITEMS` items a segment, or UNKNOWN_COUNT_SEGMENTS."""
    if not table_items:
        return UNKNOWN_COUNT_SEGMENTS
    return max(1, min(MAX_SEGMENTS, table_items // SAMPLE_ITEMS))


class BackfillSample:
    """The latest sample of one table, taken again once `refresh_seconds` have passed. Thread-safe: one per process;
    concurrent requests wait for the one sample being taken rather than each taking their own."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, clock: Callable[[], float] = time.monotonic,
                 refresh_seconds: float = ITEM_COUNT_CACHE_SECONDS, rng: random.Random | None = None):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self._random = rng or random.Random()
        self._lock = threading.Lock()
        self._taken_at: float | None = None
        self._latest: Sample | None = None
        self._unkeyed: tuple[int, float] | None = None  # the freshness check's last finding, and when

    def latest(self, table_items: int | None) -> Sample | None:
        """The sample taken within the last `refresh_seconds`, or a new one; None when it could not be taken."""
        with self._lock:
            now = self._clock()
            if self._taken_at is not None and now - self._taken_at < self.refresh_seconds:
                return self._latest
            try:
                found: Sample | None = self._take(table_items)
            except StoreError:
                found = None  # throttled, refused, out of time: unknown for the period, the page goes on
            self._taken_at, self._latest = now, found
            return found

    def note_unkeyed(self, count: int) -> None:
        """What the freshness check just found: how many of the last seconds' events have no `time_bucket` (0: none,
        which clears an earlier finding). No call: it read them itself (store/freshness.py, `unkeyed`)."""
        with self._lock:
            self._unkeyed = (count, self._clock())

    def unkeyed_lately(self) -> int | None:
        """The events without `time_bucket` the freshness check found within the last `refresh_seconds` (None: it
        found none, or has not looked lately)."""
        with self._lock:
            if self._unkeyed is None or self._clock() - self._unkeyed[1] >= self.refresh_seconds:
                return None
            return self._unkeyed[0] or None

    def _take(self, table_items: int | None) -> Sample:
        total = segments(table_items)
        response = call(self._dynamodb.scan, self.table_name, TableName=self.table_name, Select="COUNT",
                        Limit=SAMPLE_ITEMS, FilterExpression=_UNBACKFILLED,
                        ExpressionAttributeNames={"#ts": TIMESTAMP_ATTRIBUTE, "#tb": TIME_BUCKET_ATTRIBUTE},
                        ReturnConsumedCapacity="TOTAL", Segment=self._random.randrange(total), TotalSegments=total)
        return Sample(int(response.get("ScannedCount", 0)), int(response.get("Count", 0)))
