"""A whole range through the time index, for its timeline and total or its top values: every event's timestamp (or the
breakdown's few attributes), one `BETWEEN` Query per bucket and shard, buckets in reading order and in waves.

Reading the timestamps is the cheapest way to bars on DynamoDB: a Query is billed by the size of the items it reads
(4 KB steps summed over the call), whatever it returns, so `Select=COUNT` would cost the same units for one number per
partition, and a COUNT Query per bar and shard would add a call (and its rounding) per bar. Projecting `timestamp` reads
a partition's events a megabyte a call and sends back only their times.

Stopped by the read budget or the request's deadline, it says exactly what it counted: every event before a point in
reading order, `counted_through` (a shard stopped at timestamp T has read every event before T, and its next answer
may hold more at T: the wave's earliest such T is the cut, and whatever any shard read at or past it is left out). The
range's seconds before the cut were all counted, those after it not at all.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from boto3.dynamodb.conditions import Key

from dashboard.formats import times

from . import deadline
from .counts import BUDGET, COUNT_WAVE, DEADLINE, Counts, _room
from .errors import StoreError, call
from .events import read_request
from .index_ranges import INDEX_PLAN, IndexRangeReader
from .reading import Meter, filter_condition
from .records import TIMESTAMP_ATTRIBUTE, Filters, ReadBudget, Span, to_plain
from .time_index import TIME_BUCKET_ATTRIBUTE
from .windows import Values, WindowItems, projected, within_deadline

# Items a Query evaluates at most: None leaves it to DynamoDB's megabyte (the fewest calls); tests set a few.
PAGE_ITEMS: int | None = None


@dataclass(frozen=True)
class _Part:
    """What one bucket's shard read: per second, a count or the events' values; where it stopped and why."""

    found: dict[str, Any]
    stop: str | None  # every event before this timestamp (in reading order) was read; None: the whole part was
    why: str | None  # BUDGET or DEADLINE


@dataclass(frozen=True)
class Walked:
    """A range read through the index from its first second in reading order."""

    per_second: dict[str, Any]  # only seconds that hold events: a count, or the events' values
    seconds_counted: int  # seconds of the range read, from its first in reading order
    complete: bool
    stopped: str | None
    counted_through: str | None  # when not complete: the last second read (every one before it in reading order was)
    meter: Meter


def count(reader: IndexRangeReader, span: Span, filters: Filters | None = None,
          budget: ReadBudget | None = None) -> Counts:
    """The events of each second of the range (only seconds holding some are named), through the index."""
    walked = walk(reader, span, filters, budget, None)
    meter = walked.meter
    return Counts(per_second=walked.per_second, seconds_counted=walked.seconds_counted, complete=walked.complete,
                  calls=meter.calls, consumed_rcu=meter.rcu, items_read=meter.items_read, from_cache=0,
                  plan=INDEX_PLAN, stopped=walked.stopped, counted_through=walked.counted_through)


def window(reader: IndexRangeReader, span: Span, names: tuple[str, ...], filters: Filters | None = None,
           budget: ReadBudget | None = None) -> WindowItems:
    """A breakdown's events of the range through the index: only `names` (and the key and timestamp) of each."""
    walked = walk(reader, span, filters, within_deadline(budget), names)
    meter = walked.meter
    return WindowItems(walked.per_second, [], walked.complete, walked.seconds_counted, meter.calls, meter.rcu,
                       meter.items_read, INDEX_PLAN)


def walk(reader: IndexRangeReader, span: Span, filters: Filters | None, budget: ReadBudget | None,
         names: tuple[str, ...] | None) -> Walked:
    """Buckets in reading order, in waves of 1, 2, 4 ... (at most COUNT_WAVE Queries at once, and no more buckets
    than the budget's units left are expected to pay for), every shard of a wave's buckets at once, each read whole
    unless the budget or the deadline stops it between two of its calls."""
    meter = Meter(budget)
    shards = reader.config.shards
    remaining = reader.bucket_parts(span)
    found: dict[str, Any] = {}
    through: str | None = None
    wave_size, read_buckets, wave_took = 1, 0, None
    while remaining:
        # The first wave is always read (as a count by seconds reads its first), the next only with room for it.
        why = None if wave_took is None else BUDGET if meter.spent() else DEADLINE if not _room(wave_took) else None
        if why is not None:
            return _walked(found, span, through, why, meter)
        size = min(wave_size, max(1, COUNT_WAVE // shards), len(remaining))
        if budget is not None and meter.rcu and read_buckets:  # no more buckets than the units left may pay for
            size = min(size, max(1, int((budget.rcu - meter.rcu) * read_buckets / meter.rcu)))
        wave, remaining = remaining[:size], remaining[size:]
        parts = [(f"{bucket}#{number}", low, high) for bucket, first, last in wave for number in range(shards)
                 for low, high in [(last, first) if span.descending else (first, last)]]
        started = time.monotonic()
        try:
            answers = deadline.on_pool(reader.pool, partial(_part, reader, span, filters, names, meter),
                                       parts, "the range's index Queries")
        except StoreError:
            # The deadline ran out in this wave: the waves before it were read, and the answer says so.
            if not meter.calls or not deadline.expired():
                raise
            return _walked(found, span, through, DEADLINE, meter)
        wave_took = time.monotonic() - started
        stops = [answer for answer in answers if answer.stop is not None]
        cut = None
        if stops:
            first_stop = (max if span.descending else min)(stops, key=lambda answer: str(answer.stop))
            cut, why = first_stop.stop, first_stop.why
        for answer in answers:
            for second, value in answer.found.items():
                if cut is None or (second > cut if span.descending else second < cut):
                    _add(found, second, value)
        if cut is not None:
            before = times.parse(cut) + timedelta(seconds=1 if span.descending else -1)
            ahead = times.format_stored(before)
            started_at = span.end if span.descending else span.start
            reached = ahead <= started_at if span.descending else ahead >= started_at
            return _walked(found, span, ahead if reached else None, why or BUDGET, meter)
        through = wave[-1][2]
        read_buckets += len(wave)
        wave_size *= 2
    return _walked(found, span, None, None, meter)


def _part(reader: IndexRangeReader, span: Span, filters: Filters | None, names: tuple[str, ...] | None,
          meter: Meter, part: tuple[str, str, str]) -> _Part:
    """One bucket's shard, its part of the range read page after page, in reading order (only the timestamp, or
    `names`), until it ends or the budget or the deadline leaves no room for its next page."""
    partition, low, high = part
    key = Key(TIME_BUCKET_ATTRIBUTE).eq(partition) & Key(TIMESTAMP_ATTRIBUTE).between(low, high)
    asked = read_request(reader.table_name, key, filter_condition(filters))
    asked.update(IndexName=reader.config.name, ScanIndexForward=not span.descending)
    if PAGE_ITEMS is not None:
        asked["Limit"] = PAGE_ITEMS
    values = names is not None
    asked = projected(asked, names) if names is not None else {
        **asked, "ProjectionExpression": "#counted",
        "ExpressionAttributeNames": {**asked.get("ExpressionAttributeNames", {}), "#counted": TIMESTAMP_ATTRIBUTE}}
    found: dict[str, Any] = {}
    start: dict[str, Any] | None = None
    took = 0.0
    while True:
        if start is not None:
            why = BUDGET if meter.spent() else DEADLINE if not _room(took) else None
            if why is not None:
                # Its events at that timestamp may go on in the next answer: the cut leaves that second out.
                return _Part(found, str(start[TIMESTAMP_ATTRIBUTE]["S"]), why)
        began = time.monotonic()
        response = meter.record(call(reader.dynamodb.query, reader.table_name, **asked,
                                     **({"ExclusiveStartKey": start} if start else {})))
        took = time.monotonic() - began
        for item in response.get("Items", []):
            second = str(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))
            if values:
                found.setdefault(second, []).append(to_plain(item))
            else:
                found[second] = found.get(second, 0) + 1
        start = response.get("LastEvaluatedKey")
        if not start:
            return _Part(found, None, None)


def _add(found: dict[str, Any], second: str, value: Any) -> None:
    if isinstance(value, list):
        events: list[Values] = found.setdefault(second, [])
        events.extend(value)
    else:
        found[second] = found.get(second, 0) + value


def _walked(found: dict[str, Any], span: Span, through: str | None, why: str | None, meter: Meter) -> Walked:
    """What was read: complete without a reason to stop, else every second from the first through `through`."""
    first = span.end if span.descending else span.start
    if why is None:
        return Walked(found, _seconds(span.start, span.end), True, None, None, meter)
    counted = 0 if through is None else _seconds(*sorted((first, through)))
    return Walked(found, counted, False, why, through, meter)


def _seconds(start: str, end: str) -> int:
    return int((times.parse(end) - times.parse(start)).total_seconds()) + 1
