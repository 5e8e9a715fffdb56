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

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from boto3.dynamodb.conditions import Key

from dashboard.formats import times

from . import deadline
from .counts import BUDGET, COUNT_WAVE, DEADLINE, Counts, _room
from .errors import StoreError, call
from .events import read_request
from .index_kept import Kept
from .index_ranges import INDEX_PLAN, IndexRangeReader
from .reading import Meter, filter_condition
from .records import TIMESTAMP_ATTRIBUTE, Filters, ReadBudget, Span, to_plain
from .time_index import TIME_BUCKET_ATTRIBUTE
from .windows import Values, WindowItems, projected, within_deadline

# Items a Query evaluates at most: None leaves it to DynamoDB's megabyte (the fewest calls); tests set a few.
PAGE_ITEMS: int | None = None
# Top values read this many events a call: a megabyte of them, parsed with all their attributes, 8 Queries at once,
# would hold tens of MB at a time in a worker; the units are the same, the calls about three times as many.
VALUES_PAGE_ITEMS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Part:
    """What one bucket's shard read, folded per bar; where it stopped and why."""

    bars: dict[int, Any]
    stop: str | None  # every event before this timestamp (in reading order) was read; None: the whole part was
    why: str | None  # BUDGET or DEADLINE


@dataclass(frozen=True)
class Walked:
    """A range read through the index from its first second in reading order, folded per bar."""

    bars: dict[int, Any]  # bar number (epoch seconds // bar_seconds) -> what its events folded to (bars with events)
    seconds_counted: int  # seconds of the range read, from its first in reading order
    complete: bool
    stopped: str | None
    counted_through: str | None  # when not complete: the last second read (every one before it in reading order was)
    meter: Meter
    from_cache: int = 0  # seconds of settled buckets whose counts came from the cache, without a call


@dataclass(frozen=True)
class Folding:
    """How a bar's events are kept: `fold` turns one answer's events of a bar into a value, `merge` adds two values.
    Only these per bar are held, never the events: memory stays bounded by the bars, whatever the range holds."""

    bar_seconds: int  # the bars' length, on the UTC clock from 1970 (the timeline's bucket)
    fold: Callable[[list[Values]], Any]
    merge: Callable[[Any, Any], Any]
    names: tuple[str, ...] | None = None  # the attributes read (None: only the timestamp)


def count(reader: IndexRangeReader, span: Span, bar_seconds: int, filters: Filters | None = None,
          budget: ReadBudget | None = None) -> Counts:
    """The events of each bar of the range through the index, each bar's count on its first second in the range."""
    walked = walk(reader, span, filters, budget, Folding(bar_seconds, len, operator.add))
    meter = walked.meter
    return Counts(per_second=bar_seconds_of(walked.bars, span, bar_seconds), seconds_counted=walked.seconds_counted,
                  complete=walked.complete, calls=meter.calls, consumed_rcu=meter.rcu, items_read=meter.items_read,
                  from_cache=walked.from_cache, plan=INDEX_PLAN, stopped=walked.stopped,
                  counted_through=walked.counted_through)


def window(reader: IndexRangeReader, span: Span, folding: Folding, filters: Filters | None = None,
           budget: ReadBudget | None = None) -> tuple[WindowItems, dict[str, Any]]:
    """A breakdown's window through the index, folded per bar (its tallies, by questions/indextallies.py): what was read
    (no events kept) and each bar's fold on its first second in the range."""
    walked = walk(reader, span, filters, within_deadline(budget), folding)
    meter = walked.meter
    return (WindowItems({}, [], walked.complete, walked.seconds_counted, meter.calls, meter.rcu, meter.items_read,
                        INDEX_PLAN), bar_seconds_of(walked.bars, span, folding.bar_seconds))


def bar_seconds_of(bars: dict[int, Any], span: Span, bar_seconds: int) -> dict[str, Any]:
    """Each bar's value on its first second within the range, in time order."""
    first = _epoch(span.start)
    return {times.format_stored(_EPOCH + timedelta(seconds=max(first, bar * bar_seconds))): bars[bar]
            for bar in sorted(bars)}


def walk(reader: IndexRangeReader, span: Span, filters: Filters | None, budget: ReadBudget | None,
         folding: Folding) -> Walked:
    """Buckets in reading order, in waves of 1, 2, 4 ... (at most COUNT_WAVE Queries at once, and no more buckets
    than the budget's units left are expected to pay for), every shard of a wave's buckets at once, each read whole
    unless the budget or the deadline stops it between two of its calls.

    Stopped, the cut is the bar holding the earliest stop among the shards: every bar before it in reading order
    was read whole by every shard, and it and every bar after it are left out (a bar is never counted in part).
    """
    meter = Meter(budget)
    kept = Kept(reader, filters, folding.bar_seconds, folding.merge, span.descending, keeps=folding.names is None)
    shards = reader.config.shards
    remaining = reader.bucket_parts(span)
    found: dict[int, Any] = {}
    through: str | None = None
    wave_size, read_buckets, wave_took, cached_seconds = 1, 0, None, 0
    while remaining:
        # The first wave is always read (as a count by seconds reads its first), the next only with room for it.
        why = None if wave_took is None else BUDGET if meter.spent() else DEADLINE if not _room(wave_took) else None
        if why is not None:
            return _walked(found, span, through, why, meter, cached_seconds)
        size = min(wave_size, max(1, COUNT_WAVE // shards), len(remaining))
        if budget is not None and meter.rcu and read_buckets:  # no more buckets than the units left may pay for
            size = min(size, max(1, int((budget.rcu - meter.rcu) * read_buckets / meter.rcu)))
        wave, remaining = remaining[:size], remaining[size:]
        ranges = [(bucket, *sorted((first, last))) for bucket, first, last in wave]
        wholes = [kept.whole(*part) for part in ranges]
        asked = [_asked(kept, span, *part) for part, whole in zip(ranges, wholes, strict=True) if whole is None]
        parts = [(f"{bucket}#{number}", low, high) for bucket, _, _, low, high, _ in asked for number in range(shards)]
        started = time.monotonic()
        try:
            answers = deadline.on_pool(reader.pool, partial(_part, reader, span, filters, folding, meter),
                                       parts, "the range's index Queries") if parts else []
        except StoreError:
            # The deadline ran out in this wave: the waves before it were read, and the answer says so.
            if not meter.calls or not deadline.expired():
                raise
            return _walked(found, span, through, DEADLINE, meter, cached_seconds)
        wave_took = time.monotonic() - started
        stops = [answer for answer in answers if answer.stop is not None]
        cut: int | None = None
        if stops:
            first_stop = (max if span.descending else min)(stops, key=lambda answer: str(answer.stop))
            cut, why = _epoch(str(first_stop.stop)) // folding.bar_seconds, first_stop.why
        earlier = [*(whole for whole in wholes if whole is not None), *(prefix for *_, prefix in asked)]
        for bars in [*(answer.bars for answer in answers), *earlier]:
            for bar, value in bars.items():
                if cut is None or (bar > cut if span.descending else bar < cut):
                    found[bar] = folding.merge(found[bar], value) if bar in found else value
        cached_seconds += sum(_seconds(low, high) for (_, low, high), whole in zip(ranges, wholes, strict=True)
                              if whole is not None)
        cached_seconds += sum(_seconds(low, high) - _seconds(read_low, read_high)
                              for _, low, high, read_low, read_high, _ in asked)
        for number, (bucket, low, high, _, _, prefix) in enumerate(asked):
            of_bucket = answers[number * shards:(number + 1) * shards]
            kept.keep(bucket, low, high, [prefix, *(answer.bars for answer in of_bucket)],
                      all(answer.stop is None for answer in of_bucket), cut)
        if cut is not None:
            edge = (cut + 1) * folding.bar_seconds if span.descending else cut * folding.bar_seconds - 1
            inside = edge <= _epoch(span.end) if span.descending else edge >= _epoch(span.start)
            ahead = times.format_stored(_EPOCH + timedelta(seconds=edge)) if inside else None
            return _walked(found, span, ahead, why or BUDGET, meter, cached_seconds)
        through = wave[-1][2]
        read_buckets += len(asked)
        wave_size *= 2
    return _walked(found, span, None, None, meter, cached_seconds)


def _asked(kept: Kept, span: Span, bucket: str, low: str,
           high: str) -> tuple[str, str, str, str, str, dict[int, Any]]:
    """(bucket, its part, the part still to read, the bars kept of the rest): a part read in part before is read on
    from the bars it kept."""
    first = kept.first(bucket, low, high)
    if first is None:
        return bucket, low, high, low, high, {}
    edge, bars = first
    step = timedelta(seconds=-1 if span.descending else 1)
    going_on = times.format_stored(times.parse(edge) + step)
    return (bucket, low, high, low, going_on, bars) if span.descending else (bucket, low, high, going_on, high, bars)


def _part(reader: IndexRangeReader, span: Span, filters: Filters | None, folding: Folding, meter: Meter,
          part: tuple[str, str, str]) -> _Part:
    """One bucket's shard, its part of the range read page after page, in reading order (only the timestamp, or
    `names`), each answer's events folded per bar as it comes, until it ends or the budget or the deadline leaves no
    room for its next page."""
    partition, low, high = part
    key = Key(TIME_BUCKET_ATTRIBUTE).eq(partition) & Key(TIMESTAMP_ATTRIBUTE).between(low, high)
    asked = read_request(reader.table_name, key, filter_condition(filters))
    asked.update(IndexName=reader.config.name, ScanIndexForward=not span.descending)
    names = folding.names
    if names is not None:
        asked = {**projected(asked, names), "Limit": VALUES_PAGE_ITEMS}
    else:
        names_of = {**asked.get("ExpressionAttributeNames", {}), "#counted": TIMESTAMP_ATTRIBUTE}
        asked = {**asked, "ProjectionExpression": "#counted", "ExpressionAttributeNames": names_of}
    if PAGE_ITEMS is not None:
        asked["Limit"] = PAGE_ITEMS
    bars: dict[int, Any] = {}
    first_bar = _epoch(high if span.descending else low) // folding.bar_seconds
    start: dict[str, Any] | None = None
    took = 0.0
    while True:
        if start is not None:
            stop = str(start[TIMESTAMP_ATTRIBUTE]["S"])
            why = DEADLINE if not _room(took) else BUDGET if meter.spent() else None
            if why == BUDGET and _epoch(stop) // folding.bar_seconds == first_bar:
                why = None  # past the budget, to the end of its first bar: a count asked again always gets further
            if why is not None:
                # Its events at that timestamp may go on in the next answer: the cut leaves that bar out.
                return _Part(bars, stop, why)
        began = time.monotonic()
        response = meter.record(call(reader.dynamodb.query, reader.table_name, **asked,
                                     **({"ExclusiveStartKey": start} if start else {})))
        took = time.monotonic() - began
        grouped: dict[int, list[Values]] = {}
        for item in response.get("Items", []):
            bar = _epoch(str(item.get(TIMESTAMP_ATTRIBUTE, {}).get("S"))) // folding.bar_seconds
            grouped.setdefault(bar, []).append(to_plain(item) if names is not None else item)
        for bar, events in grouped.items():
            value = folding.fold(events)
            bars[bar] = folding.merge(bars[bar], value) if bar in bars else value
        start = response.get("LastEvaluatedKey")
        if not start:
            return _Part(bars, None, None)
def _walked(found: dict[int, Any], span: Span, through: str | None, why: str | None, meter: Meter,
            cached_seconds: int) -> Walked:
    """What was read: complete without a reason to stop, else every second from the first through `through`."""
    first = span.end if span.descending else span.start
    if why is None:
        return Walked(found, _seconds(span.start, span.end), True, None, None, meter, cached_seconds)
    counted = 0 if through is None else _seconds(*sorted((first, through)))
    return Walked(found, counted, False, why, through, meter, cached_seconds)


def _epoch(stored: str) -> int:
    """Seconds since 1970 of a canonical stored timestamp (`2024-01-01T00:00:00Z`), as the index sorts them."""
    return int(datetime.fromisoformat(stored).timestamp())


def _seconds(start: str, end: str) -> int:
    return int((times.parse(end) - times.parse(start)).total_seconds()) + 1
