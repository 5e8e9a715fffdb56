"""Where to look when a one-second search finds nothing: the nearest seconds either side that hold events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dashboard.formats import times
from dashboard.store import Span, Table

from .listing import Listing

# An empty second offers the nearest seconds with events within this many seconds, and the minutes around it.
NEAREST_SECONDS = 60
AROUND_MINUTES = 5


@dataclass(frozen=True)
class Nearest:
    """Where to look when a second holds no events: the closest seconds that do, and the minutes around it."""

    before: str | None
    after: str | None
    around: tuple[str, str] | None
    window_seconds: int


def nearest(table: Table, listing: Listing) -> Nearest | None:
    """For the empty first page of a one-second search: the nearest seconds either side that hold events.

    One Query per second outward (fan-out, so only when stored timestamps are canonical), stopping at the
    first second found, at most NEAREST_SECONDS each way: the only page that reads more than one call.
    """
    query = listing.query
    if (query.timestamp is None or query.range is not None or query.filters or listing.has_prev
            or listing.page.events or listing.next_cursor):
        return None
    around = times.around(query.timestamp, AROUND_MINUTES)
    if not table.ranges.fanout_allowed()[0]:
        return Nearest(None, None, around, 0)
    moment = times.parse(query.timestamp)
    step = timedelta(seconds=1)
    try:
        earlier = Span(times.format_stored(moment - NEAREST_SECONDS * step), times.format_stored(moment - step), True)
        later = Span(times.format_stored(moment + step), times.format_stored(moment + NEAREST_SECONDS * step))
    except OverflowError:
        return Nearest(None, None, around, 0)
    found = [table.ranges.fanout(span, 1).events for span in (earlier, later)]
    before, after = (str(events[0].get("timestamp")) if events else None for events in found)
    return Nearest(before, after, around, NEAREST_SECONDS)
