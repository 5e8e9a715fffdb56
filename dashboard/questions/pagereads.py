"""One page of a time range, read with the plan chosen for that page (questions/plans.choose_page).

The page is priced from where it starts: the seconds still to read, how densely the table holds
(matching) events there (the store's sample), and the pace this backend's calls have been taking. A
Scan pass asks DynamoDB for a window of the range only (canonical timestamps), so it sends back a few
pages' events rather than the whole range; a window that held too few is followed by a wider one while
the budget and the deadline leave time for another pass, else the page ends short with Continue.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

from dashboard.formats import times
from dashboard.store import EventPage, Filters, KeyPasses, Keyset, ReadBudget, Span, Table, deadline

from . import plans

# A window that held too few events for the page: the next pass asks for this many times as many seconds.
WIDEN = 4
# What a page from the range's shared key pass needs left of the deadline for its BatchGetItem, once the pass ended.
PAGE_SECONDS = 0.5
GATHERING = ("neither the Queries nor one Scan pass fill this page within the read budget, so a Scan pass that the "
             "range's pages share gathers its keys ({items:,} items read in {calls} calls, {keys:,} events of the "
             "range found so far): Continue reads on")
GATHERED = "from the keys a Scan pass gathered for this settled range (kept in this process): one BatchGetItem a page"
TOO_LARGE = "the range holds too many events to gather their keys in process: the Queries read what the budget allows"


def read_page(table: Table, span: Span, limit: int, after: Keyset | None, filters: Filters, budget: ReadBudget,
              requested: str | None, fanout_allowed: bool) -> tuple[EventPage, plans.Choice]:
    passes = _passes(table, span, requested, fanout_allowed)
    if passes is not None and (gathered := passes.gathered(span, filters)) is not None:
        return passes.page(gathered, span, limit, after), _choice(span, GATHERED)
    choice = plan_page(table, span, limit, after, filters, budget, requested, fanout_allowed)
    # Neither plan fills the page in time: past the first page (which shows what the Queries find at once), the
    # range's pages share one pass gathering its keys.
    if passes is not None and not choice.fits and (after is not None or passes.started(span, filters)):
        gathered_page = _gather(passes, span, limit, after, filters, budget)
        if gathered_page is not None:
            return gathered_page
        choice = dataclasses.replace(choice, reason=TOO_LARGE)
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


def _passes(table: Table, span: Span, requested: str | None, fanout_allowed: bool) -> KeyPasses | None:
    """The table's key passes when this page may use them: no plan asked for, a settled range whose timestamps are
    canonical (the pass's FilterExpression bounds them as strings)."""
    if table.passes is None or requested in plans.PLANS or not fanout_allowed:
        return None
    try:
        return table.passes if table.counts.cache.settled(span.end) else None
    except OverflowError:  # a range ending at 9999-12-31T23:59:59Z is not settled
        return None


def _gather(passes: KeyPasses, span: Span, limit: int, after: Keyset | None, filters: Filters,
            budget: ReadBudget) -> tuple[EventPage, plans.Choice] | None:
    """Go on with the range's shared pass; once it has ended (and the deadline leaves room), the page from its keys,
    else an empty page saying how far the pass has got, with Continue from the same place. None when the range has
    too many keys to hold (its pages are read as before)."""
    gathering, meter = passes.advance(span, filters, budget)
    if gathering.too_large:
        return None
    remaining = deadline.remaining()
    if gathering.ordered is not None and (remaining is None or remaining > PAGE_SECONDS):
        page = passes.page(gathering, span, limit, after)
        return (dataclasses.replace(page, calls=page.calls + meter.calls, scanned_count=meter.items_read,
                                    consumed_rcu=_sum(page.consumed_rcu, meter.rcu)), _choice(span, GATHERED))
    progress = EventPage(events=[], next_key=after if after is not None else _before(span), consumed_rcu=meter.rcu,
                         scanned_count=meter.items_read, calls=meter.calls, plan="range-scan", budget_spent=True)
    return progress, _choice(span, GATHERING.format(items=gathering.items_read, calls=gathering.calls,
                                                    keys=len(gathering.ordered or gathering.keys)))


def _choice(span: Span, reason: str) -> plans.Choice:
    return plans.Choice(plans.SCAN, reason, plans.fanout_estimate(_seconds(span)), None, fits=True)


def _sum(*units: float | None) -> float | None:
    known = [unit for unit in units if unit is not None]
    return sum(known) if known else None


def _before(span: Span) -> Keyset:
    """A place just before the range's first second in reading order, read whole: a page from it is the first."""
    step = timedelta(seconds=1 if span.descending else -1)
    return Keyset(times.format_stored(times.parse(span.end if span.descending else span.start) + step))


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
