"""What one listing request asks for (page size, second or time range, filters, cursor) and the page it gets back.

Shared by the HTML and the JSON views so both page the same way.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from werkzeug.exceptions import BadRequest

from dashboard.formats import times
from dashboard.store import EventPage, Filters, Keyset, ReadBudget, Span, Table
from dashboard.store.records import INSERTED_HERE

from . import columns as table_columns, indexreads, pagereads, plans, query as query_box, windows
from .cursors import CursorError, Cursors, Position
from .windows import QUICK_MINUTES as QUICK_MINUTES, quick_ranges as quick_ranges

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
PAGE_SIZES = (10, 25, 50, 100)
ORDERS = ("asc", "desc")
# Query parameter -> Filters field; `key` is a prefix, the others equality; `inserted=dashboard` keeps the test events
# inserted through the dashboard (their mark, store/records.py).
FILTER_PARAMETERS = {"event_type": "event_type", "source": "source", "event_name": "event_name", "key": "key_prefix",
                     "inserted": "inserted"}
MAX_FILTER_LENGTH = 1024
_DIGITS = re.compile(r"\A[0-9]{1,3}\Z")


class BadParameter(BadRequest):
    """A query parameter the dashboard cannot use: answered 400 with what was expected."""


@dataclass(frozen=True)
class TimeRange:
    start: str  # stored UTC form, inclusive
    end: str
    order: str = "asc"
    plan: str | None = None  # as asked with plan=; None lets the cost estimate choose
    # The bounds as asked, when either is relative to now (`now-15m`, `now`): links ask for them again, so that
    # the window stays relative; start and end are what they resolved to for this request (or a cursor pinned).
    relative: tuple[str, str] | None = None

    @property
    def seconds(self) -> int:
        return int((times.parse(self.end) - times.parse(self.start)).total_seconds()) + 1

    def span(self) -> Span:
        return Span(self.start, self.end, descending=self.order == "desc")


@dataclass(frozen=True)
class ListingQuery:
    limit: int
    timestamp: str | None  # the stored UTC form, when searching the timestamp index
    position: Position
    filters: Filters = field(default_factory=Filters)
    range: TimeRange | None = None
    # What was typed, when it named a fraction of a second the index cannot: the page says so.
    fraction_asked: str | None = None
    q: str = ""  # the query box as typed (questions/query.py); its conditions are in filters.conditions
    columns: tuple[str, ...] = ()  # the table's columns when chosen (questions/columns.py); () is the default

    @property
    def scope(self) -> str:
        return cursor_scope(self.timestamp, self.range, self.filters)

    def link_args(self) -> dict[str, str | int]:
        """The query parameters that ask for this listing again (without a cursor), for links."""
        args: dict[str, str | int] = {"limit": self.limit}
        if self.timestamp:
            args["timestamp"] = self.timestamp
        if self.range:
            args.update(dict(zip(("from", "to"), self.range.relative or (self.range.start, self.range.end),
                                 strict=True)))
            if self.range.order != "asc":
                args["order"] = self.range.order
            if self.range.plan:
                args["plan"] = self.range.plan
        for parameter, name in FILTER_PARAMETERS.items():
            if getattr(self.filters, name):
                args[parameter] = getattr(self.filters, name)
        if self.q.strip():
            args["q"] = self.q
        if self.columns:
            args["columns"] = ",".join(self.columns)
        return args

    def window_args(self) -> dict[str, str | int]:
        """link_args with a relative window's absolute bounds: "link to this exact window", and counts of its rows."""
        args = self.link_args()
        if self.range is not None:
            args.update({"from": self.range.start, "to": self.range.end})
        return args


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    page: EventPage
    next_cursor: str | None
    has_prev: bool
    prev_cursor: str | None  # None with has_prev: the previous page is the first one
    choice: plans.Choice | None = None  # the plan of a range and why
    item_count: int | None = None  # DynamoDB's approximate ItemCount, when asked

    @property
    def number(self) -> int:
        return self.query.position.number

    @property
    def progress_percent(self) -> int | None:
        """How much of the table's approximate item count this listing has read, when both are known."""
        read = self.read_so_far
        if read is None or not self.item_count:
            return None
        return min(100, round(read * 100 / self.item_count))

    @property
    def read_so_far(self) -> int | None:
        """Items read by this listing up to the end of this page, when known (reading forwards)."""
        before = self.query.position.read
        return before + self.page.scanned_count if before is not None else None


def cursor_scope(timestamp: str | None, time_range: TimeRange | None = None, filters: Filters | None = None) -> str:
    # A cursor only continues the listing it came from: a scan key means nothing to a search.
    if time_range is not None:
        # A relative window's cursor is of the window as asked; the cursor itself pins what it resolved to.
        start, end = time_range.relative or (time_range.start, time_range.end)
        scope = f"range:{start}:{end}:{time_range.order}:{time_range.plan or 'auto'}"
    else:
        scope = "scan" if timestamp is None else f"timestamp:{timestamp}"
    if filters:
        fields = [filters.event_type, filters.source, filters.event_name, filters.key_prefix]
        # Only when set, so that the cursors of every other listing read as they always did.
        scope += "|" + json.dumps(fields + [filters.inserted] if filters.inserted else fields)
    if filters and filters.conditions:
        scope += "|q:" + " ".join(condition.text for condition in filters.conditions)
    return scope


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not _DIGITS.match(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return int(text)


def _moment(args: Mapping[str, str], name: str, now: datetime | None = None) -> str | None:
    """A bound in the stored form; with `now`, `now` and `now-<N><unit>` are resolved against it."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return times.format_stored(times.resolve(raw, now)) if now is not None else times.normalize(raw)
    except times.TimestampError as error:
        # The message names a timestamp already; a range bound says which one it is.
        raise BadParameter(str(error) if name == "timestamp" else f"{name}: {error}") from None


def parse_filters(args: Mapping[str, str]) -> Filters:
    values = {}
    for parameter, name in FILTER_PARAMETERS.items():
        value = args.get(parameter) or ""
        if len(value) > MAX_FILTER_LENGTH:
            raise BadParameter(f"{parameter} is longer than {MAX_FILTER_LENGTH} characters")
        values[name] = value
    if values["inserted"] not in ("", INSERTED_HERE):
        raise BadParameter(f"inserted must be {INSERTED_HERE} (the test events inserted through this dashboard), "
                           f"not {values['inserted']!r}")
    return Filters(**values, conditions=query_box.parse(args.get("q")))


def parse_range(args: Mapping[str, str], now: datetime | None = None) -> TimeRange | None:
    """The range from and to name, each a timestamp or relative to `now` (resolved once, by the caller's clock)."""
    now = now or datetime.now(UTC)
    start, end = _moment(args, "from", now), _moment(args, "to", now)
    order = (args.get("order") or "asc").strip()
    if order not in ORDERS:
        raise BadParameter(f"order must be asc (oldest first) or desc (newest first), not {order!r}")
    plan = (args.get("plan") or "").strip() or None
    if plan not in (None, "auto", *plans.PLANS, plans.INDEX):
        raise BadParameter(f"plan must be fanout, scan or auto (chosen from the cost estimate), or index (the time "
                           f"index, where configured), not {plan!r}")
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise BadParameter("a time range needs both from and to (inclusive, any ISO-8601 form)")
    if start > end:
        raise BadParameter(f"from ({start}) is after to ({end}): swap them or use order=desc for newest first")
    relative = windows.relative_bounds(args.get("from"), args.get("to"), start, end)
    return TimeRange(start, end, order, None if plan == "auto" else plan, relative)


def parse_query(args: Mapping[str, str], cursors: Cursors, now: datetime | None = None) -> ListingQuery:
    limit = parse_limit(args.get("limit"))
    timestamp = _moment(args, "timestamp")
    raw_timestamp = (args.get("timestamp") or "").strip()
    fraction_asked = raw_timestamp if timestamp and times.has_fraction(raw_timestamp) else None
    time_range = parse_range(args, now)
    if timestamp and time_range:
        raise BadParameter("search either one second (timestamp) or a time range (from and to), not both")
    if time_range is None and (args.get("order") or "").strip() == "desc":
        raise BadParameter(windows.ORDER_NEEDS_RANGE)
    filters = parse_filters(args)
    try:
        position = cursors.decode(args.get("cursor"), cursor_scope(timestamp, time_range, filters))
    except CursorError as error:
        raise BadParameter(str(error)) from None
    if time_range is not None and time_range.relative is not None:
        time_range, position = _pinned(time_range, position)
    if time_range is not None and position.start_key is not None and not isinstance(position.start_key, Keyset):
        raise BadParameter("cursor does not belong to a time range: start again from the first page")
    return ListingQuery(limit=limit, timestamp=timestamp, position=position, filters=filters, range=time_range,
                        fraction_asked=fraction_asked, q=(args.get("q") or "").strip() if filters.conditions else "",
                        columns=table_columns.parse(args))


def _pinned(time_range: TimeRange, position: Position) -> tuple[TimeRange, Position]:
    """A relative window's later pages read the window its first page resolved to, which their cursor carries."""
    if position.window is None:
        return time_range, replace(position, window=(time_range.start, time_range.end))
    start, end = position.window
    return replace(time_range, start=start, end=end), position


def fanout_allowed(table: Table, time_range: TimeRange) -> bool:
    """Whether fan-out is exact on this table; plan=fanout where it is not is a 400."""
    allowed, why = table.ranges.fanout_allowed()
    if time_range.plan == plans.FANOUT and not allowed:
        raise BadParameter(f"plan=fanout cannot be used on this table: {why}; use plan=scan")
    return allowed


def range_plan(table: Table, time_range: TimeRange) -> tuple[plans.Choice, bool]:
    """The plan a whole range is counted with, and whether fan-out is exact on this table."""
    allowed = fanout_allowed(table, time_range)
    count, size = table.status.approximate_size()
    return plans.choose(time_range.seconds, count, size, allowed, time_range.plan), allowed


def _read_range(table: Table, query: ListingQuery, budget: ReadBudget) -> tuple[EventPage, plans.Choice]:
    """A range page, with the plan chosen for that page (questions/pagereads.py), not for the whole range."""
    assert query.range is not None
    allowed = fanout_allowed(table, query.range)
    after = query.position.start_key if isinstance(query.position.start_key, Keyset) else None
    index, refusal, not_used = indexreads.for_page(table, query.range.plan, allowed)
    if refusal is not None:
        raise BadParameter(refusal)
    if index is not None:
        return indexreads.read_page(index, query.range.span(), query.limit, after, query.filters, budget)
    page, choice = pagereads.read_page(table, query.range.span(), query.limit, after, query.filters, budget,
                                       query.range.plan, allowed)
    return page, (replace(choice, reason=f"{choice.reason}; {not_used}") if not_used else choice)


def fetch(table: Table, query: ListingQuery, cursors: Cursors, budget: ReadBudget) -> Listing:
    """Read one page. Unfiltered, a plain page or a second is exactly one Scan or Query; a second never scans."""
    position = query.position
    choice = None
    start_key = position.start_key if not isinstance(position.start_key, Keyset) else None
    if query.range is not None:
        page, choice = _read_range(table, query, budget)
    elif query.timestamp is None:
        page = table.events.page(query.limit, start_key, query.filters, budget)
    else:
        page = table.events.by_timestamp(query.timestamp, query.limit, start_key, query.filters, budget)
    next_cursor = None
    if page.next_key:
        next_cursor = cursors.encode(position.following(page.next_key, page.scanned_count), query.scope)
    previous = position.preceding()
    return Listing(
        query=query,
        page=page,
        next_cursor=next_cursor,
        has_prev=previous is not None,
        prev_cursor=cursors.encode(previous, query.scope) if previous is not None else None,
        choice=choice,
        item_count=table.status.approximate_count(),
    )
