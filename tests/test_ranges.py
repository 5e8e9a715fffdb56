"""Time ranges through /api/events and /events: item for item the same as a brute-force read of the whole table."""
from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import simplejson
from hypothesis import HealthCheck, given, settings, strategies as st

from dashboard.app import create_app
from dashboard.store import events as store_events
from tests.conftest import put_items, read_calls, settings_for
from tests.pages import fact, link, row_ids, walk

DAY = datetime(2024, 1, 1, tzinfo=UTC)
DENSE = "2024-01-01T12:00:00Z"  # 130 events: more than one answer of a page, more than any page
ALSO_DENSE = "2024-01-01T12:05:30Z"  # 101 events
# Fan-out reads one Query per second, and moto answers one in a few ms: its examples stay near the busy window.
BUSY_START = DAY + timedelta(hours=11, minutes=58)
FILTERS = {
    "event_type": ["s3", "test"],
    "source": ["bucket-a", "bucket-b"],
    "event_name": ["ObjectCreated:Put", "ObjectRemoved:Delete"],
    "key": ["logs/", "logs/app/", "img"],
}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_events(seed: int = 5) -> list[dict]:
    """Dense seconds, a busy ten minutes and sparse events over the whole day, with attributes to filter on."""
    rng = random.Random(seed)
    moments = [DENSE] * 130 + [ALSO_DENSE] * 101
    moments += [stamp(BUSY_START + timedelta(seconds=rng.randrange(14 * 60))) for _ in range(150)]
    moments += [stamp(DAY + timedelta(seconds=rng.randrange(86400))) for _ in range(60)]
    events = []
    for n, moment in enumerate(moments):
        events.append({
            "event_id": f"ev-{rng.getrandbits(40):010x}-{n}",
            "timestamp": moment,
            "event_type": rng.choice(FILTERS["event_type"]),
            "source": rng.choice(FILTERS["source"]),
            "event_name": rng.choice(FILTERS["event_name"]),
            "key": rng.choice(["logs/app/1.json", "logs/web/2.json", "img/a.png", "docs/x.pdf"]),
        })
    return events


def brute_force(events: list[dict], start: str, end: str, order: str, filters: dict[str, str]) -> list[str]:
    """The range read the slow, obvious way: everything, filtered and sorted in Python."""
    def matches(event: dict) -> bool:
        return start <= event["timestamp"] <= end and all(
            event.get(name, "").startswith(value) if name == "key" else event.get(name) == value
            for name, value in filters.items())
    chosen = sorted((event for event in events if matches(event)), key=lambda e: (e["timestamp"], e["event_id"]),
                    reverse=order == "desc")
    return [event["event_id"] for event in chosen]


def body(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return simplejson.loads(response.get_data(as_text=True), use_decimal=True)


def api_walk(client, **params) -> tuple[list[str], list[dict]]:
    """Every page of /api/events from the first, following next_cursor: the ids in order, and each page."""
    ids, pages, cursor = [], [], None
    while True:
        data = body(client.get("/api/events", query_string={**params, **({"cursor": cursor} if cursor else {})}))
        pages.append(data)
        ids += [item["event_id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            return ids, pages
        assert len(pages) < 500


@pytest.fixture
def app(table):
    """Pages that end only when full: moto on a busy machine must not hit the time budget in these tests."""
    flask_app = create_app(settings_for(table.name, READ_BUDGET_SECONDS=300), table=table)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def events(table) -> list[dict]:
    made = make_events()
    put_items(table, made)
    return made


def check_range(client, events, start: datetime, seconds: int, plan: str, order: str, filters: dict, limit: int):
    params = {"from": stamp(start), "to": stamp(start + timedelta(seconds=seconds - 1)), "order": order,
              "plan": plan, "limit": limit, **filters}
    ids, pages = api_walk(client, **params)
    assert ids == brute_force(events, params["from"], params["to"], order, filters)
    for page in pages:
        assert page["plan"] == ("fanout" if plan == "fanout" else "range-scan")
        assert len(page["items"]) <= limit
    # Only a page that stopped on its budget may be short while more follows; the budget is not reached here.
    assert all(len(page["items"]) == limit for page in pages[:-1])


filter_choice = st.dictionaries(st.sampled_from(sorted(FILTERS)), st.just(None), max_size=2).flatmap(
    lambda chosen: st.fixed_dictionaries({name: st.sampled_from(FILTERS[name]) for name in chosen}))


# The scan plan reads the whole table for every page: few, larger pages keep this within a minute on moto.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, 86399), seconds=st.sampled_from([1, 2, 7, 60, 900, 3600, 6 * 3600, 86400]),
       order=st.sampled_from(["asc", "desc"]), filters=filter_choice, limit=st.sampled_from([30, 100]))
def test_scan_plan_ranges_equal_a_brute_force_read(client, events, offset, seconds, order, filters, limit):
    start = DAY + timedelta(seconds=offset) if offset % 3 else BUSY_START + timedelta(seconds=offset % 900)
    check_range(client, events, start, seconds, "scan", order, filters, limit)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, 14 * 60), seconds=st.sampled_from([1, 2, 5, 31, 60, 240]),
       order=st.sampled_from(["asc", "desc"]), filters=filter_choice, limit=st.sampled_from([1, 7, 25, 100]))
def test_fanout_plan_ranges_equal_a_brute_force_read(client, events, offset, seconds, order, filters, limit):
    check_range(client, events, BUSY_START + timedelta(seconds=offset), seconds, "fanout", order, filters, limit)


@pytest.mark.parametrize("plan", ["fanout", "scan"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_second_of_more_than_100_events_pages_in_id_order_under_both_plans(client, events, plan, order):
    ids, pages = api_walk(client, **{"from": DENSE, "to": DENSE, "plan": plan, "order": order, "limit": 100})
    assert ids == brute_force(events, DENSE, DENSE, order, {}) and len(ids) == 130
    assert [len(page["items"]) for page in pages] == [100, 30]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_whole_day_under_fanout_reads_only_the_seconds_its_pages_need(table, order):
    # Walking all 86,400 seconds is left to the scan plan's tests: here the events sit at both ends of the day.
    day = [{"event_id": f"early-{n}", "timestamp": f"2024-01-01T00:00:0{n}Z"} for n in range(4)]
    day += [{"event_id": f"late-{n}", "timestamp": f"2024-01-01T23:59:5{n + 6}Z"} for n in range(4)]
    put_items(table, day)
    client = budget_client(table, READ_BUDGET_SECONDS="0.5")
    query: dict[str, Any] = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T23:59:59Z", "plan": "fanout",
                             "order": order, "limit": 3}
    whole = brute_force(day, query["from"], query["to"], order, {})
    first = body(client.get("/api/events", query_string=query))
    assert [item["event_id"] for item in first["items"]] == whole[:3] and first["calls"] == 3
    following = body(client.get("/api/events", query_string={**query, "cursor": first["next_cursor"]}))
    # The rest of the day is quiet: the page shows what it found and stops on its budget, offering Continue.
    assert [item["event_id"] for item in following["items"]] == whole[3:4]
    assert following["budget_spent"] and following["next_cursor"]


def test_html_pages_of_a_range_follow_next_and_prev_and_bookmarks(app, events):
    client = app.test_client()
    start, end = "2024-01-01T11:59:50Z", "2024-01-01T12:05:40Z"
    pages = walk(client, f"/events?from={start}&to={end}&limit=50&plan=fanout")
    assert [event_id for _, rows in pages for event_id in rows] == brute_force(events, start, end, "asc", {})
    for (_, earlier_rows), (url, _) in itertools.pairwise(pages):
        other = app.test_client()  # a bookmark opened elsewhere
        page = other.get(url).get_data(as_text=True)
        assert row_ids(page) == dict(pages)[url]
        assert row_ids(other.get(link(page, "prev")).get_data(as_text=True)) == earlier_rows


def test_a_one_minute_range_costs_at_most_one_query_per_second_and_no_scan(client, table, events):
    # With 1,441 items a Scan (about 71 RCU) costs more than 60 Queries (30 RCU): the estimate picks fan-out.
    put_items(table, ({"event_id": f"other-{n}", "timestamp": "2023-05-05T05:05:05Z"} for n in range(1000)))
    query: dict[str, Any] = {"from": "2024-01-01T12:00:00Z", "to": "2024-01-01T12:00:59Z", "limit": 100}
    client.get("/api/events", query_string=query)  # the canonical-timestamp sample and item count, once a process
    seen = read_calls(table)
    ids, pages = api_walk(client, **query)
    assert {page["plan"] for page in pages} == {"fanout"}
    # Each page reads at most the range's seconds; a second split between two pages is read by both.
    assert "Scan" not in seen and seen.count("Query") <= 60 + len(pages) - 1, seen
    assert all(page["calls"] <= 60 for page in pages)
    assert sum(page["calls"] for page in pages) == seen.count("Query")
    assert ids == brute_force(events, query["from"], query["to"], "asc", {})


def test_every_range_page_states_its_plan_calls_cost_and_reads(client, events):
    page = client.get("/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:10Z&plan=fanout").get_data(as_text=True)
    assert fact(page, "plan").startswith("Fan-out: one Query per second")
    assert int(fact(page, "calls")) >= 1
    assert fact(page, "consumed-rcu").endswith("RCU")
    assert int(fact(page, "items-read").replace(",", "")) >= 25
    assert fact(page, "item-count").startswith("≈ 441")
    scan = client.get("/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:10Z&plan=scan").get_data(as_text=True)
    assert fact(scan, "plan").startswith("Parallel Scan of the whole table")
    assert "the whole table, every page" in fact(scan, "items-read")
    assert row_ids(scan) == row_ids(page)


def test_the_cheaper_plan_is_chosen_when_none_is_asked(client, events):
    # 441 small items: a Scan is about 44 × 0.5 RCU, cheaper than a Query per second beyond 88 seconds.
    short = body(client.get("/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:09Z"))
    long = body(client.get("/api/events?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z"))
    assert short["plan"] == "fanout" and long["plan"] == "range-scan"
    # Priced for the page (issue 27), not the whole day: the Queries that fill 25 events where the day holds 441.
    assert 86400 > long["estimates"]["fanout"]["calls"] > 86400 * 25 / 441 / 2
    assert long["estimates"]["scan"]["rcu"] < long["estimates"]["fanout"]["rcu"]


def test_non_canonical_timestamps_refuse_fanout_and_the_scan_stays_exact(client, table):
    put_items(table, [
        {"event_id": "a", "timestamp": "2024-01-01T12:00:00Z"},
        {"event_id": "b", "timestamp": "2024-01-01T13:30:00+01:00"},  # 12:30:00 UTC
        {"event_id": "c", "timestamp": "2024-01-01T12:59:59.750Z"},
        {"event_id": "d", "timestamp": "2024-01-01T13:00:01Z"},
    ])
    refused = client.get("/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T13:00:00Z&plan=fanout")
    assert refused.status_code == 400 and "not a canonical whole second" in body_any(refused)["message"]
    data = body(client.get("/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T13:00:00Z"))
    assert data["plan"] == "range-scan" and [item["event_id"] for item in data["items"]] == ["a", "b", "c"]


def body_any(response):
    return simplejson.loads(response.get_data(as_text=True))


def test_configuration_can_allow_or_refuse_fanout_without_a_sample(table):
    from dashboard.store import Table
    assert Table.on(table.clients, table.name, "no").ranges.fanout_allowed()[0] is False
    seen = read_calls(table)
    assert Table.on(table.clients, table.name, "yes").ranges.fanout_allowed()[0] is True
    assert seen == []


@pytest.mark.parametrize("query,message", [
    ("from=2024-01-01T12:00:00Z", "needs both from and to"),
    ("to=2024-01-01T12:00:00Z", "needs both from and to"),
    ("from=yesterday&to=2024-01-01T12:00:00Z", "from: timestamp 'yesterday' is not understood"),
    ("from=2024-01-01T12:00:00Z&to=soon", "to: timestamp 'soon' is not understood"),
    ("from=2024-01-01T12:00:01Z&to=2024-01-01T12:00:00Z", "is after to"),
    ("from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:01Z&order=newest", "order must be asc"),
    ("from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:01Z&plan=magic", "plan must be fanout, scan or auto"),
    ("from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:01Z&timestamp=2024-01-01T12:00:00Z", "not both"),
    ("from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:01Z&limit=101", "limit must be"),
])
@pytest.mark.parametrize("path", ["/events", "/api/events"])
def test_bad_range_parameters_are_400_with_a_message(offline_client, path, query, message):
    response = offline_client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_range_cursor_is_refused_on_another_range(client, events):
    data = body(client.get("/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:00Z&limit=5"))
    other = client.get("/api/events", query_string={"from": "2024-01-01T12:00:00Z", "to": "2024-01-01T12:00:01Z",
                                                    "limit": 5, "cursor": data["next_cursor"]})
    assert other.status_code == 400 and "another listing" in body_any(other)["message"]
    reversed_order = client.get("/api/events", query_string={"from": "2024-01-01T12:00:00Z",
                                                             "to": "2024-01-01T12:00:00Z", "order": "desc",
                                                             "limit": 5, "cursor": data["next_cursor"]})
    assert reversed_order.status_code == 400


def test_bounds_in_any_iso_form_name_the_same_range(client, events):
    plain = body(client.get("/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:01:00Z&limit=100"))
    offset = body(client.get("/api/events", query_string={"from": "2024-01-01 14:00:00+02:00",
                                                          "to": "2024-01-01t12:01:00z", "limit": 100}))
    assert offset["range"] == plain["range"] == {"from": "2024-01-01T12:00:00Z", "to": "2024-01-01T12:01:00Z",
                                                 "order": "asc", "seconds": 61}
    assert offset["items"] == plain["items"]


# ---------------------------------------------------------------------------- filters and the budget


def budget_client(table, **overrides):
    app = create_app(settings_for(table.name, **overrides), table=table)
    app.config["TESTING"] = True
    return app.test_client()


def test_a_sparse_filter_on_the_plain_list_reaches_every_match_through_continue(table, events, monkeypatch):
    monkeypatch.setattr(store_events, "FILTERED_READ_SIZE", 20)
    client = budget_client(table, READ_BUDGET_RCU="0.5")
    wanted = sorted(event["event_id"] for event in events if event["key"].startswith("docs/")
                    and event["source"] == "bucket-a")
    pages = walk(client, "/events?key=docs/&source=bucket-a&limit=10")
    shown = [event_id for _, rows in pages for event_id in rows]
    assert sorted(shown) == wanted and len(shown) == len(set(shown))
    texts = [client.get(url).get_data(as_text=True) for url, _ in pages]
    stopped = [text for text in texts if "data-budget-spent" in text]
    assert stopped, "the tiny budget stopped some pages before they were full"
    for text in stopped:
        assert link(text, "next") is not None and "Continue reading" in text
        assert "of about 441 items" in fact(text, "budget-spent").replace(",", "")
        assert "<progress" in text


def test_a_sparse_filter_over_a_range_reaches_every_match_through_continue(table, events):
    client = budget_client(table, READ_BUDGET_RCU="20")
    query: dict[str, Any] = {"from": "2024-01-01T11:58:00Z", "to": "2024-01-01T12:11:59Z", "plan": "fanout", "limit": 4,
             "event_name": "ObjectRemoved:Delete", "key": "img", "source": "bucket-b"}
    ids, pages = api_walk(client, **query)
    assert ids == brute_force(events, query["from"], query["to"], "asc",
                              {name: query[name] for name in ("event_name", "key", "source")})
    spent = [page for page in pages if page["budget_spent"]]
    assert spent and all(page["next_cursor"] for page in spent)
    assert all(len(page["items"]) == 4 or page["budget_spent"] for page in pages[:-1])
    assert pages[-1]["read_so_far"] == sum(page["items_read"] for page in pages)


def test_a_sparse_filter_over_a_whole_day_reaches_every_match_and_no_page_is_empty_before_the_end(table, events):
    # 441 items: the estimate reads a whole day with the scan plan, one read of the table per page.
    client = budget_client(table, READ_BUDGET_RCU="0.5")
    filters = {"event_name": "ObjectRemoved:Delete", "key": "docs/", "source": "bucket-a"}
    url = "/events?from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z&limit=5&" + "&".join(
        f"{name}={value}" for name, value in filters.items())
    pages = walk(client, url)
    wanted = brute_force(events, "2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z", "asc", filters)
    assert len(wanted) > 5 and [event_id for _, rows in pages for event_id in rows] == wanted
    assert all(rows for _, rows in pages[:-1])
    assert fact(client.get(pages[0][0]).get_data(as_text=True), "plan").startswith("Parallel Scan")


def test_filters_combine_with_one_second_and_keep_its_single_query_unfiltered(client, table, events):
    client.get("/events?timestamp=" + DENSE)
    seen = read_calls(table)
    plain = client.get("/events?timestamp=" + DENSE + "&limit=100").get_data(as_text=True)
    assert seen == ["Query"] and len(row_ids(plain)) == 100
    seen.clear()
    ids, _ = api_walk(client, timestamp=DENSE, event_type="test", limit=100)
    assert sorted(ids) == sorted(brute_force(events, DENSE, DENSE, "asc", {"event_type": "test"}))
    assert set(seen) == {"Query"}


def test_a_filter_value_is_an_expression_value_never_text(client, table):
    put_items(table, [{"event_id": "q", "timestamp": DENSE, "source": "x) OR (#n0 = :v0", "key": "a\"b"}])
    data = body(client.get("/api/events", query_string={"source": "x) OR (#n0 = :v0"}))
    assert [item["event_id"] for item in data["items"]] == ["q"]
    assert body(client.get("/api/events", query_string={"key": "a\""}))["items"][0]["event_id"] == "q"
    assert body(client.get("/api/events", query_string={"key": "b"}))["items"] == []


def test_the_list_page_offers_quick_ranges_and_a_range_form(client, events):
    page = client.get("/events").get_data(as_text=True)
    for minutes in (5, 15, 60):
        assert f'data-quick-range="Last {minutes} min"' in page
    assert 'name="from"' in page and 'name="to"' in page and 'name="event_type"' in page


def test_an_event_page_links_to_the_minutes_around_it(client, table):
    put_items(table, [{"event_id": "mid", "timestamp": "2024-01-01T12:00:00Z"}])
    page = client.get("/events/mid").get_data(as_text=True)
    assert "from=2024-01-01T11:59:00Z&amp;to=2024-01-01T12:01:00Z" in page
    assert "from=2024-01-01T11:55:00Z&amp;to=2024-01-01T12:05:00Z" in page


def test_an_empty_range_says_so(client, events):
    page = client.get("/events?from=2023-01-01T00:00:00Z&to=2023-01-01T00:00:05Z").get_data(as_text=True)
    assert "No events from 2023-01-01T00:00:00Z to 2023-01-01T00:00:05Z" in fact(page, "empty")
    assert link(page, "next") is None



@pytest.mark.parametrize("plan", ["fanout", "scan", "auto"])
def test_a_range_on_a_dead_backend_is_a_503_not_a_traceback(offline_client, plan):
    response = offline_client.get(f"/api/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:00:09Z&plan={plan}")
    assert response.status_code == 503 and "Traceback" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


@pytest.mark.parametrize("query", [
    "from=9999-12-31T23:59:50Z&to=9999-12-31T23:59:59Z&plan=fanout",
    "from=0001-01-01T00:00:00Z&to=0001-01-01T00:00:09Z&plan=fanout&order=desc",
    "from=0999-01-01T00:00:00Z&to=0999-01-01T00:00:09Z&plan=scan",
    "from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
])
def test_ranges_at_the_edges_of_time_answer_without_overflowing(client, table, query):
    put_items(table, [{"event_id": "a", "timestamp": "2024-01-01T00:00:00Z"}])
    data = body(client.get("/api/events?" + query))
    assert data["items"] == ([{"event_id": "a", "timestamp": "2024-01-01T00:00:00Z"}]
                             if query.startswith("from=0001") and "9999" in query else [])
