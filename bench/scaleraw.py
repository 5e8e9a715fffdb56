"""bench/scale.py's raw side: the same windows read with plain boto3, written here from the DynamoDB API.

Through the time index (partition `YYYY-MM-DD#<shard>`, sort key `timestamp`): a window is one `BETWEEN` Query per
shard of each daily bucket, the shards of a bucket side by side, newest bucket first for a newest-first page.
Without it (`timestamp-index`, hash key only): one Query per second, newest first, at most MAX_CALLS of them.
Each call asks for its consumed capacity, so the raw side's RCUs stand beside the dashboard's. Top values: the same
reads with a projection of the breakdown's fields, every answer's items tallied in Python (a Counter a field and the
processing lags), stopped at the dashboard's read budget (READ_BUDGET_RCU 2,000) as the breakdown is.
"""
from __future__ import annotations

import contextlib
import heapq
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import boto3
from botocore.config import Config

SECOND = timedelta(seconds=1)
# A raw read stops here, as the dashboard's read budget stops its reads (READ_BUDGET_RCU 2,000: 4,000 minimum reads).
MAX_CALLS = 4000
MAX_RCU = 2000.0
# What a breakdown reads (dashboard/questions/breakdown.py): its default fields and the two the lag needs.
TALLIED = ("event_type", "source", "event_name", "content_type", "size")
LAG = ("timestamp", "processed_at")
Answer = TypeVar("Answer", bound=Mapping[str, Any])
STAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Tally:
    """What a raw read asked and found."""

    calls: int = 0
    rcu: float = 0.0
    items: int = 0

    def add(self, answer: Answer) -> Answer:
        self.calls += 1
        self.rcu += float((answer.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
        return answer

    def tally(self, items: Iterable[Mapping[str, Any]], values: dict[str, Counter[str]], lags: list[float]) -> None:
        """Top values and processing lags of an answer's items, from DynamoDB's own JSON."""
        for item in items:
            self.items += 1
            for name in TALLIED:
                attribute = item.get(name)
                values.setdefault(name, Counter())[next(iter(attribute.values())) if attribute else ""] += 1
            stamps = [next(iter(item[name].values())) for name in LAG if name in item]
            if len(stamps) == 2:
                with contextlib.suppress(ValueError):  # a processed_at that is not a time has no lag
                    lags.append((parse(stamps[1]) - parse(stamps[0])).total_seconds())

    def merged(self, other: Tally) -> Tally:
        return Tally(self.calls + other.calls, self.rcu + other.rcu, self.items + other.items)


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def stamp(moment: datetime) -> str:
    return moment.strftime(STAMP)


def day_buckets(start: str, end: str) -> list[tuple[str, str, str]]:
    """(day, the window's first second in it, its last second in it), oldest first."""
    first, last = parse(start), parse(end)
    found = []
    day = first.replace(hour=0, minute=0, second=0)
    while day <= last:
        found.append((day.strftime("%Y-%m-%d"), stamp(max(first, day)),
                      stamp(min(last, day + timedelta(days=1) - SECOND))))
        day += timedelta(days=1)
    return found


class ScaleRaw:
    """Plain boto3 on the endpoint the dashboard uses, a pool as wide as the shards' Queries need."""

    def __init__(self, endpoint: str, table: str, index: str, shards: int) -> None:
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=30,
                        max_pool_connections=16)
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=config)
        self.table, self.index, self.shards = table, index, shards
        self.pool = ThreadPoolExecutor(8)

    def close(self) -> None:
        self.pool.shutdown()

    # Through the time index.

    def _shard_page(self, partition: str, low: str, high: str, limit: int, tally: Tally) -> list[tuple[str, str]]:
        answer = tally.add(self.dynamodb.query(
            TableName=self.table, IndexName=self.index, KeyConditionExpression="#b = :b AND #t BETWEEN :lo AND :hi",
            ExpressionAttributeNames={"#b": "time_bucket", "#t": "timestamp"},
            ExpressionAttributeValues={":b": {"S": partition}, ":lo": {"S": low}, ":hi": {"S": high}},
            ScanIndexForward=False, Limit=limit, ReturnConsumedCapacity="TOTAL"))
        return [(item["timestamp"]["S"], item["event_id"]["S"]) for item in answer["Items"]]

    def index_page(self, start: str, end: str, limit: int = 25) -> Tally:
        """A newest-first page of limit + 1 events: newest bucket first, its shards side by side, merged."""
        tally, found = Tally(), 0
        for day, low, high in reversed(day_buckets(start, end)):
            wanted = limit + 1 - found
            parts = [(f"{day}#{n}", low, high, wanted, Tally()) for n in range(self.shards)]
            shards = list(self.pool.map(lambda part: self._shard_page(*part), parts))
            for part in parts:
                tally = tally.merged(part[4])
            found += min(len(list(heapq.merge(*shards, reverse=True))), wanted)
            if found > limit:
                break
        tally.items = found
        return tally

    def index_every_partition(self, start: str, end: str, limit: int = 25) -> Tally:
        """The worst case of a first page: limit + 1 events from every partition of the window (N × buckets Queries,
        8 at a time), as a page whose newest buckets are empty reads them all."""
        parts = [(f"{day}#{n}", low, high, limit + 1, Tally())
                 for day, low, high in day_buckets(start, end) for n in range(self.shards)]
        found = sum(len(page) for page in self.pool.map(lambda part: self._shard_page(*part), parts))
        total = Tally(items=min(found, limit + 1))
        for part in parts:
            total = total.merged(part[4])
        return total

    def _counted(self, request: dict[str, Any]) -> Tally:
        """A Query read to its end: its calls, capacity and the items it counted."""
        tally = Tally()
        while True:
            answer = tally.add(self.dynamodb.query(**request))
            tally.items += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return tally
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _shard_count(self, partition: str, low: str, high: str) -> Tally:
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": self.index, "Select": "COUNT",
            "KeyConditionExpression": "#b = :b AND #t BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#b": "time_bucket", "#t": "timestamp"},
            "ExpressionAttributeValues": {":b": {"S": partition}, ":lo": {"S": low}, ":hi": {"S": high}},
            "ReturnConsumedCapacity": "TOTAL"}
        return self._counted(request)

    def index_count(self, start: str, end: str) -> Tally:
        """The window's total: a COUNT Query per shard of every bucket it touches (N × buckets), 8 at a time."""
        parts = [(f"{day}#{n}", low, high) for day, low, high in day_buckets(start, end) for n in range(self.shards)]
        total = Tally()
        for tally in self.pool.map(lambda part: self._shard_count(*part), parts):
            total = total.merged(tally)
        return total

    def index_newest(self, now: str, look_back: int = 3600, recent: int = 300, unkeyed: int = 8) -> Tally:
        """The freshness question: the newest event (a one-event page of the look-back), a 5-minute count, and the
        last `unkeyed` seconds' events without time_bucket on timestamp-index (a COUNT Query a second, 8 at a time)."""
        moment = parse(now)
        newest = self.index_page(stamp(moment - (look_back - 1) * SECOND), now, 0)
        found = newest.merged(self.index_count(stamp(moment - (recent - 1) * SECOND), now))
        seconds = [stamp(moment - n * SECOND) for n in range(unkeyed)]
        for tally in self.pool.map(self._unkeyed_second, seconds):
            found = found.merged(Tally(tally.calls, tally.rcu))
        return found

    def _unkeyed_second(self, second: str) -> Tally:
        return self._counted({
            "TableName": self.table, "IndexName": "timestamp-index", "Select": "COUNT",
            "KeyConditionExpression": "#t = :t", "FilterExpression": "attribute_not_exists(#b)",
            "ExpressionAttributeNames": {"#t": "timestamp", "#b": "time_bucket"},
            "ExpressionAttributeValues": {":t": {"S": second}}, "ReturnConsumedCapacity": "TOTAL"})

    def _shard_tally(self, partition: str, low: str, high: str, spent: list[float], lock: threading.Lock,
                     values: dict[str, Counter[str]], lags: list[float]) -> Tally:
        """A shard's part of a bucket read to its end (a megabyte an answer) and tallied, until the budget is spent."""
        tally = Tally()
        request = {**_projection(b="time_bucket", t="timestamp"), "TableName": self.table, "IndexName": self.index,
                   "KeyConditionExpression": "#b = :b AND #t BETWEEN :lo AND :hi",
                   "ExpressionAttributeValues": {":b": {"S": partition}, ":lo": {"S": low}, ":hi": {"S": high}},
                   "ScanIndexForward": False, "ReturnConsumedCapacity": "TOTAL"}
        while spent[0] < MAX_RCU:
            answer = tally.add(self.dynamodb.query(**request))
            with lock:
                spent[0] += float((answer.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
                tally.tally(answer["Items"], values, lags)
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return tally

    def index_tally(self, start: str, end: str) -> Tally:
        """A window's top values: newest bucket first, its shards side by side, every event's fields tallied."""
        total, spent, lock = Tally(), [0.0], threading.Lock()
        values: dict[str, Counter[str]] = {}
        lags: list[float] = []
        for day, low, high in reversed(day_buckets(start, end)):
            if spent[0] >= MAX_RCU:
                break
            parts = [(f"{day}#{n}", low, high, spent, lock, values, lags) for n in range(self.shards)]
            for tally in self.pool.map(lambda part: self._shard_tally(*part), parts):
                total = total.merged(tally)
        return total

    # Without it: a Query per second on timestamp-index.

    def _second(self, second: str, count_only: bool) -> Tally:
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": "timestamp-index", "KeyConditionExpression": "#t = :t",
            "ExpressionAttributeNames": {"#t": "timestamp"}, "ExpressionAttributeValues": {":t": {"S": second}},
            "ReturnConsumedCapacity": "TOTAL", **({"Select": "COUNT"} if count_only else {})}
        return self._counted(request)

    def seconds_page(self, start: str, end: str, limit: int = 25) -> Tally:
        """A newest-first page by fan-out: newest second first, in waves that double up to 8 side by side (as the
        dashboard's do, up to its pool), until limit + 1 events, the window's start or MAX_CALLS Queries."""
        total, moment, first, wave = Tally(), parse(end), parse(start), 1
        while moment >= first and total.items <= limit and total.calls < MAX_CALLS:
            seconds: list[str] = []
            while len(seconds) < wave and moment >= first:
                seconds.append(stamp(moment))
                moment -= SECOND
            for tally in self.pool.map(lambda second: self._second(second, False), seconds):
                total = total.merged(tally)
            wave = min(wave * 2, 8)
        return total

    def seconds_tally(self, start: str, end: str) -> Tally:
        """A window's top values by fan-out: a Query a second with the breakdown's projection, newest first, 8 side
        by side, every event tallied, until the window's start, MAX_CALLS Queries or the read budget."""
        total, moment, first = Tally(), parse(end), parse(start)
        values: dict[str, Counter[str]] = {}
        lags: list[float] = []

        def second(stamp_: str) -> tuple[Tally, list[Mapping[str, Any]]]:
            tally, items = Tally(), list[Mapping[str, Any]]()
            request: dict[str, Any] = {
                **_projection(ts="timestamp"), "TableName": self.table, "IndexName": "timestamp-index",
                "KeyConditionExpression": "#ts = :t", "ExpressionAttributeValues": {":t": {"S": stamp_}},
                "ReturnConsumedCapacity": "TOTAL"}
            while True:
                answer = tally.add(self.dynamodb.query(**request))
                items.extend(answer["Items"])
                if "LastEvaluatedKey" not in answer:
                    return tally, items
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

        while moment >= first and total.calls < MAX_CALLS and total.rcu < MAX_RCU:
            seconds: list[str] = []
            while len(seconds) < 8 and moment >= first:
                seconds.append(stamp(moment))
                moment -= SECOND
            for tally, items in self.pool.map(second, seconds):
                tally.tally(items, values, lags)
                total = total.merged(tally)
        return total

    def seconds_count(self, start: str, end: str) -> Tally:
        """Every second of the window counted, a COUNT Query each, 8 at a time."""
        first, last = parse(start), parse(end)
        seconds = [stamp(first + n * SECOND) for n in range(int((last - first).total_seconds()) + 1)]
        total = Tally()
        for tally in self.pool.map(lambda second: self._second(second, True), seconds):
            total = total.merged(tally)
        return total

    def seconds_newest(self, now: str, look_back: int = 3600, recent: int = 300) -> Tally:
        """The freshness question without the index, cold: the last 5 minutes counted second by second, then on
        back (8 seconds at a time) until a second holds an event or the look-back ends."""
        moment = parse(now)
        total = self.seconds_count(stamp(moment - (recent - 1) * SECOND), now)
        back = recent
        while total.items == 0 and back < look_back:
            wave = self.seconds_count(stamp(moment - (back + 7) * SECOND), stamp(moment - back * SECOND))
            total, back = total.merged(wave), back + 8
        return total


def _projection(**keys: str) -> dict[str, Any]:
    """The breakdown's fields and the lag's two, by placeholder (timestamp and size are reserved words), with the key
    condition's own placeholders."""
    names = {f"#a{n}": name for n, name in enumerate((*TALLIED, *LAG))}
    return {"ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": {**names, **{f"#{key}": name for key, name in keys.items()}}}
