"""Totals and timelines (/timeline, /api/timeline): equal to a brute-force count, bounded, cached only when settled."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from dashboard.app import create_app
from dashboard.app.demo import demo_events
from dashboard.questions import timeline
from dashboard.store import CountCache, Filters, Span, Table
from dashboard.store.counts import Counts
from tests import test_ranges
from tests.conftest import BURST, BURST_SIZE, DEMO_DAY, put_items, read_calls, settings_for
from tests.pages import fact, row_ids, walk
from tests.test_ranges import ALSO_DENSE, DENSE, body, brute_force

# The events of the range tests: two dense seconds (130 and 101 events), a busy window, sparse seconds all day.
events = test_ranges.events

RANGES = [  # (from, to): one dense second, a busy window with two dense seconds, a sparse hour, the whole day
    (DENSE, DENSE),
    ("2024-01-01T11:59:30Z", "2024-01-01T12:06:00Z"),
    ("2024-01-01T03:00:00Z", "2024-01-01T03:59:59Z"),
    ("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z"),
]
FILTER_SETS = [{}, {"source": "bucket-a"}, {"event_name": "ObjectRemoved:Delete", "key": "logs/"}]


@pytest.fixture
def app(table):
    """A budget no test here reaches unless it asks for one: moto on a busy machine must not end a count early."""
    flask_app = create_app(settings_for(table.name, READ_BUDGET_SECONDS=300, READ_BUDGET_RCU=1_000_000,
                                        DASHBOARD_DEADLINE_SECONDS=300), table=table)
    flask_app.config["TESTING"] = True
    return flask_app


def counted(client, **params) -> dict:
    return body(client.get("/api/timeline", query_string=params))


def total_on_page(page: str) -> int:
    match = re.search(r'data-total="(\d+)"', page)
    assert match, "the page states a total"
    return int(match.group(1))


def bar_links(page: str) -> list[tuple[str, int]]:
    """(href, count) of each bar of the chart."""
    return [(html.unescape(href), int(count)) for href, count in
            re.findall(r'<a href="([^"]*)" tabindex="-1" aria-hidden="true"\s+class="timeline-link[^"]*" '
                       r'data-bar="[^"]*" data-bar-count="(\d+)"', page)]


# ---------------------------------------------------------------------------- totals


# An hour of COUNT Queries takes a minute on moto: fan-out counts the dense second and the busy window, whose
# seconds are dense, sparse and empty; the scan plan counts every range.
RANGE_NAMES = ["dense-second", "busy-window", "sparse-hour", "day"]
PLAN_RANGES = [pytest.param(plan, *bounds, id=f"{plan}-{name}")
               for plan, count in (("fanout", 2), ("scan", 4)) for name, bounds in zip(RANGE_NAMES[:count],
                                                                                       RANGES[:count], strict=True)]


@pytest.mark.parametrize("filters", FILTER_SETS, ids=["unfiltered", "source", "name-and-key"])
@pytest.mark.parametrize(("plan", "start", "end"), PLAN_RANGES)
def test_a_range_total_and_its_bars_equal_a_brute_force_count(client, events, plan, filters, start, end):
    data = counted(client, **{"from": start, "to": end, "plan": plan, **filters})
    assert data["complete"] and data["plan"] == plan
    assert data["total"] == len(brute_force(events, start, end, "asc", filters))
    for bar in data["bars"]:
        assert bar["complete"] and bar["count"] == len(brute_force(events, bar["from"], bar["to"], "asc", filters))
    assert sum(bar["count"] for bar in data["bars"]) == data["total"]
    assert data["bars"][0]["from"] == start and data["bars"][-1]["to"] == end


@pytest.mark.parametrize("filters", [{}, {"event_type": "s3"}, {"source": "nobody"}])
def test_a_second_total_equals_a_brute_force_count_of_the_second(client, events, filters):
    for second in (DENSE, ALSO_DENSE, "2024-01-01T00:00:00Z"):
        page = client.get("/timeline", query_string={"timestamp": second, **filters}).get_data(as_text=True)
        assert total_on_page(page) == len(brute_force(events, second, second, "asc", filters))
        assert "in this second" in page


def test_the_demo_burst_second_says_how_many_events_it_holds(client, table):
    demo = list(demo_events(600, DEMO_DAY, seed=11))
    put_items(table, demo)
    page = client.get(f"/timeline?timestamp={BURST}").get_data(as_text=True)
    assert total_on_page(page) == BURST_SIZE == sum(event["timestamp"] == BURST for event in demo)
    assert f"{BURST_SIZE} events" in fact(page, "total")
    source = demo[0]["source"]
    filtered = counted(client, timestamp=BURST, source=source)
    assert filtered["total"] == sum(event["timestamp"] == BURST and event["source"] == source for event in demo)
    # The list page itself makes one Query and leaves the count to its own request.
    seen = read_calls(table)
    listing = client.get(f"/events?timestamp={BURST}").get_data(as_text=True)
    assert seen.count("Query") == 1 and "data-timeline-link" in listing


def test_a_count_pages_through_a_second_larger_than_one_answer(table):
    """A COUNT Query stops at 1 MB like any read: the count follows LastEvaluatedKey."""
    put_items(table, ({"event_id": f"big-{n:04}", "timestamp": DENSE, "pad": "x" * 9000} for n in range(150)))
    seen = read_calls(table)
    counts = table.counts.by_seconds(Span(DENSE, DENSE))
    assert counts.total == 150 and seen.count("Query") >= 2 and counts.calls == seen.count("Query")


# ---------------------------------------------------------------------------- buckets and bars


@pytest.mark.parametrize(("start", "end", "label", "bars"), [
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "second", 1),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:59Z", "second", 60),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:02:59Z", "second", 180),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:03:00Z", "minute", 4),
    ("2024-01-01T12:58:00Z", "2024-01-01T13:05:00Z", "minute", 8),
    ("2024-01-01T00:00:30Z", "2024-01-01T02:59:59Z", "minute", 180),
    ("2024-01-01T00:00:00Z", "2024-01-01T03:00:00Z", "hour", 4),
    ("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z", "hour", 24),
    ("2024-01-01T00:00:00Z", "2024-01-31T23:59:59Z", "day", 31),
    ("2024-01-01T00:00:00Z", "2025-12-31T23:59:59Z", "5 days", 147),
    ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "20368 days", 180),
])
def test_the_bucket_keeps_the_chart_to_at_most_180_bars_on_clock_boundaries(start, end, label, bars):
    bucket = timeline.bucket_for(start, end)
    made = timeline.bars(start, end, bucket, Counts({}, 0, True, 0, None, 0, 0, "fanout"))
    assert bucket.label == label and len(made) == bars <= timeline.MAX_BARS
    assert made[0].start == start and made[-1].end == end
    for before, after in zip(made, made[1:], strict=False):
        assert timeline.epoch(after.start) == timeline.epoch(before.end) + 1
        assert timeline.epoch(after.start) % bucket.seconds == 0


def test_bars_of_a_partly_counted_range_say_which_ones_are_complete():
    counts = Counts({"2024-01-01T00:00:00Z": 3, "2024-01-01T00:00:01Z": 0, "2024-01-01T00:01:00Z": 2}, 3, False,
                    3, 1.5, 5, 0, "fanout")
    made = timeline.bars("2024-01-01T00:00:00Z", "2024-01-01T00:03:30Z", timeline.Bucket(60, "minute"), counts)
    assert [(bar.count, bar.complete) for bar in made] == [(3, False), (2, False), (0, False), (0, False)]
    whole = Counts({"2024-01-01T00:00:58Z": 1, "2024-01-01T00:00:59Z": 4}, 2, False, 2, 1.0, 5, 0, "fanout")
    first = timeline.bars("2024-01-01T00:00:58Z", "2024-01-01T00:01:30Z", timeline.Bucket(60, "minute"), whole)
    assert [(bar.count, bar.complete) for bar in first] == [(5, True), (0, False)]


# ---------------------------------------------------------------------------- the page


def test_a_bar_link_narrows_the_range_and_the_narrowed_total_equals_the_bar(client, events):
    start, end = "2024-01-01T11:59:30Z", "2024-01-01T12:06:00Z"
    query = f"from={start}&to={end}&limit=50&order=desc&source=bucket-a&plan=fanout"
    page = client.get(f"/timeline?{query}").get_data(as_text=True)
    links = bar_links(page)
    assert len(links) == 8 and sum(count for _, count in links) == total_on_page(page)
    for href, count in links:
        assert "limit=50" in href and "order=desc" in href and "source=bucket-a" in href and "plan=fanout" in href
        narrowed = client.get(href.replace("/events?", "/timeline?")).get_data(as_text=True)
        assert total_on_page(narrowed) == count
        rows = [row for _, ids in walk(client, href) for row in ids]
        assert len(rows) == count
    # The data table offers the same links, for keyboards and screen readers.
    table_links = [html.unescape(href) for href in re.findall(r'<a href="([^"]*)" data-bar-link=', page)]
    assert table_links == [href for href, _ in links]


def test_the_chart_has_a_title_a_description_and_a_table_to_read_instead(client, events):
    page = client.get("/timeline?from=2024-01-01T11:59:30Z&to=2024-01-01T12:06:00Z").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S)
    assert svg and 'role="group"' in svg.group(0)
    title = re.search(r'<title id="([^"]+)">(.*?)</title>', svg.group(0))
    desc = re.search(r'<desc id="([^"]+)">(.*?)</desc>', svg.group(0), re.S)
    assert title and desc and f'aria-labelledby="{title.group(1)} {desc.group(1)}"' in svg.group(0)
    assert title.group(2).startswith("Events per minute from 2024-01-01T11:59:30Z")
    total = len(brute_force(events, "2024-01-01T11:59:30Z", "2024-01-01T12:06:00Z", "asc", {}))
    assert desc.group(2).startswith(f"8 bars, {total} events in all; the busiest minute, from 2024-01-01T12:00:00Z")
    assert "style=" not in page and "<script" not in page.split("</header>")[1]
    details = re.search(r'<details class="timeline-data">.*?</details>', page, re.S)
    assert details and details.group(0).count("<tr>") == 1 + 8 and "<caption>" in details.group(0)


def test_the_list_page_loads_its_timeline_apart_and_paging_keeps_it(client, events):
    url = "/events?from=2024-01-01T11:59:30Z&to=2024-01-01T12:06:00Z&limit=25"
    seen_pages = walk(client, url, limit=3)
    slots = set()
    for page_url, _ in seen_pages:
        fragment = client.get(page_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        slot = re.search(r'<section id="(timeline-[0-9a-f]+)"[^>]*hx-preserve="true"[^>]*'
                         r'hx-get="([^"]*)" hx-trigger="load"', fragment)
        assert slot, "each page's fragment carries the timeline's slot, to be kept (hx-preserve)"
        slots.add((slot.group(1), html.unescape(slot.group(2))))
        assert "<svg" not in fragment  # counted in the timeline's own request, never here
    (slot_id, timeline_url), = slots
    assert timeline_url.startswith("/timeline?") and "cursor" not in timeline_url
    assert f'id="{slot_id}"' in client.get(timeline_url).get_data(as_text=True)
    other = client.get("/events?from=2024-01-01T11:59:30Z&to=2024-01-01T12:06:01Z").get_data(as_text=True)
    assert slot_id not in other and "data-timeline-link" in other
    assert "data-timeline" not in client.get("/events").get_data(as_text=True)


def test_the_timeline_page_links_back_to_its_events_without_javascript(client, events):
    page = client.get("/events?timestamp=2024-01-01T12:00:00Z&source=bucket-b").get_data(as_text=True)
    link = re.search(r'<a href="([^"]*)" data-timeline-link>', page)
    assert link
    counted_page = client.get(html.unescape(link.group(1)))
    assert counted_page.status_code == 200 and "<html" in counted_page.get_data(as_text=True)
    back = re.search(r'<a href="([^"]*)" data-back-to-events>', counted_page.get_data(as_text=True))
    assert back and row_ids(client.get(html.unescape(back.group(1))).get_data(as_text=True))


@pytest.mark.parametrize(("query", "message"), [
    ("", "a timeline needs a time range"),
    ("from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z", "is after"),
    ("timestamp=soon", "not understood"),
])
def test_a_timeline_of_nothing_or_of_a_bad_range_is_400(offline_client, query, message):
    for path in ("/timeline", "/api/timeline"):
        response = offline_client.get(f"{path}?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_timeline_on_a_dead_backend_is_a_503_not_a_traceback(offline_client):
    response = offline_client.get("/timeline?timestamp=2024-01-01T00:00:00Z")
    assert response.status_code == 503 and "Traceback" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


# ---------------------------------------------------------------------------- bounded


def test_a_range_too_long_to_count_within_the_budget_says_how_much_was_counted(table, events):
    app = create_app(settings_for(table.name, READ_BUDGET_RCU=20), table=table)
    page = app.test_client().get("/timeline?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z&plan=fanout")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    stated = re.search(r"counted ([\d,]+) of 86,400 seconds", text)
    assert stated, "the page says how much of the range was counted"
    counted_seconds = int(stated.group(1).replace(",", ""))
    assert 16 <= counted_seconds < 86_400
    assert fact(text, "total").startswith("At least")
    data = body(app.test_client().get("/api/timeline?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z"
                                      "&plan=fanout"))
    assert not data["complete"] and data["seconds_counted"] < 86_400 and data["consumed_capacity"] >= 20
    assert data["total"] == len(brute_force(events, "2024-01-01T00:00:00Z",
                                            timeline.stored(timeline.epoch("2024-01-01T00:00:00Z")
                                                            + data["seconds_counted"] - 1), "asc", {}))
    # Counted in the order shown: newest first counts the end of the day.
    newest = body(app.test_client().get("/api/timeline?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z"
                                        "&plan=fanout&order=desc"))
    first_counted = timeline.stored(timeline.epoch("2024-01-01T23:59:59Z") - newest["seconds_counted"] + 1)
    assert not newest["complete"]
    assert newest["total"] == len(brute_force(events, first_counted, "2024-01-01T23:59:59Z", "asc", {}))


def test_a_scan_count_stopped_by_the_budget_says_its_counts_are_at_least(table, events, monkeypatch):
    monkeypatch.setattr(table.counts, "scan_page", 50)
    partial = table.counts.by_scan(Span("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z"), None,
                                   budget_of(rcu=1), timestamps_canonical=True)
    assert not partial.complete and partial.total < len(events)
    page = app_with_budget(table, 1).get("/timeline?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z&plan=scan")
    assert "the Scan read" in page.get_data(as_text=True)
    whole = table.counts.by_scan(Span("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z"), None, budget_of(rcu=10_000))
    assert whole.complete and whole.total == len(events) and whole.calls > 4 * 2


def budget_of(rcu: float):
    from dashboard.store import ReadBudget
    return ReadBudget(300, rcu)


def app_with_budget(table: Table, rcu: float):
    return create_app(settings_for(table.name, READ_BUDGET_RCU=rcu), table=table).test_client()


# ---------------------------------------------------------------------------- the cache


def test_settled_seconds_are_counted_once_and_then_read_from_the_cache(client, table, events):
    query = {"from": "2024-01-01T12:04:00Z", "to": "2024-01-01T12:05:59Z", "plan": "fanout"}
    first = counted(client, **query)
    seen = read_calls(table)
    again = counted(client, **query)
    assert seen.count("Query") == 0 and again["calls"] == 0 and again["from_cache"] == 120
    assert again["total"] == first["total"] and again["bars"] == first["bars"]
    # Filters are part of the key: a filtered count is asked of DynamoDB.
    counted(client, **query, source="bucket-a")
    assert seen.count("Query") == 120
    page = client.get("/timeline", query_string=query).get_data(as_text=True)
    assert "may be up to 1 min old" in page and "older than 5 min" in page


def test_recent_seconds_are_always_asked_again(client, table):
    now = datetime.now(UTC).replace(microsecond=0)
    recent = timeline.stored(timeline.epoch(now.strftime("%Y-%m-%dT%H:%M:%SZ")) - 10)
    put_items(table, ({"event_id": f"now-{n}", "timestamp": recent} for n in range(3)))
    counted(client, timestamp=recent)
    seen = read_calls(table)
    assert counted(client, timestamp=recent)["total"] == 3 and seen.count("Query") == 1
    scan_query = {"from": recent, "to": recent, "plan": "scan"}
    counted(client, **scan_query)  # and, once a process, the sample that says whether timestamps are canonical
    scans = read_calls(table)
    assert counted(client, **scan_query)["from_cache"] == 0 and scans.count("Scan") == 4  # one call per segment


def test_a_cached_count_expires_after_its_time_and_the_cache_stays_bounded():
    now = [datetime(2024, 6, 1, tzinfo=UTC).timestamp()]
    cache = CountCache(ttl_seconds=60, settled_seconds=300, size=3, clock=lambda: now[0])
    old, recent = "2024-05-31T00:00:00Z", timeline.stored(int(now[0]) - 100)
    key = ("t-events", Filters(), old)
    cache.put(key, 7)
    cache.put(("t-events", Filters(), recent), 2)
    assert cache.get(key) == 7 and cache.get(("t-events", Filters(), recent)) is None
    assert cache.get(("other-events", Filters(), old)) is None  # keyed by table
    assert cache.get(("t-events", Filters(source="b"), old)) is None  # and by filters
    now[0] += 59.9
    assert cache.get(key) == 7
    now[0] += 0.2
    assert cache.get(key) is None
    for n in range(5):
        cache.put(("t-events", Filters(), f"2024-05-31T00:00:0{n}Z"), n)
    assert len(cache) == 3 and cache.get(("t-events", Filters(), "2024-05-31T00:00:00Z")) is None
    assert cache.get(("t-events", Filters(), "2024-05-31T00:00:04Z")) == 4


def test_entries_whose_time_is_out_leave_the_cache_when_more_is_stored():
    """Memory holds what was read in the last ttl_seconds, not `size` entries forever: with room for 100,000, a
    stream of new seconds keeps about a minute's worth."""
    now = [datetime(2024, 6, 1, tzinfo=UTC).timestamp()]
    cache = CountCache(ttl_seconds=60, settled_seconds=300, size=100_000, clock=lambda: now[0])
    second = datetime(2024, 5, 1, tzinfo=UTC)
    for n in range(480):  # eight stored a second, for a minute
        cache.put(("t-events", Filters(), timeline.stored(int(second.timestamp()) + n)), n)
        now[0] += 0.125
    assert len(cache) == 480
    first_of_them = ("t-events", Filters(), timeline.stored(int(second.timestamp())))
    read_again = ("t-events", Filters(), timeline.stored(int(second.timestamp()) + 300))
    assert cache.get(read_again) == 300  # being read does not keep an entry longer than its time
    for n in range(480, 960):  # another minute
        cache.put(("t-events", Filters(), timeline.stored(int(second.timestamp()) + n)), n)
        now[0] += 0.125
    assert len(cache) == 480
    assert cache.get(first_of_them) is None and cache.get(read_again) is None
    # A minute on, the next entry stored finds every earlier one out; stored again, an entry starts its time anew.
    now[0] += 60
    cache.put(first_of_them, 1)
    assert len(cache) == 1
    now[0] += 59
    cache.put(("t-events", Filters(), "2024-04-01T00:00:00Z"), 2)
    assert cache.get(first_of_them) == 1 and len(cache) == 2


def test_the_cache_settings_are_read_from_the_environment():
    settings = settings_for("t-events", COUNTS_CACHE_SECONDS=30, COUNTS_SETTLED_SECONDS=120, COUNTS_CACHE_SIZE=10)
    table = Table.open(settings)
    assert (table.counts.cache.ttl_seconds, table.counts.cache.settled_seconds, table.counts.cache.size) == (
        30, 120, 10)
