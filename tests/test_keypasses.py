"""store/keypasses: a settled range's keys gathered by one Scan pass several requests share, pages served from them."""
from __future__ import annotations

from datetime import UTC, datetime

from dashboard.formats import times
from dashboard.store import Filters, Keyset, ReadBudget, Span, deadline
from dashboard.store.keypasses import KeyPasses
from tests import test_ranges
from tests.test_ranges import brute_force

events = test_ranges.events
DAY = Span("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z")
ROOMY = ReadBudget(300, 1_000_000)


def passes_of(table, **options) -> KeyPasses:
    return KeyPasses(table.clients.dynamodb, table.name, **options)


def walk(passes: KeyPasses, span: Span, filters: Filters, limit: int, after: Keyset | None = None) -> list[str]:
    gathered = passes.gathered(span, filters)
    assert gathered is not None
    ids: list[str] = []
    while True:
        page = passes.page(gathered, span, limit, after)
        assert len(page.events) <= limit and page.calls <= 1
        ids += [event.event_id for event in page.events]
        if page.next_key is None:
            return ids
        assert isinstance(page.next_key, Keyset) and page.events
        after = page.next_key


def test_a_pass_that_one_budget_cannot_finish_goes_on_where_the_last_request_stopped(table, events):
    passes = passes_of(table, most=40)
    filters = Filters(source="bucket-a")
    rounds = 0
    while passes.gathered(DAY, filters) is None:
        with deadline.started(300):
            gathering, meter = passes.advance(DAY, filters, ReadBudget(300, 0.1))  # one call a request
        assert meter.calls == 1
        rounds += 1
        assert rounds < 100
    assert rounds > 5 and gathering.calls == rounds
    wanted = brute_force(events, DAY.start, DAY.end, "asc", {"source": "bucket-a"})
    assert walk(passes, DAY, filters, 7) == wanted
    desc = Span(DAY.start, DAY.end, True)
    assert walk(passes, desc, filters, 7) == wanted[::-1]


def test_pages_of_a_narrower_range_resume_exactly_from_a_keyset_or_a_whole_second(table, events):
    passes = passes_of(table)
    passes.advance(DAY, Filters(), ROOMY)
    hour = Span("2024-01-01T11:00:00Z", "2024-01-01T12:00:59Z", True)
    wanted = brute_force(events, hour.start, hour.end, "desc", {})
    assert walk(passes, hour, Filters(), 25) == wanted
    assert passes.gathered(hour, Filters(event_type="test")) is None  # other filters: another pass
    busy = next(event["timestamp"] for event in events if sum(e["timestamp"] == event["timestamp"]
                                                              for e in events) > 100)
    for order, span in (("asc", Span(DAY.start, DAY.end)), ("desc", Span(DAY.start, DAY.end, True))):
        everything = brute_force(events, DAY.start, DAY.end, order, {})
        past = [e for e in everything if (_stamp(events, e) > busy if order == "asc" else _stamp(events, e) < busy)]
        assert walk(passes, span, Filters(), 30, Keyset(busy)) == past  # that second was read whole
        inside = [e for e in everything if _stamp(events, e) == busy]
        middle = Keyset(busy, inside[40])
        assert walk(passes, span, Filters(), 30, middle) == everything[everything.index(inside[40]) + 1:]


def _stamp(events: list[dict], event_id: str) -> str:
    return next(event["timestamp"] for event in events if event["event_id"] == event_id)


def test_a_pass_that_would_hold_more_keys_than_allowed_is_given_up_and_keeps_none(table, events):
    passes = passes_of(table, max_keys=10)
    gathering, _ = passes.advance(DAY, Filters(), ROOMY)
    assert gathering.too_large and gathering.keys == [] and passes.gathered(DAY, Filters()) is None
    assert not passes.started(DAY, Filters())
    again, meter = passes.advance(DAY, Filters(), ROOMY)
    assert again is gathering and meter.calls == 0  # never started again while it is kept


def test_passes_are_dropped_after_their_lifetime_and_past_the_cap_least_recently_used_first(table, events):
    now = [0.0]
    passes = passes_of(table, max_keys=len(events) + 10, clock=lambda: now[0])
    passes.advance(DAY, Filters(), ROOMY)
    passes.advance(DAY, Filters(source="bucket-a"), ROOMY)  # the keys of both exceed the cap: the older goes
    assert passes.gathered(DAY, Filters()) is None and passes.gathered(DAY, Filters(source="bucket-a")) is not None
    now[0] += 601
    assert passes.gathered(DAY, Filters(source="bucket-a")) is None


def test_only_a_settled_range_read_without_plan_and_with_canonical_timestamps_may_use_a_pass(table):
    from dashboard.questions.pagereads import _passes

    settled = Span("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z")
    assert _passes(table, settled, None, True) is table.passes is not None
    assert _passes(table, settled, "scan", True) is None and _passes(table, settled, "fanout", True) is None
    assert _passes(table, settled, None, False) is None  # the pass bounds timestamps as strings
    assert _passes(table, Span("2024-01-01T00:00:00Z", "9999-12-31T23:59:59Z"), None, True) is None
    now = times.format_stored(datetime.now(UTC))
    assert _passes(table, Span("2024-01-01T00:00:00Z", now), None, True) is None  # its last seconds may still fill
