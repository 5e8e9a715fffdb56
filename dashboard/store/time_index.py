"""The optional time-sorted index: its key (`time_bucket`, bucket#shard; sort key `timestamp`) and its checks.

AWS's pattern for time series on DynamoDB: a partition key that names a time bucket and a shard, so that a
window is a few `BETWEEN` Queries (one per bucket and shard) that come back sorted. A writer in any language
computes the same key: the UTC date (or hour) of `timestamp`, '#', and the first 8 hex digits of the MD5 of
the UTF-8 `event_id`, as an integer, modulo the number of shards.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from dashboard.formats import times
from dashboard.settings.time_index import TimeIndexConfig

from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE

TIME_BUCKET_ATTRIBUTE = "time_bucket"
_BUCKET_FORMATS = {"day": "%Y-%m-%d", "hour": "%Y-%m-%dT%H"}
_BUCKET_STEPS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


def shard(event_id: str, shards: int) -> int:
    """The shard of an event: the first 8 hex digits of MD5(UTF-8 event_id), as an integer, modulo `shards`."""
    return int(hashlib.md5(event_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:8], 16) % shards


def bucket_of(moment: datetime, config: TimeIndexConfig) -> str:
    """The time bucket of a UTC moment: its date (YYYY-MM-DD) or its hour (YYYY-MM-DDTHH)."""
    return moment.strftime(_BUCKET_FORMATS[config.bucket])


def time_bucket(event_id: str, timestamp: Any, config: TimeIndexConfig) -> str | None:
    """The index key of an event, or None when its timestamp is not a time (such an event stays out of the index)."""
    moment = times.try_parse(timestamp) if isinstance(timestamp, str) else None
    if moment is None or not event_id:
        return None
    return f"{bucket_of(moment, config)}#{shard(event_id, config.shards)}"


def keyed(values: dict[str, Any], config: TimeIndexConfig | None) -> dict[str, Any]:
    """The event with its `time_bucket` where an index is configured (and it has a time), as a writer adds it."""
    if config is None:
        return values
    bucket = time_bucket(str(values.get(TABLE_KEY, "")), values.get(TIMESTAMP_ATTRIBUTE), config)
    return {**values, TIME_BUCKET_ATTRIBUTE: bucket} if bucket is not None else values


def buckets(start: datetime, end: datetime, config: TimeIndexConfig) -> list[str]:
    """Every bucket from the one holding `start` to the one holding `end`, oldest first."""
    step = _BUCKET_STEPS[config.bucket]
    first = start.replace(minute=0, second=0, microsecond=0)
    if config.bucket == "day":
        first = first.replace(hour=0)
    found = []
    moment = first
    while moment <= end:
        found.append(bucket_of(moment, config))
        moment += step
    return found


def partitions(start: datetime, end: datetime, config: TimeIndexConfig) -> list[str]:
    """The index partitions (bucket#shard) a window touches: one Query each reads it in timestamp order."""
    return [f"{bucket}#{number}" for bucket in buckets(start, end, config) for number in range(config.shards)]


def index_definition(name: str) -> dict[str, Any]:
    """The GlobalSecondaryIndexes entry of the index (CreateTable, UpdateTable's Create), projecting ALL."""
    return {"IndexName": name,
            "KeySchema": [{"AttributeName": TIME_BUCKET_ATTRIBUTE, "KeyType": "HASH"},
                          {"AttributeName": TIMESTAMP_ATTRIBUTE, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}


def mismatch(config: TimeIndexConfig, table: dict[str, Any]) -> str | None:
    """Why the table (DescribeTable's "Table") cannot serve the configured index, or None when it can.

    The dashboard then reads through timestamp-index alone, as without the index, and says why.
    """
    indexes = {index.get("IndexName"): index for index in table.get("GlobalSecondaryIndexes") or []}
    found = indexes.get(config.name)
    if found is None:
        return (f"TIME_INDEX names {config.name}, but the table has no such index "
                f"(it has: {', '.join(sorted(str(name) for name in indexes)) or 'none'})")
    schema = {key.get("KeyType"): key.get("AttributeName") for key in found.get("KeySchema") or []}
    if schema != {"HASH": TIME_BUCKET_ATTRIBUTE, "RANGE": TIMESTAMP_ATTRIBUTE}:
        return (f"index {config.name} is keyed {schema.get('HASH')}/{schema.get('RANGE')}, not "
                f"{TIME_BUCKET_ATTRIBUTE}/{TIMESTAMP_ATTRIBUTE}")
    if (found.get("Projection") or {}).get("ProjectionType") != "ALL":
        return f"index {config.name} does not project ALL attributes: its pages would miss attributes"
    if found.get("IndexStatus") not in (None, "ACTIVE"):
        return f"index {config.name} is {found.get('IndexStatus')} (DynamoDB is still building it)"
    return None


def index_coverage(config: TimeIndexConfig, table: dict[str, Any]) -> tuple[int | None, int | None]:
    """(the index's ItemCount, the table's): DynamoDB's approximate figures, refreshed about every six hours.
    Fewer in the index than in the table: items not yet backfilled (or without a timestamp) are not in it."""
    for index in table.get("GlobalSecondaryIndexes") or []:
        if index.get("IndexName") == config.name:
            count = index.get("ItemCount")
            return (int(count) if count is not None else None,
                    int(table["ItemCount"]) if table.get("ItemCount") is not None else None)
    return None, None
