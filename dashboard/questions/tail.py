"""Live tail of a range that ends now: which seconds one poll reads (only those not read yet) and what it found.

Each second is read once, when it ended at least `settle` seconds ago: the pipeline writes an event a
moment after its timestamp, and a Query on the index sees a write a moment after that. An event that
reaches the table later than that is not shown by the tail (reloading the range finds it). The page's
own last seconds were read before they had settled: the first poll reads them once more and the
browser skips the rows it shows already. A poll reads at most MAX_SECONDS_PER_POLL seconds (a tab
woken after a long sleep reads the latest of them and says which seconds it skipped) and at most
MAX_ROWS events; past those, the next poll goes on from the exact event where this one stopped.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dashboard.formats import times
from dashboard.store import EventPage, Filters, Keyset, ReadBudget, Table
from dashboard.store.records import Event

from . import listing, plans
from .cursors import Cursors, Position
from .listing import BadParameter, Listing, ListingQuery, TimeRange

MAX_SECONDS_PER_POLL = 60
MAX_ROWS = listing.MAX_LIMIT
# A range "ends now" when its end is no older than this: a quick range, or one typed up to the current minute.
ENDS_NOW_SECONDS = 60
# DynamoDB's limit on a partition key value, in bytes: no event id is longer in characters.
MAX_ID_LENGTH = 2048
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class TailQuery:
    """What one poll asks: read on from `position`, with the page's filters and plan (None: fan-out if exact)."""

    position: Keyset
    filters: Filters = field(default_factory=Filters)
    plan: str | None = None


@dataclass(frozen=True)
class Window:
    """The seconds one poll reads (None when none has settled since the last poll) and how many it skips."""

    start: str | None
    end: str | None
    skipped: int = 0
    skipped_from: str | None = None  # the seconds skipped, from and to, when any
    skipped_to: str | None = None


@dataclass(frozen=True)
class Poll:
    query: TailQuery
    events: list[Event]  # newest first, as the tail shows them
    window: Window
    position: Keyset  # where the next poll reads on from
    more_waiting: bool  # the window held more than one poll reads: the next one goes on
    page: EventPage | None  # what the read cost; None when nothing was read
    polled_at: str

    def skipped_args(self) -> dict[str, str]:
        """The query parameters of the range this poll skipped, with its filters, for a link to it."""
        if self.window.skipped_from is None or self.window.skipped_to is None:
            return {}
        filters = {parameter: getattr(self.query.filters, name)
                   for parameter, name in listing.FILTER_PARAMETERS.items() if getattr(self.query.filters, name)}
        return {"from": self.window.skipped_from, "to": self.window.skipped_to, "order": "desc", **filters}


def parse_query(args: Mapping[str, str], now: datetime | None = None) -> TailQuery:
    """`after` (the last second read, any ISO-8601 form or relative: now-1m), `after_id` (the last event read in it),
    filters, plan."""
    raw = (args.get("after") or "").strip()
    if not raw:
        raise BadParameter("after is missing: the last second the tail read, such as 2024-01-01T13:00:00Z")
    try:
        after = times.format_stored(times.resolve(raw, now or datetime.now(UTC)))
    except times.TimestampError as error:
        raise BadParameter(f"after: {error}") from None
    after_id = args.get("after_id") or None
    if after_id is not None and len(after_id) > MAX_ID_LENGTH:
        raise BadParameter("after_id is longer than any event id")
    plan = (args.get("plan") or "").strip() or None
    if plan not in (None, "auto", *plans.PLANS):
        raise BadParameter(f"plan must be fanout, scan or auto, not {plan!r}")
    return TailQuery(Keyset(after, after_id), listing.parse_filters(args), None if plan == "auto" else plan)


def settled(now: datetime, settle: int) -> datetime:
    """The last second that ended at least `settle` seconds before `now`."""
    return now.replace(microsecond=0) - _SECOND - settle * _SECOND


def window(position: Keyset, now: datetime, settle: int) -> Window:
    """The seconds after `position` that have settled by `now`, the latest MAX_SECONDS_PER_POLL of them at most.

    A position inside a second (an event id) reads that second again, from after that event.
    """
    last = settled(now, settle)
    done = times.format_stored(last)
    if position.timestamp > done or (position.timestamp == done and position.event_id is None):
        return Window(None, None)
    first = times.parse(position.timestamp) + (_SECOND if position.event_id is None else timedelta(0))
    count = int((last - first).total_seconds()) + 1
    if count <= MAX_SECONDS_PER_POLL:
        return Window(times.format_stored(first), times.format_stored(last))
    start = last - (MAX_SECONDS_PER_POLL - 1) * _SECOND
    return Window(times.format_stored(start), times.format_stored(last), count - MAX_SECONDS_PER_POLL,
                  times.format_stored(first), times.format_stored(start - _SECOND))


def read_plan(table: Table, asked: str | None) -> str:
    """Fan-out reads only the new seconds: always the tail's plan where it is exact, unless plan= says otherwise."""
    if asked is not None:
        return asked
    return plans.FANOUT if table.ranges.fanout_allowed()[0] else plans.SCAN


def poll(table: Table, query: TailQuery, now: datetime, settle: int, cursors: Cursors, budget: ReadBudget) -> Poll:
    """Read the seconds the tail has not read yet, oldest first, at most MAX_ROWS events; answer them newest first."""
    polled_at = times.format_stored(now)
    seconds = window(query.position, now, settle)
    if seconds.start is None or seconds.end is None:
        return Poll(query, [], seconds, query.position, False, None, polled_at)
    # The range starts at the position's own second, which the read then skips or resumes inside;
    # after a skip it starts afresh at the window.
    start, after = ((seconds.start, None) if seconds.skipped
                    else (query.position.timestamp, query.position))
    asked = ListingQuery(limit=MAX_ROWS, timestamp=None, position=Position(start_key=after), filters=query.filters,
                         range=TimeRange(start, seconds.end, "asc", read_plan(table, query.plan)))
    read: Listing = listing.fetch(table, asked, cursors, budget)
    next_key = read.page.next_key
    position = next_key if isinstance(next_key, Keyset) else Keyset(seconds.end)
    return Poll(query, list(reversed(read.page.events)), seconds, position, next_key is not None, read.page,
                polled_at)


@dataclass(frozen=True)
class Offer:
    """A page that can tail: where the tail starts, and what its polls ask besides."""

    after: str
    newest_first: bool  # only a page newest first tails (new rows go on top); else it links to that order
    poll_args: dict[str, str]  # the page's filters and plan, for the poll's URL


def offer(page: Listing, now: datetime, settle: int) -> Offer | None:
    """The live tail this page offers: on the first page of a range that ends now (or later), else None.

    The seconds the page read before they had settled are left for the tail to read again.
    """
    time_range = page.query.range
    if time_range is None or page.has_prev:
        return None
    if time_range.end < times.format_stored(now - ENDS_NOW_SECONDS * _SECOND):
        return None
    poll_args = {name: str(value) for name, value in page.query.link_args().items()
                 if name in listing.FILTER_PARAMETERS or name in ("plan", "q")}
    return Offer(min(time_range.end, times.format_stored(settled(now, settle))), time_range.order == "desc",
                 poll_args)
