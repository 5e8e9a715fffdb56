"""`flask backfill-time-index`: adds `time_bucket` to the items written before the time index existed.

A parallel Scan, then one conditional UpdateItem per item whose `time_bucket` is missing or wrong. The
condition holds the item's `timestamp` as it was read and the old `time_bucket`, so an item the pipeline
changed (or deleted) meanwhile is never touched, and a deleted item is never brought back. Each segment's
position is kept in a checkpoint file after every page, so a crash or Ctrl-C resumes where it stopped: the
page being processed is read again, and its items already right are skipped, so each is written once.
"""
from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard.settings.time_index import TimeIndexConfig

from .errors import StoreError, call
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE, to_plain, to_wire
from .time_index import TIME_BUCKET_ATTRIBUTE, time_bucket

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# On-demand prices in us-east-1 (USD per million request units), for the dry run's estimate only.
WRITE_PRICE_PER_MILLION = 0.625
READ_PRICE_PER_MILLION = 0.125
SCAN_PAGE = 500


@dataclass
class Progress:
    """What the backfill did so far; kept in the checkpoint with each segment's position."""

    scanned: int = 0
    written: int = 0
    already_right: int = 0
    without_timestamp: int = 0
    changed_meanwhile: int = 0
    consumed_wcu: float = 0.0
    consumed_rcu: float = 0.0


@dataclass
class Checkpoint:
    table: str
    index: str
    segments: int
    # Each segment's next ExclusiveStartKey (DynamoDB JSON); None: not started; "done": finished.
    positions: dict[str, Any] = field(default_factory=dict)
    progress: Progress = field(default_factory=Progress)

    @classmethod
    def load(cls, path: Path, table: str, index: str, segments: int) -> Checkpoint:
        if path.exists():
            data = json.loads(path.read_text())
            if (data.get("table"), data.get("index"), data.get("segments")) == (table, index, segments):
                return cls(table, index, segments, data.get("positions") or {}, Progress(**data.get("progress") or {}))
        return cls(table, index, segments)

    def save(self, path: Path) -> None:
        # Written whole and renamed into place: a crash mid-write never leaves half a checkpoint.
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text(json.dumps(asdict(self), indent=1))
        os.replace(partial, path)

    @property
    def resumed(self) -> bool:
        return bool(self.positions)


@dataclass(frozen=True)
class Estimate:
    items: int | None  # DynamoDB's approximate ItemCount (refreshed about every six hours)
    table_bytes: int | None
    write_units: int | None  # at most: every item written once, each billed per started KB
    read_units: float | None  # the Scan: eventually consistent, 0.5 per 4 KB read

    @property
    def cost_usd(self) -> float | None:
        if self.write_units is None or self.read_units is None:
            return None
        return self.write_units * WRITE_PRICE_PER_MILLION / 1e6 + self.read_units * READ_PRICE_PER_MILLION / 1e6


class RateLimit:
    """At most `per_second` write units a second over all segments (a token bucket of one second's units)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.per_second = per_second
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._available = per_second
        self._at = clock()

    def spend(self, units: float) -> None:
        with self._lock:
            now = self._clock()
            self._available = min(self.per_second, self._available + (now - self._at) * self.per_second)
            self._at = now
            self._available -= units
            wait = -self._available / self.per_second if self._available < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


class Backfill:
    """One table's backfill of `time_bucket`: thread-safe, each segment on its own thread."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, config: TimeIndexConfig):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self.config = config
        self._lock = threading.Lock()
        self.stop = threading.Event()

    def estimate(self) -> Estimate:
        table = call(self._dynamodb.describe_table, self.table_name, TableName=self.table_name)["Table"]
        items, size = table.get("ItemCount"), table.get("TableSizeBytes")
        if items is None or size is None:
            return Estimate(items, size, None, None)
        per_item_kb = max(1, math.ceil(size / items / 1024)) if items else 1
        return Estimate(int(items), int(size), int(items) * per_item_kb, math.ceil(size / 4096) * 0.5)

    def run(self, checkpoint: Checkpoint, path: Path, limit: RateLimit,
            on_page: Callable[[Progress], None] = lambda progress: None) -> Progress:
        """Backfill every segment not done yet; returns when all are done or `stop` is set (Ctrl-C)."""
        pending = [number for number in range(checkpoint.segments)
                   if checkpoint.positions.get(str(number)) != "done"]
        with ThreadPoolExecutor(max(1, len(pending)), thread_name_prefix="backfill") as pool:
            futures = [pool.submit(self._segment, number, checkpoint, path, limit, on_page) for number in pending]
            try:
                for future in futures:
                    while True:  # short waits: Ctrl-C reaches this thread at once
                        try:
                            future.result(timeout=0.5)
                            break
                        except TimeoutError:
                            continue
            except BaseException:
                self.stop.set()
                raise
        return checkpoint.progress

    def _segment(self, number: int, checkpoint: Checkpoint, path: Path, limit: RateLimit,
                 on_page: Callable[[Progress], None]) -> None:
        start = checkpoint.positions.get(str(number))
        while not self.stop.is_set():
            response = call(self._dynamodb.scan, self.table_name, TableName=self.table_name, Segment=number,
                            TotalSegments=checkpoint.segments, Limit=SCAN_PAGE, ReturnConsumedCapacity="TOTAL",
                            **({"ExclusiveStartKey": start} if start else {}))
            page = Progress(consumed_rcu=float((response.get("ConsumedCapacity") or {}).get("CapacityUnits", 0)))
            for item in response.get("Items", []):
                if self.stop.is_set():
                    # The page is read again on resume and what it already wrote is skipped then: keep what was
                    # written and spent, not what was looked at (it will be looked at again).
                    page.scanned = page.already_right = page.without_timestamp = 0
                    self._keep(checkpoint, number, start, page, path, on_page)
                    return
                self._one(to_plain(item), page, limit)
            start = response.get("LastEvaluatedKey")
            self._keep(checkpoint, number, start or "done", page, path, on_page)
            if not start:
                return

    def _keep(self, checkpoint: Checkpoint, number: int, position: Any, page: Progress, path: Path,
              on_page: Callable[[Progress], None]) -> None:
        with self._lock:
            for name, value in asdict(page).items():
                setattr(checkpoint.progress, name, getattr(checkpoint.progress, name) + value)
            checkpoint.positions[str(number)] = position
            checkpoint.save(path)
            on_page(checkpoint.progress)

    def _one(self, values: dict[str, Any], page: Progress, limit: RateLimit) -> None:
        page.scanned += 1
        event_id, timestamp = values.get(TABLE_KEY), values.get(TIMESTAMP_ATTRIBUTE)
        key = time_bucket(str(event_id), timestamp, self.config) if isinstance(event_id, str) else None
        if key is None:
            page.without_timestamp += 1
            return
        old = values.get(TIME_BUCKET_ATTRIBUTE)
        if old == key:
            page.already_right += 1
            return
        condition = "#ts = :ts AND " + ("attribute_not_exists(#tb)" if old is None else "#tb = :old")
        expression_values: dict[str, Any] = {":b": {"S": key}, ":ts": {"S": timestamp}}
        if old is not None:
            expression_values[":old"] = to_wire({"old": old})["old"]
        limit.spend(1)
        try:
            response = call(self._dynamodb.update_item, self.table_name, TableName=self.table_name,
                            Key={TABLE_KEY: {"S": event_id}}, UpdateExpression="SET #tb = :b",
                            ConditionExpression=condition,
                            ExpressionAttributeNames={"#tb": TIME_BUCKET_ATTRIBUTE, "#ts": TIMESTAMP_ATTRIBUTE},
                            ExpressionAttributeValues=expression_values, ReturnConsumedCapacity="TOTAL")
        except StoreError as error:
            if error.code != "ConditionalCheckFailedException":
                raise
            page.changed_meanwhile += 1
            return
        units = float((response.get("ConsumedCapacity") or {}).get("CapacityUnits", 1))
        if units > 1:
            limit.spend(units - 1)
        page.written += 1
        page.consumed_wcu += units
