"""A range's timeline and total, or one second's total: the bucket, the bars and what counting them cost.

Counted in a request of its own (`GET /timeline`, loaded by htmx once the first rows are shown, or
followed as a link without JavaScript), with the plan the range is read with, so the rows are never
delayed by the count. Bars are aligned on the UTC clock (whole minutes, hours, days); the first and
last are cut to the range, so that a bar's link opens exactly the seconds it counts.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from dashboard.formats import times
from dashboard.store import Counts, ReadBudget, Span, Table, index_counts

from . import charts, indexreads, plans
from .listing import BadParameter, ListingQuery, cursor_scope, range_plan

# The most bars a chart holds: up to 3 minutes per second, up to 3 hours per minute, up to 7.5 days per hour.
MAX_BARS = 180
BUCKETS = ((1, "second"), (60, "minute"), (3600, "hour"), (86400, "day"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Bucket:
    seconds: int
    label: str  # "second", "minute", "hour", "day" or "3 days"


@dataclass(frozen=True)
class Bar:
    start: str  # stored UTC form, inclusive: the bucket cut to the range
    end: str
    count: int
    complete: bool  # every second of the bar was counted (else the count is at least `count`)
    shape: charts.Bar


class Slot(NamedTuple):
    """Where a listing's timeline goes: an id of its own per range and filters (paging keeps it)."""

    id: str
    one_second: bool


@dataclass(frozen=True)
class Timeline:
    query: ListingQuery
    counts: Counts
    bucket: Bucket | None  # None for one second
    bars: list[Bar]
    choice: plans.Choice | None  # the range's plan and why; None for one second
    seconds: int  # seconds in the range (1 for one second)
    table_items: int | None = None  # DescribeTable's ItemCount (approximate): what a Scan count stopped short read of
    index_not_used: str | None = None  # the time index serves but holds fewer events than the table: why not used
    # The chart's box (SVG units), stretched to the page's width.
    width = charts.BARS_WIDTH
    height = charts.BARS_HEIGHT

    @property
    def peak(self) -> Bar | None:
        return max(self.bars, key=lambda bar: bar.count, default=None)


def epoch(stored: str) -> int:
    return (times.parse(stored) - _EPOCH) // _SECOND


def stored(seconds: int) -> str:
    return times.format_stored(_EPOCH + seconds * _SECOND)


def bucket_for(start: str, end: str) -> Bucket:
    """The smallest clock unit that draws the range in at most MAX_BARS bars; past that, whole days at a time."""
    first, last = epoch(start), epoch(end)
    for size, label in BUCKETS:
        if last // size - first // size + 1 <= MAX_BARS:
            return Bucket(size, label)
    days = math.ceil((last // 86400 - first // 86400 + 1) / MAX_BARS)
    while last // (86400 * days) - first // (86400 * days) + 1 > MAX_BARS:  # the days counted from 1970-01-01
        days += 1
    return Bucket(86400 * days, f"{days} days")


def bars(start: str, end: str, bucket: Bucket, counts: Counts, descending: bool = False) -> list[Bar]:
    """The range's bars: each bucket's events and whether all of its seconds were counted (every second counted is
    named in `per_second`, or the bar lies before `counted_through` in reading order)."""
    first, last = epoch(start), epoch(end)
    offset = first // bucket.seconds
    slots = last // bucket.seconds - offset + 1
    totals, counted = [0] * slots, [0] * slots
    for second, count in counts.per_second.items():
        slot = epoch(second) // bucket.seconds - offset
        totals[slot] += count
        counted[slot] += 1
    shapes = charts.bars(totals)
    made = []
    for slot in range(slots):
        bar_start = max(first, (offset + slot) * bucket.seconds)
        bar_end = min(last, (offset + slot + 1) * bucket.seconds - 1)
        through = None if counts.counted_through is None else epoch(counts.counted_through)
        complete = (counts.complete or (counts.seconds_counted is not None and counted[slot] == bar_end - bar_start + 1)
                    or (through is not None and (bar_start >= through if descending else bar_end <= through)))
        made.append(Bar(stored(bar_start), stored(bar_end), totals[slot], complete, shapes[slot]))
    return made


def slot(query: ListingQuery) -> Slot | None:
    """The timeline's place on a listing page: for a range or one second, never the plain list."""
    if query.range is None and query.timestamp is None:
        return None
    # Of the window read (a relative one as resolved), as the timeline's own request is asked for it.
    window = replace(query.range, relative=None) if query.range else None
    digest = hashlib.sha256(cursor_scope(query.timestamp, window, query.filters).encode()).hexdigest()[:16]
    return Slot(f"timeline-{digest}", query.range is None)


def count(table: Table, query: ListingQuery, budget: ReadBudget) -> Timeline:
    """Count a range under its plan (or one second through the index), within the read budget."""
    if query.timestamp is not None:
        counts = table.counts.by_seconds(Span(query.timestamp, query.timestamp), query.filters, budget)
        return Timeline(query, counts, None, [], None, 1)
    if query.range is None:
        raise BadParameter("a timeline needs a time range (from and to) or one second (timestamp)")
    choice, allowed = range_plan(table, query.range)
    span = query.range.span()
    index, refusal, not_used = indexreads.for_whole_range(table, query.range.plan, allowed)
    if refusal is not None:
        raise BadParameter(refusal)
    bucket = bucket_for(query.range.start, query.range.end)
    if index is not None and index.reader is not None:
        choice = indexreads.whole_range_choice(index, span)
        counts = index_counts.count(index.reader, span, bucket.seconds, query.filters, budget)
    elif choice.plan == plans.FANOUT:
        counts = table.counts.by_seconds(span, query.filters, budget)
    else:
        counts = table.counts.by_scan(span, query.filters, budget, allowed)
    if not_used is not None:
        choice = replace(choice, reason=f"{choice.reason}; {not_used}")
    made = bars(query.range.start, query.range.end, bucket, counts, span.descending)
    return Timeline(query, counts, bucket, made, choice, query.range.seconds, table.status.approximate_size()[0],
                    not_used)


def document(timeline: Timeline) -> dict[str, Any]:
    """The timeline for /api/timeline: the same figures the page states."""
    counts = timeline.counts
    return {
        "total": counts.total,
        "complete": counts.complete,
        "seconds": timeline.seconds,
        "seconds_counted": counts.seconds_counted,
        "plan": counts.plan,
        "plan_reason": timeline.choice.reason if timeline.choice else None,
        "calls": counts.calls,
        "consumed_capacity": counts.consumed_rcu,
        "items_read": counts.items_read,
        "from_cache": counts.from_cache,
        # Not complete: what ended the count ("budget" or "deadline") and, counting by seconds, the last one counted
        # (every second before it, in reading order, was); a Scan stopped short read `items_read` of `table_items`.
        "stopped": counts.stopped,
        "counted_through": counts.counted_through,
        "table_items": timeline.table_items,
        "bucket": timeline.bucket.label if timeline.bucket else None,
        "bars": [{"from": bar.start, "to": bar.end, "count": bar.count, "complete": bar.complete}
                 for bar in timeline.bars],
    }
