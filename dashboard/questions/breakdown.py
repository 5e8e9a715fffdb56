"""A listing's breakdown: the top values of a few fields and the processing lag, read within the read budget.

Read in a request of its own (`GET /breakdown`, `GET /api/breakdown`), with the plan the listing's range is
read with: one Query per second on the index (reading order, settled seconds' tallies cached the way counts
are) or a parallel Scan (a range under the scan plan, or the whole table). What was counted is said
exactly ("counted over all 146 events", or over the first part and how much was left), never a silent
sample. `compare=previous` reads the window just before, of the same length, and names the values that
went quiet.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, NamedTuple

from dashboard.formats import present, times
from dashboard.store import ReadBudget, Table, WindowItems

from . import charts, indexreads, indextallies, plans, secondtallies, tallies
from .listing import BadParameter, ListingQuery, TimeRange, range_plan
from .tallies import Lag, Tally
from .timeline import Bucket, bucket_for, epoch, stored

DEFAULT_FIELDS = ("event_type", "source", "event_name", "content_type", "size")
TOP = 10
MAX_FIELDS = 12
LAG = ("timestamp", "processed_at")  # read for the lag whatever the fields


@dataclass(frozen=True)
class LagBar:
    start: str
    end: str
    p50: float | None
    max: float | None
    p50_height: str  # SVG, on the chart's common scale
    max_shape: charts.Bar


@dataclass(frozen=True)
class Breakdown:
    query: ListingQuery
    fields: tuple[str, ...]
    start: str | None  # the window read (None: the whole table)
    end: str | None
    made: Tally
    read: WindowItems
    from_cache: int  # seconds whose tally came from the cache
    seconds: int | None  # seconds in the window
    covered_seconds: int | None  # fan-out: seconds counted from the window's first (in reading order)
    item_count: int | None  # DynamoDB's approximate ItemCount
    lag_bars: list[LagBar]
    bucket: Bucket | None
    plan_reason: str | None = None  # a range's: its plan, and why not the time index where it serves but is not used
    # The lag chart's box (SVG units): the count timeline's, so that its bars stand under the same seconds.
    chart_width = charts.BARS_WIDTH
    chart_height = charts.BARS_HEIGHT

    @property
    def complete(self) -> bool:
        return self.read.complete

    @property
    def lag_peak(self) -> float | None:
        """The greatest lag of any bar: the top of the lag chart's scale."""
        return max((bar.max for bar in self.lag_bars if bar.max is not None), default=None)

    @property
    def counted(self) -> int:
        return self.made.counted

    @property
    def lag(self) -> Lag:
        return tallies.lag_of(self.made)

    def values(self, name: str) -> tallies.FieldValues:
        return tallies.top_values(self.made, name, TOP)

    @property
    def estimated_total(self) -> int | None:
        """How many events the window (or table) holds: exact when complete, else extrapolated from what was read."""
        if self.complete:
            return self.counted
        if self.covered_seconds and self.seconds:
            return round(self.counted * self.seconds / self.covered_seconds)
        if self.read.items_read and self.item_count:
            if self.start is None and not self.query.filters:
                return self.item_count
            return round(self.counted * self.item_count / self.read.items_read)
        return None

    @property
    def coverage(self) -> str:
        """The sentence that says exactly what was counted."""
        where = "of the table" if self.start is None else (
            "of this second" if self.start == self.end else "of the window")
        if self.complete:
            return f"counted over all {self.counted:,} event{'' if self.counted == 1 else 's'} {where}"
        about = self.estimated_total
        of = f" of about {about:,}" if about is not None else ""
        if self.covered_seconds is not None:
            newest = self.query.range is not None and self.query.range.order == "desc"
            return (f"over the first {self.counted:,}{of} events {where} (the {'latest' if newest else 'earliest'} "
                    f"{_duration(self.covered_seconds)}); the read budget ran out")
        return (f"over the first {self.counted:,}{of} events {where}: the Scan read {self.read.items_read:,} items"
                f"{f' of about {self.item_count:,}' if self.item_count else ''} in the table's own order, not by "
                "time, before the read budget ran out")


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour{'' if seconds == 3600 else 's'}"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute{'' if seconds == 60 else 's'}"
    return f"{seconds:,} second{'' if seconds == 1 else 's'}"


class Slot(NamedTuple):
    """Where a listing's breakdown goes: an id per window and conditions (paging keeps it), and whether it loads by
    itself (a range or a second) or waits to be asked (the whole table: a Scan up to the read budget)."""

    id: str
    auto: bool


def slot(query: ListingQuery) -> Slot:
    # Of the window as read (a relative one as resolved, as the breakdown's own request is asked for it).
    window = replace(query, range=replace(query.range, relative=None)) if query.range else query
    digest = hashlib.sha256(window.scope.encode()).hexdigest()[:16]
    return Slot(f"breakdown-{digest}", query.range is not None or query.timestamp is not None)


def parse_fields(raw: str | None) -> tuple[str, ...]:
    if not raw or not raw.strip():
        return DEFAULT_FIELDS
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    odd = next((name for name in names if not name.replace("_", "a").replace("-", "a").isalnum()), None)
    if odd is not None or not names or len(names) > MAX_FIELDS:
        raise BadParameter(f"fields must be up to {MAX_FIELDS} attribute names separated by commas, not {raw!r}")
    return names


def count(table: Table, query: ListingQuery, fields: tuple[str, ...], budget: ReadBudget) -> Breakdown:
    """The breakdown of the listing's window (a range, one second, or the whole table), within `budget`."""
    names = tuple(dict.fromkeys((*fields, *LAG)))
    if query.range is None and query.timestamp is None:
        read = table.windows.by_scan(None, names, query.filters, budget)
        made = tallies.tally(read.unplaced, fields)
        return Breakdown(query, fields, None, None, made, read, 0, None, None, table.status.approximate_count(),
                         [], None)
    time_range = query.range or TimeRange(query.timestamp or "", query.timestamp or "")
    span = time_range.span()
    window_seconds = epoch(span.end) - epoch(span.start) + 1
    plan, allowed, reason = plans.FANOUT, True, None
    if query.range is not None:
        choice, allowed = range_plan(table, time_range)
        plan = choice.plan
        index, refusal, not_used = indexreads.for_whole_range(table, time_range.plan, allowed)
        if refusal is not None:
            raise BadParameter(refusal)
        if index is not None and index.reader is not None:  # every event of the range is in the index
            bars_of = bucket_for(span.start, span.end)
            read, made, firsts, per_bar = indextallies.read(index.reader, span, names, fields, query.filters, budget,
                                                            bars_of)
            return Breakdown(query, fields, span.start, span.end, made, read, 0, window_seconds, read.seconds_read,
                             table.status.approximate_count(),
                             _lag_bars(span.start, span.end, bars_of, firsts, per_bar, fields), bars_of,
                             indexreads.whole_range_choice(index, span).reason)
        reason = f"{choice.reason}; {not_used}" if not_used else choice.reason
    scope = f"{table.name}|{','.join(fields)}"
    covered: int | None = None
    if plan == plans.FANOUT:
        read, every, counted, from_cache = secondtallies.by_fanout(table, span, query.filters, names, fields,
                                                                   budget, scope)
        covered = len(counted)
        read = replace(read, complete=covered == window_seconds, seconds_read=covered)
    else:
        read, every, counted, from_cache = secondtallies.by_scan(table, span, query.filters, names, fields,
                                                                 budget, allowed, scope)
    made = tallies.total(counted, fields)
    bucket = bucket_for(span.start, span.end) if query.range is not None else None
    lag_bars = _lag_bars(span.start, span.end, bucket, every, counted, fields) if bucket else []
    return Breakdown(query, fields, span.start, span.end, made, read, from_cache, window_seconds, covered,
                     table.status.approximate_count(), lag_bars, bucket, reason)


def _lag_bars(start: str, end: str, bucket: Bucket, every: list[str], counted: list[Tally],
              fields: tuple[str, ...]) -> list[LagBar]:
    """Per bar of the count timeline (the same clock-aligned buckets): p50 and max lag of the seconds counted."""
    first, last = epoch(start), epoch(end)
    offset = first // bucket.seconds
    slots = [tallies.tally([], ()) for _ in range(last // bucket.seconds - offset + 1)]
    for second, made in zip(every, counted, strict=False):
        slot = epoch(second) // bucket.seconds - offset
        slots[slot] = slots[slot].add(Tally(made.counted, {}, made.lags, made.without_processed_at, []))
    lags = [tallies.lag_of(made) for made in slots]
    peak = max((lag.max or 0 for lag in lags), default=0) or 1
    shapes = charts.bars([round((lag.max or 0) * 1000) for lag in lags])
    made_bars = []
    for slot, (lag, shape) in enumerate(zip(lags, shapes, strict=True)):
        tall = charts.BARS_HEIGHT - charts.PAD
        p50_height = 0.0 if not lag.p50 else max(charts.MIN_BAR_HEIGHT, lag.p50 / peak * tall)
        made_bars.append(LagBar(stored(max(first, (offset + slot) * bucket.seconds)),
                                stored(min(last, (offset + slot + 1) * bucket.seconds - 1)),
                                lag.p50, lag.max, f"{p50_height:g}", shape))
    return made_bars


def previous_query(query: ListingQuery) -> ListingQuery:
    """The window just before this one, of the same length: a range, or the second before."""
    if query.range is not None:
        length = timedelta(seconds=query.range.seconds)
        start, end = times.parse(query.range.start) - length, times.parse(query.range.start) - timedelta(seconds=1)
        earlier = TimeRange(times.format_stored(start), times.format_stored(end), query.range.order, query.range.plan)
        return replace(query, range=earlier)
    if query.timestamp is not None:
        return replace(query, timestamp=times.format_stored(times.parse(query.timestamp) - timedelta(seconds=1)))
    raise BadParameter("compare=previous needs a time range (from and to) or one second (timestamp)")


def went_quiet(now: Breakdown, before: Breakdown) -> dict[str, list[Any]]:
    """Per field, the values seen in the window before and not in this one."""
    return {name: sorted((value for value in before.made.values.get(name, {})
                          if value is not None and not now.made.values.get(name, {}).get(value)), key=str)
            for name in now.fields}


def _fields_document(made: Breakdown) -> dict[str, Any]:
    document = {}
    for name in made.fields:
        values = made.values(name)
        document[name] = {"values": [{"value": present.plain_ready(value.value), "count": value.count}
                                     for value in values.values], "other": values.other, "distinct": values.distinct}
    return document


def document(made: Breakdown, previous: Breakdown | None = None) -> dict[str, Any]:
    """The breakdown for /api/breakdown: the same figures the page states (lag in seconds)."""
    lag = made.lag
    answer: dict[str, Any] = {
        "from": made.start, "to": made.end, "counted": made.counted, "complete": made.complete,
        "coverage": made.coverage, "estimated_total": made.estimated_total, "fields": _fields_document(made),
        "lag": {"p50": lag.p50, "p95": lag.p95, "p99": lag.p99, "max": lag.max, "counted": lag.counted,
                "without_processed_at": lag.without_processed_at,
                "slowest": [{"event_id": slow.event_id, "timestamp": slow.timestamp, "lag": slow.lag}
                            for slow in lag.slowest],
                # Per bar of the count timeline (a range): the chart beside it.
                "bucket": made.bucket.label if made.bucket else None,
                "bars": [{"from": bar.start, "to": bar.end, "p50": bar.p50, "max": bar.max} for bar in made.lag_bars]},
        "plan": made.read.plan, "plan_reason": made.plan_reason, "calls": made.read.calls,
        "consumed_capacity": made.read.consumed_rcu, "items_read": made.read.items_read, "from_cache": made.from_cache,
        "seconds": made.seconds,
        "seconds_counted": made.covered_seconds,
    }
    if previous is not None:
        answer["previous"] = {"from": previous.start, "to": previous.end, "counted": previous.counted,
                              "complete": previous.complete, "coverage": previous.coverage,
                              "fields": _fields_document(previous), "calls": previous.read.calls,
                              "consumed_capacity": previous.read.consumed_rcu}
        answer["went_quiet"] = {name: [present.plain_ready(value) for value in values]
                                for name, values in went_quiet(made, previous).items()}
        answer["calls"] += previous.read.calls
        if previous.read.consumed_rcu is not None:
            answer["consumed_capacity"] = (answer["consumed_capacity"] or 0.0) + previous.read.consumed_rcu
    return answer
