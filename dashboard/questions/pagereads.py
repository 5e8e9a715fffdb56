"""One page of a time range, read with the plan chosen for that page (questions/plans.choose_page).

The page is priced from where it starts: the seconds still to read, how densely the table holds
(matching) events there (the store's sample), and the pace this backend's calls have been taking. A
Scan pass asks DynamoDB for a window of the range only (canonical timestamps), so it sends back a few
pages' events rather than the whole range; a window that held too few is followed by a wider one while
the budget and the deadline leave time for another pass, else the page ends short with Continue.
"""
from __future__ import annotations

import time
from datetime import timedelta

from dashboard.formats import times
from dashboard.store import EventPage, Filters, Keyset, ReadBudget, Span, Table, deadline

from . import plans

# A window that held too few events for the page: the next pass asks for this many times as many seconds.
WIDEN = 4


def read_page(table: Table, span: Span, limit: int, after: Keyset | None, filters: Filters, budget: ReadBudget,
              requested: str | None, fanout_allowed: bool) -> tuple[EventPage, plans.Choice]:
    choice = plan_page(table, span, limit, after, filters, budget, requested, fanout_allowed)
    if choice.plan == plans.FANOUT:
        return table.ranges.fanout(span, limit, after, filters, budget), choice
    if not fanout_allowed or choice.window_seconds is None:
        return table.ranges.scan(span, limit, after, filters, fanout_allowed), choice
    return _scan_windows(table, span, limit, after, filters, budget, choice), choice


def plan_page(table: Table, span: Span, limit: int, after: Keyset | None, filters: Filters, budget: ReadBudget,
              requested: str | None, fanout_allowed: bool) -> plans.Choice:
    left = _left(span, after)
    count, size = table.status.approximate_size()
    seconds_left = 0 if left is None else _seconds(left)
    expected = None
    # A plan asked for with plan= (the live tail's fan-out among them) needs no density sample: no Scan for it.
    if left is not None and requested not in plans.PLANS:
        if count == 0:  # DescribeTable's count lags (dynalite's is always 0): one counted Scan segment says more
            count = table.ranges.sampler.estimated_count()
        sampled, sample_size, whole = table.ranges.sampled_seconds(filters)
        expected = plans.expected_events(sampled, sample_size, whole, count, left.start, left.end)
    pace = table.ranges.pace
    return plans.choose_page(max(seconds_left, 1), limit, expected, count, size, fanout_allowed, requested,
                             pace.query_seconds(), pace.scan_call_seconds(), budget.seconds, budget.rcu,
                             deadline.remaining())


def _scan_windows(table: Table, span: Span, limit: int, after: Keyset | None, filters: Filters,
                  budget: ReadBudget, choice: plans.Choice) -> EventPage:
    """Scan passes over widening windows of the range until the page is full, the range ends, or time runs out."""
    started = time.monotonic()
    width = choice.window_seconds or 1
    pages: list[EventPage] = []
    while True:
        left = _left(span, after)
        if left is None:
            return _merged(pages, None, False)
        window = _window(left, width)
        pass_started = time.monotonic()
        page = table.ranges.scan(span, limit - sum(len(p.events) for p in pages), after, filters, True, window)
        pages.append(page)
        if not page.budget_spent or not isinstance(page.next_key, Keyset):
            return _merged(pages, page.next_key, False)
        # Short: another, wider pass if one more (as long as this one took) fits the budget's time and the deadline.
        took = time.monotonic() - pass_started
        left_seconds = budget.seconds - (time.monotonic() - started)
        remaining = deadline.remaining()
        if remaining is not None:
            left_seconds = min(left_seconds, remaining)
        if took > left_seconds:
            return _merged(pages, page.next_key, True)
        after, width = page.next_key, width * WIDEN


def _merged(pages: list[EventPage], next_key: object, short: bool) -> EventPage:
    units = [page.consumed_rcu for page in pages if page.consumed_rcu is not None]
    return EventPage(events=[event for page in pages for event in page.events],
                     next_key=next_key if isinstance(next_key, Keyset) else None,
                     consumed_rcu=sum(units) if units else None,
                     scanned_count=sum(page.scanned_count for page in pages),
                     calls=sum(page.calls for page in pages), plan="range-scan", budget_spent=short)


def _left(span: Span, after: Keyset | None) -> Span | None:
    """The seconds of the range still to read from `after` on, in stored form (None when none are left)."""
    if after is None:
        return span
    step = timedelta(seconds=-1 if span.descending else 1)
    start = after.timestamp
    if after.event_id is None:  # that second was read whole: the page starts past it
        try:
            start = times.format_stored(times.parse(after.timestamp) + step)
        except OverflowError:
            return None
    if span.descending:
        return Span(span.start, start, True) if span.start <= start else None
    return Span(start, span.end) if start <= span.end else None


def _window(left: Span, width: int) -> Span:
    """The first `width` seconds of what is left, in reading order."""
    reach = timedelta(seconds=width - 1)
    try:
        if left.descending:
            return Span(max(left.start, times.format_stored(times.parse(left.end) - reach)), left.end, True)
        return Span(left.start, min(left.end, times.format_stored(times.parse(left.start) + reach)))
    except OverflowError:  # past year 1 or 9999: the window is all that is left
        return left


def _seconds(span: Span) -> int:
    return int((times.parse(span.end) - times.parse(span.start)).total_seconds()) + 1
